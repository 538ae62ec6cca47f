"""The audit chain: append-only on both databases, and a change made behind the application's back is found."""

from __future__ import annotations

import pytest
from conftest import _audit_triggers
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


def test_disability_social_assistance_and_free_text_are_masked():
    """Disability category and grade, 低保/特困 and what people wrote about a family never reach the log in clear,
    whether named by field or by import-file header; a free-text note given as such is masked too."""
    event = audit.record(
        None,
        "test.masked",
        before={"disability_category": "", "dibao": None},
        after={
            "disability_category": "肢体",
            "disability_grade": "二级",
            "dibao": True,
            "tekun": False,
            "成员": {"残疾类别": "视力", "残疾等级": "一级", "享受低保": "是", "特困供养": "否"},
            "notes": "老人独居",
            "finding": "户主住院",
            "exclude_reason": "已就业",
            "n": 1,
        },
        note="户主患癌住院",
        sensitive_note=True,
    )
    event.refresh_from_db()
    assert event.before == {"disability_category": "", "dibao": None}  # empty stays empty: nothing to hide
    assert event.after == {
        "disability_category": "***",
        "disability_grade": "***",
        "dibao": "***",
        "tekun": "***",
        "成员": {"残疾类别": "***", "残疾等级": "***", "享受低保": "***", "特困供养": "***"},
        "notes": "***",
        "finding": "***",
        "exclude_reason": "***",
        "n": 1,
    }
    assert event.note == "***"
    assert audit.record(None, "test.fixed", note="导出预警清单").note == "导出预警清单"


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


# --- the keyed chain and its anchor outside the database (security issue 16.9) --------------------------------


def _committed_events(capture, n: int, user=None) -> list[AuditEvent]:
    """``n`` events, each in a transaction of its own that commits (its on-commit anchoring runs)."""
    events = []
    for i in range(n):
        with capture(execute=True):
            events.append(audit.record(user, "test.committed", object_type="test", object_id=str(i)))
    return events


def _plain_sha256(event: AuditEvent) -> str:
    import hashlib

    return hashlib.sha256(audit._canonical(event)).hexdigest()


def _rewrite_from(event_id: int, *, hasher, version, note: str = "篡改") -> None:
    """What an attacker with database access (and no key) does: change one event, then recompute every hash from it
    on with what they can compute, so that each link still names its predecessor."""
    with connection.cursor() as cur:
        for sql in _audit_triggers(connection.vendor, up=False):
            cur.execute(sql)
    prev = AuditEvent.objects.filter(id__lt=event_id).order_by("-id").values_list("hash", flat=True).first()
    for event in AuditEvent.objects.filter(id__gte=event_id).order_by("id"):
        if event.id == event_id:
            event.note = note
        event.prev_hash = prev or audit.GENESIS
        event.hash_version = version
        event.hash = hasher(event)
        prev = event.hash
        with connection.cursor() as cur:
            cur.execute(
                "UPDATE core_auditevent SET note = %s, prev_hash = %s, hash = %s, hash_version = %s WHERE id = %s",
                [event.note, event.prev_hash, event.hash, event.hash_version, event.id],
            )


def test_hashes_are_keyed_and_the_head_is_anchored_outside_the_database(
    django_capture_on_commit_callbacks, audit_anchor_file, caplog
):
    caplog.set_level("INFO", logger="fangfan.audit.anchor")
    events = _committed_events(django_capture_on_commit_callbacks, 3)
    assert all(e.hash_version == audit.HASH_VERSION for e in events)
    assert events[0].hash != _plain_sha256(events[0])  # an HMAC: no one without the key recomputes it
    lines = audit_anchor_file.read_text().splitlines()
    assert [line.split()[:2] for line in lines] == [[str(e.pk), e.hash] for e in events]
    assert oct(audit_anchor_file.stat().st_mode)[-3:] == "600"
    logged = [r.getMessage() for r in caplog.records if r.name == "fangfan.audit.anchor"]
    assert logged[-1] == f"audit head id={events[-1].pk} hash={events[-1].hash}"
    assert audit.verify_chain() == (3, None)


def test_one_anchor_line_per_transaction(django_capture_on_commit_callbacks, audit_anchor_file):
    with django_capture_on_commit_callbacks(execute=True):
        events = _three_events()
    assert audit_anchor_file.read_text().split()[:2] == [str(events[-1].pk), events[-1].hash]
    assert len(audit_anchor_file.read_text().splitlines()) == 1


