"""Platform actions that are recorded in the audit chain themselves (exporting the log is an audited act)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone

from . import audit
from .models import AuditEvent
from .selectors import region_names, role_labels
from .xlsx import write_xlsx

AUDIT_HEADERS = [
    "编号", "时间", "操作账号", "角色", "行政区划代码", "行政区划", "操作", "对象类型", "对象编号", "对象",
    "修改前", "修改后", "说明", "请求编号", "IP 地址", "哈希",
]  # fmt: skip
AUDIT_WIDTHS = [9, 20, 16, 14, 15, 12, 22, 18, 10, 20, 30, 30, 24, 34, 16, 66]


def _json(value: object) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


BATCH = 2000


def _row(event: AuditEvent, roles: dict[str, str], names: dict[str, str]) -> list:
    return [
        event.id,
        timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S"),
        event.actor_username,
        roles.get(event.actor_role, event.actor_role),
        event.region_code,
        names.get(event.region_code, ""),
        event.action,
        event.object_type,
        event.object_id,
        event.object_label,
        _json(event.before),
        _json(event.after),
        event.note,
        event.request_id,
        event.ip,
        event.hash,
    ]


def audit_log_export(
    *, actor: Any, events: QuerySet[AuditEvent], target: str | IO[bytes], filters: dict
) -> int:
    """Write the (already scoped and filtered) audit events to an Excel file and record that the log left the
    system, with the filters used. Returns the number of rows written."""
    roles = role_labels()

    def rows() -> Iterator[list[Any]]:
        names: dict[str, str] = {}
        batch: list[AuditEvent] = []

        def flush() -> Iterator[list[Any]]:
            missing = {e.region_code for e in batch if e.region_code and e.region_code not in names}
            names.update(region_names(missing))
            for event in batch:
                yield _row(event, roles, names)
            batch.clear()

        for event in events.order_by("id").iterator(chunk_size=BATCH):
            batch.append(event)
            if len(batch) >= BATCH:
                yield from flush()
        yield from flush()

    count = write_xlsx(target, sheet="审计日志", headers=AUDIT_HEADERS, rows=rows(), widths=AUDIT_WIDTHS)
    audit.record(actor, "audit.exported", note="导出审计日志", after={"rows": count, "filters": filters})
    return count
