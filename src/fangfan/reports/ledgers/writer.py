"""One writer for every ledger: the printable sheet of ``core.xlsx.write_printable`` (A4 landscape, title row,
header row repeated, fitted to the width, page numbers), 序号 added here, progress reported every chunk, and one
audit event naming the ledger, the place, the month, the row count and whether ID numbers were whole."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO

from fangfan.core import audit
from fangfan.core.errors import DomainError
from fangfan.core.xlsx import write_printable
from fangfan.regions.selectors import region_name

from .base import CHUNK, Ledger, LedgerScope

Progress = Callable[[int, int, str], None]


def may_reveal(user) -> bool:
    return user.can("household.view_id")


def ledger_place_text(scope: LedgerScope) -> str:
    if scope.place:
        return region_name(scope.place) or scope.place
    region = getattr(scope.user, "region_id", "") or ""
    return (region_name(region) if region else "") or "全部"


def ledger_title(ledger: Ledger, scope: LedgerScope) -> str:
    when = scope.month_text or (f"{scope.today:%Y年%m月%d日}" if scope.today else "")
    return f"{ledger.title}（{ledger_place_text(scope)}，{when}）"


def ledger_write(
    ledger: Ledger,
    scope: LedgerScope,
    target: str | Path | IO[bytes],
    *,
    progress: Progress | None = None,
    total: int | None = None,
) -> int:
    """Write ``ledger`` for ``scope`` to ``target`` (.xlsx); returns the rows written. Whole ID numbers only for a
    user allowed ``household.view_id`` who asked (``scope.reveal_ids``)."""
    if scope.reveal_ids and not (ledger.has_ids and may_reveal(scope.user)):
        if not may_reveal(scope.user):
            raise DomainError("您没有查看完整证件号码的权限")
        scope.reveal_ids = False
    if progress is not None and total is None:
        total = ledger.count(scope)

    def numbered():
        for n, row in enumerate(ledger.rows(scope), start=1):
            if progress is not None and n % CHUNK == 0:
                progress(n, total or n, f"已写入 {n} 行")
            yield [n, *row]

    count = write_printable(
        str(target) if isinstance(target, Path) else target,
        sheet=ledger.title,
        title=ledger_title(ledger, scope),
        headers=ledger.columns,
        rows=numbered(),
        widths=ledger.widths,
        numbers=ledger.numbers,
        money=ledger.money,
    )
    if progress is not None:
        progress(count, max(total or 0, count), f"已写入 {count} 行")
    audit.record(
        scope.user,
        "ledger.exported",
        region_code=scope.place or getattr(scope.user, "region_id", None) or "",
        object_type="reports.ledger",
        object_label=ledger.title,
        after={
            "ledger": ledger.code,
            "region": scope.place,
            "month": f"{scope.first:%Y-%m}" if scope.first else "",
            "rows": count,
            "reveal_ids": bool(scope.reveal_ids),
        },
        note=f"导出{ledger.title}",
    )
    return count