def test_a_rolled_back_event_is_never_anchored(django_capture_on_commit_callbacks, audit_anchor_file):
    """An event undone with its savepoint leaves the anchor behind (never ahead of the table: no false alarm); the
    next commit anchors the head again."""
    (first,) = _committed_events(django_capture_on_commit_callbacks, 1)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        audit.record(None, "test.kept")
        try:
            with transaction.atomic():
                audit.record(None, "test.undone")
                raise RuntimeError
        except RuntimeError:
            pass
    assert audit_anchor_file.read_text().splitlines()[-1].split()[:2] == [str(first.pk), first.hash]
    assert audit.verify_chain() == (2, None)
    (last,) = _committed_events(django_capture_on_commit_callbacks, 1)
    assert audit_anchor_file.read_text().splitlines()[-1].split()[:2] == [str(last.pk), last.hash]
    assert audit.verify_chain() == (3, None)


def test_deleting_the_newest_events_is_detected(django_capture_on_commit_callbacks, client, users):
    """With database access (triggers dropped), the newest 20 events are deleted: every remaining link holds, but
    the table's last event is behind the anchor."""
    client.force_login(users["audit_admin"])
    events = _committed_events(django_capture_on_commit_callbacks, 25)
    with connection.cursor() as cur:
        _drop_triggers(cur)
        cur.execute("DELETE FROM core_auditevent WHERE id > %s", [events[4].pk])
    checked, broken = audit.verify_chain()
    assert checked == AuditEvent.objects.count()
    assert broken.event_id == events[-1].pk
    assert "末尾的记录被删除" in broken.reason
    with pytest.raises(CommandError, match="末尾的记录被删除"):
        call_command("verify-audit")
    html = client.get("/system/audit/verify/", headers={"HX-Request": "true"}).content.decode()
    assert "哈希链断裂" in html and "末尾的记录被删除" in html


@pytest.mark.parametrize(
    "hasher",
    [
        _plain_sha256,  # what an attacker computes without the key
        lambda e: __import__("hmac").new(b"guessed-key", audit._canonical(e), "sha256").hexdigest(),
    ],
    ids=["sha256", "guessed-key"],
)
def test_rewriting_one_event_and_rehashing_the_rest_is_detected(
    django_capture_on_commit_callbacks, hasher, client, users
):
    events = _committed_events(django_capture_on_commit_callbacks, 5)
    _rewrite_from(events[2].pk, hasher=hasher, version=audit.HASH_VERSION)
    checked, broken = audit.verify_chain()
    assert (checked, broken.event_id) == (
        AuditEvent.objects.filter(id__lt=events[2].pk).count(),
        events[2].pk,
    )
    assert "记录被改动" in broken.reason
    client.force_login(users["audit_admin"])
    html = client.get("/system/audit/verify/", headers={"HX-Request": "true"}).content.decode()
    assert f"第 {events[2].pk} 号记录：内容与哈希不符" in html


def test_rewriting_as_unkeyed_events_is_detected(django_capture_on_commit_callbacks):
    """Passing rewritten events off as written before keying (plain SHA-256, no version): after a keyed event they
    are refused; from the very first event on, the anchor no longer matches."""
    events = _committed_events(django_capture_on_commit_callbacks, 4)
    _rewrite_from(events[2].pk, hasher=_plain_sha256, version=None)
    checked, broken = audit.verify_chain()
    assert (checked, broken.event_id) == (2, events[2].pk)
    _rewrite_from(events[0].pk, hasher=_plain_sha256, version=None)
    checked, broken = audit.verify_chain()
    assert checked == 4
    assert broken.event_id == events[-1].pk and "与审计锚点记录的哈希不符" in broken.reason


def test_events_written_before_keying_still_verify(django_capture_on_commit_callbacks):
    """A database from before the key: its events (plain SHA-256, no version) are kept as they are, and the keyed
    chain continues from the last of them."""
    old = _three_events()
    _rewrite_from(old[0].pk, hasher=_plain_sha256, version=None, note="")  # as migration 0004 found them
    with connection.cursor() as cur:
        for sql in _audit_triggers(connection.vendor, up=True):
            cur.execute(sql)
    new = _committed_events(django_capture_on_commit_callbacks, 2)
    assert new[0].prev_hash == AuditEvent.objects.get(pk=old[-1].pk).hash
    assert audit.verify_chain() == (5, None)


def test_an_edited_anchor_file_is_detected(django_capture_on_commit_callbacks, audit_anchor_file):
    events = _committed_events(django_capture_on_commit_callbacks, 2)
    first, second = audit_anchor_file.read_text().splitlines()
    forged = f"{events[0].pk} {events[0].hash} {first.split()[2]}"
    audit_anchor_file.write_text(f"{first}\n{forged.replace(str(events[0].pk), '999', 1)}\n")
    checked, broken = audit.verify_chain()
    assert broken is not None and "锚点文件第 2 行校验失败" in broken.reason
    with pytest.raises(CommandError, match="锚点文件第 2 行"):
        call_command("verify-audit")
