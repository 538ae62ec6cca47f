"""What goes back to a department: a batch's unmatched rows (IDs masked, with the reason) and the template of a
source's file."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import IO, TYPE_CHECKING

from fangfan.core import audit
from fangfan.core.xlsx import write_xlsx
from fangfan.regions.codes import code_range
from fangfan.registry.services import elsewhere_shown_record

from ..models import DepartmentBatch, DepartmentRecord
from .columns import (
    MATCH_CHUNK,
    NAME_HEADER,
    REASON_HEADER,
    REASON_LATER,
    REASON_NAME,
    REASON_OUTSIDE,
    REASON_UNKNOWN,
    SOURCE_COLUMNS,
    UNMATCHED_ROW_HEADER,
)
from .importing import match_members
from .template import template_write

if TYPE_CHECKING:
    from fangfan.accounts.models import User

# --- unmatched rows back to the department ----------------------------------------------------------------------


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def unmatched_headers(batch: DepartmentBatch, extra: list[str]) -> list[str]:
    return [
        UNMATCHED_ROW_HEADER,
        "证件号码（脱敏）",
        NAME_HEADER,
        *(c.header for c in SOURCE_COLUMNS[batch.source]),
        *extra,
        REASON_HEADER,
    ]


def unmatched_rows(batch: DepartmentBatch, *, limit: int | None = None) -> Iterator[dict]:
    """The rows of a batch the department should look at again: those that matched nobody in the batch's region,
    and those whose name disagrees with the registry — each with its reason (IDs masked)."""
    lo, hi = code_range(batch.region_id)
    qs = batch.records.filter(member__isnull=True) | batch.records.filter(name_mismatch=True)
    qs = qs.order_by("row_number", "id")
    if limit is not None:
        qs = qs[:limit]
    columns = SOURCE_COLUMNS[batch.source]
    chunk: list[DepartmentRecord] = []

    def flush() -> Iterator[dict]:
        missing = [r.id_index for r in chunk if r.member_id is None]
        now = match_members(missing) if missing else {}
        for record in chunk:
            if record.member_id is not None:
                reason = REASON_NAME
            else:
                hit = now.get(record.id_index)
                reason = (
                    REASON_UNKNOWN if hit is None else (REASON_LATER if lo <= hit[2] < hi else REASON_OUTSIDE)
                )
            values = {}
            for column in columns:
                if column.target == "data":
                    values[column.header] = record.data.get(column.header, "")
                else:
                    values[column.header] = _cell(getattr(record, column.target))
            known = {c.header for c in columns}
            extra = {k: v for k, v in record.data.items() if k not in known}
            yield {
                "row_number": record.row_number,
                "id_masked": record.id_masked,
                "name": record.name,
                "columns": values,
                "extra": extra,
                "reason": reason,
            }
        chunk.clear()

    for record in qs.iterator(chunk_size=MATCH_CHUNK):
        chunk.append(record)
        if len(chunk) >= MATCH_CHUNK:
            yield from flush()
    yield from flush()


def unmatched_export(*, batch: DepartmentBatch, actor: User, target: str | IO[bytes]) -> int:
    """Write a batch's unmatched and name-mismatched rows to .xlsx: the department's columns plus 原因."""
    rows = list(unmatched_rows(batch))
    extra = sorted({k for row in rows for k in row["extra"]})
    headers = unmatched_headers(batch, extra)
    columns = [c.header for c in SOURCE_COLUMNS[batch.source]]

    def values():
        for row in rows:
            yield [
                row["row_number"],
                row["id_masked"],
                row["name"],
                *(row["columns"].get(h, "") for h in columns),
                *(row["extra"].get(h, "") for h in extra),
                row["reason"],
            ]

    count = write_xlsx(target, sheet="未匹配数据", headers=headers, rows=values())
    audit.record(
        actor,
        "department.unmatched_exported",
        batch,
        after={"rows": count, "outside": unmatched_outside(rows)},
    )
    return count


def unmatched_outside(rows: Iterable[dict]) -> int:
    """How many of these unmatched rows say the person is registered outside the batch's region."""
    return sum(row["reason"] == REASON_OUTSIDE for row in rows)


def unmatched_shown_record(
    *, batch: DepartmentBatch, rows: list[dict], actor: User, via: str, note: str = ""
) -> None:
    """Audit a page or answer that listed a batch's unmatched rows: the count of those registered elsewhere."""
    elsewhere_shown_record(
        actor=actor, count=unmatched_outside(rows), via=via, obj=batch, region_code=batch.region_id, note=note
    )


def template_export(*, source: str, target: str | IO[bytes]) -> None:
    """The template of a source: its columns with notes, drop-down lists and an example row, and a 填写说明 sheet
    (``template.template_write``)."""
    template_write(source=source, target=target)
