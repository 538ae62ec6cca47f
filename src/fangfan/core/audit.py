"""The audit chain: every meaningful change is recorded here by the service that makes it.

Events are hash-chained: ``hash = sha256(prev_hash + canonical JSON of the event)``. Appending takes a lock
(SQLite's write lock, held from BEGIN IMMEDIATE; a transaction-scoped advisory lock on PostgreSQL) so two writers
never fork the chain. ``verify_chain`` recomputes every link and returns the first that does not hold.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from . import context
from .models import AuditEvent

GENESIS = "0" * 64
MASK = "***"
# Keys whose values never reach the audit table in clear (PIPL §28: IDs, phones, bank accounts, health).
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
        "name",
        "姓名",
        "head_name",
        "户主姓名",
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
    return hashlib.sha256(_canonical(event)).hexdigest()


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])


def record(
    actor,
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
) -> AuditEvent:
    """Append one event. ``actor`` may be None for the system itself; sensitive keys are masked."""
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
            note=note,
            request_id=ctx.request_id,
            ip=ctx.ip,
            prev_hash=last or GENESIS,
        )
        event.hash = compute_hash(event)
        event.save(force_insert=True)
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
    """Walk the chain in id order; return (events checked, first break or None)."""
    checked = 0
    expected_prev = GENESIS
    qs = events if events is not None else AuditEvent.objects.order_by("id").iterator(chunk_size=chunk)
    for event in qs:
        if event.prev_hash != expected_prev:
            return checked, ChainBreak(event.id, "前一条哈希不连续（有记录被删除或插入）")
        if compute_hash(event) != event.hash:
            return checked, ChainBreak(event.id, "内容与哈希不符（记录被改动）")
        expected_prev = event.hash
        checked += 1
    return checked, None
