"""The audit chain: every meaningful change is recorded here by the service that makes it.

Events are hash-chained and keyed: ``hash = HMAC-SHA256(AUDIT_KEY, canonical JSON of the event and prev_hash)``,
the key coming from the environment (``FANGFAN_AUDIT_KEY``), never from the database, so whoever can write the
table cannot recompute a rewritten history. Events written before the chain was keyed (``hash_version`` NULL) keep
their plain SHA-256 and must all precede the keyed ones. Appending takes a lock (SQLite's write lock, held from
BEGIN IMMEDIATE; a transaction-scoped advisory lock on PostgreSQL) so two writers never fork the chain; once the
transaction commits, the chain's head is anchored outside the database (``anchor``), so a cut tail is found too.
``verify_chain`` recomputes every link, checks the anchor and returns the first break.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from . import anchor, context
from .models import AuditEvent

GENESIS = "0" * 64
# hash_version of new events: 1 = HMAC-SHA256 under settings.AUDIT_KEY; None = written before keying (SHA-256).
HASH_VERSION = 1
MASK = "***"
# Keys whose values never reach the audit table in clear (PIPL §28: IDs, phones, bank accounts, health and
# disability, social assistance, and what people wrote about a family), by field name and by import-file header.
SENSITIVE_KEYS = frozenset(
    {
        "id_number",
        "id_number_enc",
        "证件号码",
        "phone",
        "phone_enc",
        "联系电话",
        "bank_account",
        "银行账号",
        "password",
        "health",
        "健康状况",
        "serious_illness",
        "患有大病",
        "chronic_illness",
        "长期慢性病",
        "disabled",
        "残疾",
        "disability_category",
        "残疾类别",
        "disability_grade",
        "残疾等级",
        "not_in_school_reason",
        "义务教育阶段未上学原因",
        "dibao",
        "享受低保",
        "低保",
        "tekun",
        "特困供养",
        "特困",
        "name",
        "姓名",
        "head_name",
        "户主姓名",
        # free text: a contact record's notes, a warning's description, a verification's finding, a reason typed
        "notes",
        "living",
        "生活状况",
        "risks",
        "风险隐患",
        "needs",
        "帮扶需求",
        "description",
        "explanation",
        "情况说明",
        "预警说明",
        "finding",
        "核查情况",
        "exclude_reason",
        "排除理由",
        "close_reason",
        "remark",
        "备注",
    }
)
_PG_LOCK_KEY = 7_301_730


def mask(data: Any) -> Any:
    """A copy of ``data`` with sensitive keys masked, recursively."""
    if isinstance(data, dict):
        return {
            k: (MASK if k in SENSITIVE_KEYS and v not in (None, "") else mask(v)) for k, v in data.items()
        }
    if isinstance(data, list):
        return [mask(v) for v in data]
    return _jsonable(data)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _canonical(event: AuditEvent) -> bytes:
    payload = [
        event.prev_hash,
        event.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        event.actor_id,
        event.actor_username,
        event.actor_role,
        event.region_code,
        event.action,
        event.object_type,
        str(event.object_id),
        event.object_label,
        event.before,
        event.after,
        event.note,
        event.request_id,
        event.ip,
    ]
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def compute_hash(event: AuditEvent) -> str:
    """The event's hash by its ``hash_version``: keyed (HMAC-SHA256) for every event written since keying."""
    if event.hash_version is None:
        return hashlib.sha256(_canonical(event)).hexdigest()
    if event.hash_version != HASH_VERSION:
        raise ValueError(f"unknown audit hash version {event.hash_version}")
    return hmac.new(anchor.key(), _canonical(event), hashlib.sha256).hexdigest()


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])


def record(
    actor: Any,
    action: str,
    obj: Any = None,
    *,
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
    region_code: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    object_label: str | None = None,
    sensitive_note: bool = False,
) -> AuditEvent:
    """Append one event. ``actor`` may be None for the system itself; sensitive keys are masked. A ``note`` that is
    a person's free text about a family (a change's explanation, a finding, a reason) is passed with
    ``sensitive_note=True``: the log keeps only that one was given."""
    ctx = context.current()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id if object_id is not None else str(obj.pk)
        object_label = object_label if object_label is not None else getattr(obj, "audit_label", str(obj.pk))
        if region_code is None:
            region_code = getattr(obj, "region_code", None)
    if region_code is None and actor is not None:
        region_code = getattr(actor, "region_id", "") or ""
    with transaction.atomic():
        _lock_chain()
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event = AuditEvent(
            at=timezone.now(),
            actor=actor if actor is not None and getattr(actor, "pk", None) else None,
            actor_username=getattr(actor, "username", "") or "system",
            actor_role=getattr(actor, "role", "") or "",
            region_code=region_code or "",
            action=action,
            object_type=object_type or "",
            object_id=object_id or "",
            object_label=(object_label or "")[:200],
            before=mask(before) if before is not None else None,
            after=mask(after) if after is not None else None,
            note=MASK if sensitive_note and note else note,
            request_id=ctx.request_id,
            ip=ctx.ip,
            prev_hash=last or GENESIS,
            hash_version=HASH_VERSION,
        )
        event.hash = compute_hash(event)
        event.save(force_insert=True)
        anchor.anchor_on_commit(event)
    return event


def changes(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the keys that changed, as (before, after) pairs for ``record``."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


def verify_chain(
    events: Iterable[AuditEvent] | None = None, *, chunk: int = 5000
) -> tuple[int, ChainBreak | None]:
    """Walk the chain in id order; return (events checked, first break or None). Walking the whole table (no
    ``events`` given) also checks it against the anchor kept outside the database: the anchored event must be
    there, with the anchored hash."""
    head = None
    if events is None:
        try:
            head = anchor.anchor_head()
        except anchor.AnchorTampered as exc:
            return 0, ChainBreak(0, f"审计锚点文件第 {exc.line_number} 行校验失败（锚点文件被改动）")
    checked = 0
    expected_prev = GENESIS
    keyed = False
    last_id = 0
    anchored_hash = None
    qs = events if events is not None else AuditEvent.objects.order_by("id").iterator(chunk_size=chunk)
    for event in qs:
        if event.prev_hash != expected_prev:
            return checked, ChainBreak(event.id, "前一条哈希不连续（有记录被删除或插入）")
        if event.hash_version is None and keyed:
            return checked, ChainBreak(event.id, "未加密钥的记录出现在加密钥的记录之后（记录被改写）")
        try:
            valid = hmac.compare_digest(compute_hash(event), event.hash)
        except ValueError:
            valid = False
        if not valid:
            return checked, ChainBreak(event.id, "内容与哈希不符（记录被改动）")
        keyed = keyed or event.hash_version is not None
        if head is not None and event.id == head.event_id:
            anchored_hash = event.hash
        expected_prev = event.hash
        last_id = event.id
        checked += 1
    if head is not None:
        if anchored_hash is None and last_id < head.event_id:
            return checked, ChainBreak(
                head.event_id,
                f"审计日志末尾的记录被删除：锚点记到第 {head.event_id} 号，表中只到第 {last_id} 号",
            )
        if anchored_hash is None:
            return checked, ChainBreak(head.event_id, "审计锚点记下的这条记录已不在表中（记录被删除）")
        if anchored_hash != head.hash:
            return checked, ChainBreak(head.event_id, "与审计锚点记录的哈希不符（历史记录被改写）")
    return checked, None
