"""Every member carries its household's village (``Member.household_region``, kept by the triggers of registry
migration 0010): whatever writes members or households — the ORM, the services' composition changes, the
importer, the demo, the bulk helpers, a stale ``save()`` — the column equals the household's, on SQLite and
PostgreSQL alike. The list's search reads it from the name indexes instead of looking up each household."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest
from conftest import NEIGHBOUR_VILLAGE, OTHER_VILLAGE, VILLAGE, operator
from db_triggers import trigger_names
from django.db import transaction
from django.db.models import F
from registry_factory import make_household, make_id

sys.path.insert(0, str(Path(__file__).parent))
from test_import import member_row, sample, write_csv_pair  # noqa: E402

from fangfan.core.crypto import encrypt_text  # noqa: E402
from fangfan.registry import bulkdb, services  # noqa: E402
from fangfan.registry.importing.households import households_import  # noqa: E402
from fangfan.registry.models import Household, Member  # noqa: E402

pytestmark = pytest.mark.django_db
TRIGGERS = {
    "registry_member_region_insert",
    "registry_member_region_move",
    "registry_household_region_members",
    "registry_household_count_insert",
    "registry_household_count_update",
    "registry_household_count_delete",
}


def mismatched() -> list[tuple]:
    return list(
        Member.objects.exclude(household_region=F("household__region_id")).values_list(
            "pk", "household_region", "household__region_id"
        )
    )


@pytest.fixture
def home(regions):
    return make_household(
        "R-1", VILLAGE, members=[("甲", date(1970, 1, 1), "户主"), ("乙", date(1972, 1, 1), "配偶")]
    )


def test_every_trigger_is_there_after_the_migrations(db):
    """A later migration that rebuilds the member or household table on SQLite drops its triggers: it must
    create them again, or this fails."""
    assert trigger_names() >= TRIGGERS


def test_members_made_through_the_orm_carry_the_village(home):
    assert set(home.members.values_list("household_region", flat=True)) == {VILLAGE}
    assert not mismatched()


def test_added_split_and_merged_members_follow_their_household(users, home):
    clerk = users["village_clerk"]
    services.member_add(
        household=home,
        actor=clerk,
        data={"name": "丙", "id_number": make_id(date(2000, 1, 1)), "relation": "之子"},
        reason="出生",
        on=date.today(),
    )
    spouse = home.members.get(relation="配偶")
    new = services.household_split(
        household=home, members=[spouse], new_number="R-1-1", actor=clerk, on=date.today()
    )
    assert not mismatched()
    services.household_merge(source=new, target=home, actor=clerk, on=date.today())
    assert not mismatched()


def test_a_member_moved_to_another_village_and_a_household_moved_take_the_new_village(home):
    other = make_household("R-2", OTHER_VILLAGE, members=[("丁", date(1980, 1, 1), "户主")])
    spouse = home.members.get(relation="配偶")
    spouse.household = other
    spouse.save()
    assert Member.objects.get(pk=spouse.pk).household_region == OTHER_VILLAGE
    Household.objects.filter(pk=home.pk).update(region_id=NEIGHBOUR_VILLAGE)
    assert set(home.members.values_list("household_region", flat=True)) == {NEIGHBOUR_VILLAGE}
    assert not mismatched()


def test_a_stale_full_save_cannot_write_back_the_old_village(home):
    member = home.members.get(relation="户主")  # loaded while the household is in VILLAGE
    Household.objects.filter(pk=home.pk).update(region_id=OTHER_VILLAGE)
    member.migrant_place = "本县"
    member.save()  # writes every column, the loaded household_region too
    assert Member.objects.get(pk=member.pk).household_region == OTHER_VILLAGE


def test_a_wrong_village_set_on_update_is_corrected(home):
    Member.objects.filter(household=home).update(household_region=NEIGHBOUR_VILLAGE)
    assert not mismatched()


def test_bulk_inserted_members_get_the_village_when_left_empty(home):
    spouse = home.members.get(relation="配偶")
    fields = [f.name for f in Member._meta.concrete_fields if f.name not in ("id", "household_region")]
    values = {f: getattr(spouse, Member._meta.get_field(f).attname) for f in fields}
    values.update(id_index="x" * 40, household=home.pk, id_number=encrypt_text(make_id(date(1990, 1, 1))))
    with transaction.atomic():
        bulkdb.insert_rows(Member, fields, [tuple(values[f] for f in fields)])
    assert Member.objects.get(id_index="x" * 40).household_region == VILLAGE


def test_imported_members_carry_their_village(tmp_path, users, regions):
    households, members = sample()
    households_import(path=write_csv_pair(tmp_path / "a", households, members), actor=users["village_clerk"])
    assert Member.objects.count() and not mismatched()
    # Re-imported with one household moved to another village of the same clerk's town, one member added.
    moved = dict(households[0], 行政区划代码=OTHER_VILLAGE)
    members = [*members, member_row(households[0]["户编号"], "赵六", make_id(date(2010, 1, 1)), "之子")]
    households_import(
        path=write_csv_pair(tmp_path / "b", [moved, *households[1:]], members), actor=users["town_station"]
    )
    assert Member.objects.filter(household_region=OTHER_VILLAGE).count() >= 2
    assert not mismatched()


def test_demo_members_carry_their_village(db):
    from fangfan.demo.generator import demo_generate

    demo_generate(households=200, seed=3, actor=operator())
    assert Member.objects.count() > 200 and not mismatched()
