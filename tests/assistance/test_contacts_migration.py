"""联系记录 moved from ``registry`` to ``assistance`` (issue 17) without moving a row: a contact written under the old
migrations is read, unchanged, through the new model after migrating forward (and the content type follows)."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import VILLAGE
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from factories import household

from fangfan.assistance.models import ContactRecord

pytestmark = pytest.mark.usefixtures("audit_triggers_back")

BEFORE = [("registry", "0019_household_monitored_index"), ("assistance", "0003_funds_and_consumption")]


def _migrate(targets=None) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return executor


def test_a_contact_of_the_old_registry_survives_the_move(committed_db, users):
    home = household(VILLAGE)
    helper = users["helper"]
    try:
        executor = _migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps
        OldContact = old.get_model("registry", "ContactRecord")
        assert OldContact._meta.db_table == "registry_contactrecord"
        row = OldContact.objects.create(
            household_id=home.pk,
            contacted_on=date(2026, 11, 3),
            way="phone",
            living="生活正常",
            risks="",
            needs="想学电商",
            risk_found=True,
            recorded_by_id=helper.pk,
        )
        assert ContentType.objects.filter(app_label="registry", model="contactrecord").exists()
    finally:
        _migrate()

    moved = ContactRecord.objects.unscoped().get(pk=row.pk)
    assert (moved.household_id, moved.contacted_on, moved.way) == (home.pk, date(2026, 11, 3), "phone")
    assert (moved.living, moved.needs, moved.risk_found, moved.recorded_by_id) == (
        "生活正常",
        "想学电商",
        True,
        helper.pk,
    )
    assert [c.pk for c in home.contacts.all()] == [row.pk]  # the household's reverse accessor is unchanged
    assert ContentType.objects.filter(app_label="assistance", model="contactrecord").exists()
    assert not ContentType.objects.filter(app_label="registry", model="contactrecord").exists()
