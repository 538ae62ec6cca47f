"""The audit chain: append-only on both databases, and a change made behind the application's back is found."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from fangfan.core import audit
from fangfan.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _three_events(user=None):
    return [
        audit.record(user, f"test.event{i}", object_type="test", object_id=str(i), after={"n": i})
        for i in range(3)
    ]


def test_events_are_chained_from_genesis():
    first, second, third = _three_events()
    assert first.prev_hash == audit.GENESIS
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert audit.verify_chain() == (3, None)


def test_sensitive_values_are_masked():
    event = audit.record(
        None, "test.masked", after={"证件号码": "11010519491231002X", "phone": "13800000000", "n": 1}
    )
    event.refresh_from_db()
    assert event.after == {"证件号码": "***", "phone": "***", "n": 1}


@pytest.mark.parametrize("sql", ["UPDATE core_auditevent SET note = 'x'", "DELETE FROM core_auditevent"])
def test_update_and_delete_are_refused_by_the_database(sql):
    _three_events()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql)
    assert AuditEvent.objects.count() == 3


def test_orm_update_is_refused_too():
    event = _three_events()[0]
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(note="篡改")


def _drop_triggers(cur):
    if connection.vendor == "postgresql":
        cur.execute("DROP TRIGGER core_auditevent_no_change ON core_auditevent")
    else:
        cur.execute("DROP TRIGGER core_auditevent_no_update")
        cur.execute("DROP TRIGGER core_auditevent_no_delete")


def test_a_row_changed_behind_the_application_is_detected():
    """Raw SQL after dropping the trigger changes a row: verify-audit names that row."""
    events = _three_events()
    with connection.cursor() as cur:
        _drop_triggers(cur)
        cur.execute("UPDATE core_auditevent SET note = %s WHERE id = %s", ["篡改", events[1].pk])
    checked, broken = audit.verify_chain()
    assert checked == 1
    assert broken.event_id == events[1].pk
    assert "改动" in broken.reason
    with pytest.raises(CommandError, match=f"第 {events[1].pk} 号"):
        call_command("verify-audit")


def test_a_deleted_row_is_detected():
    events = _three_events()
    with connection.cursor() as cur:
        _drop_triggers(cur)
        cur.execute("DELETE FROM core_auditevent WHERE id = %s", [events[1].pk])
    checked, broken = audit.verify_chain()
    assert broken.event_id == events[2].pk
    assert "不连续" in broken.reason


def test_verify_audit_command_reports_an_intact_chain(capsys):
    _three_events()
    call_command("verify-audit")
    assert "完好：共 3 条" in capsys.readouterr().out


def test_actor_role_and_region_are_recorded(users):
    clerk = users["village_clerk"]
    event = audit.record(clerk, "test.who", object_type="test", object_id="1")
    assert (event.actor_id, event.actor_username, event.actor_role, event.region_code) == (
        clerk.pk,
        clerk.username,
        "village_clerk",
        clerk.region_id,
    )
