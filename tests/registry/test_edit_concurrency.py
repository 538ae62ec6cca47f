"""Two users saving the same household at once, each from the form they opened (the page's hidden ``seen``
version): exactly one save is kept, the other is told in Chinese that someone else changed the household and that
nothing of theirs was saved; nothing is overwritten. Separate connections in two threads (PostgreSQL: the row
lock; SQLite, a file: serialised writers). And an edit never writes back a field it does not set."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse
from registry_factory import make_household

from fangfan.core.models import AuditEvent
from fangfan.registry import services
from fangfan.registry.models import Household

from .test_views_edit import household_data

VILLAGE = "341523104201"
pytestmark = pytest.mark.usefixtures("audit_triggers_back")


def test_two_clerks_save_the_same_household_one_wins(concurrent_db, users, make_user):
    home = make_household(
        "H-DF-301",
        VILLAGE,
        members=[("陈建国", date(1960, 2, 2), "户主")],
        income={"wage_income": Decimal("12000")},
    )
    second = make_user("village_clerk", VILLAGE, username="clerk-2")
    url = reverse("registry:household_edit", args=[home.pk])
    clients = []
    for user, grade in ((users["village_clerk"], "一类"), (second, "三类")):
        client = Client()
        client.force_login(user)
        opened = client.get(url)
        assert opened.status_code == 200
        seen = opened.context["form"].initial["seen"]
        clients.append((client, household_data(home, grade=grade, seen=seen)))
    barrier = threading.Barrier(2, timeout=30)
    answers: dict[str, object] = {}

    def save(client, data):
        try:
            barrier.wait()
            answers[data["grade"]] = client.post(url, data)
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            answers[data["grade"]] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=save, args=pair) for pair in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    kept = [grade for grade, r in answers.items() if getattr(r, "status_code", None) == 302]
    refused = [r for r in answers.values() if getattr(r, "status_code", None) == 200]
    assert len(kept) == 1 and len(refused) == 1, answers
    page = refused[0].content.decode()
    assert "已被他人修改" in page and "没有保存" in page
    home.refresh_from_db()
    assert home.grade == kept[0]
    assert AuditEvent.objects.filter(action="household.updated", object_id=str(home.pk)).count() == 1
    # The refused user now sees the winner's values in the form, ready to be checked and sent again.
    assert refused[0].context["form"].initial["grade"] == kept[0]


def test_an_edit_does_not_write_back_what_changed_meanwhile(db, users):
    """A case that ends between the form's read and its save changes the monitoring state: the edit keeps it."""
    home = make_household("H-DF-302", VILLAGE, members=[("陈建国", date(1960, 2, 2), "户主")])
    opened = Household.objects.get(pk=home.pk)
    seen = services.edit_version(opened)
    Household.objects.filter(pk=home.pk).update(monitoring_type="edge", monitoring_state="monitoring")
    services.household_update(
        household=opened, actor=users["village_clerk"], data={"grade": "一类"}, seen=seen
    )
    home.refresh_from_db()
    assert (home.grade, home.monitoring_type, home.monitoring_state) == ("一类", "edge", "monitoring")
