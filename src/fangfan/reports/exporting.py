"""``fangfan export ledger NAME -o FILE [--region CODE] [--month YYYY-MM]`` (CLI.md): every ledger of
``reports.ledgers``, also as ``fangfan export NAME`` (KIND may be a ledger's name)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fangfan.core.errors import DomainError
from fangfan.core.exports import EXPORTERS, register_export

from .ledgers import LEDGERS, ledger_get
from .ledgers.base import scope_build
from .ledgers.writer import ledger_write

if TYPE_CHECKING:
    from fangfan.accounts.models import User


def ledger_export_command(
    *,
    actor: User,
    path: Path,
    region_code=None,
    reveal_ids=False,
    progress=None,
    options=None,
    kind: str = "",
) -> str:
    options = options or {}
    name = options.get("name") or kind
    known = "、".join(f"{code}（{ledger.title}）" for code, ledger in LEDGERS.items() if ledger.available())
    if not name:
        raise DomainError(f"请指明台账名称：fangfan export ledger NAME。可用：{known}")
    ledger = ledger_get(name)
    if ledger is None:
        raise DomainError(f"未知的台账“{name}”。可用：{known}")
    if Path(path).suffix.lower() != ".xlsx":
        raise DomainError("台账只能导出为 .xlsx")
    if not ledger.may_export(actor):
        raise DomainError(f"账号无权导出{ledger.title}")
    scope = scope_build(
        actor, region=region_code or "", month=options.get("month") or "", reveal_ids=reveal_ids
    )
    count = ledger_write(ledger, scope, Path(path), progress=progress)
    return f"已导出{ledger.title} {count} 行到 {path}"


register_export("ledger", ledger_export_command, "台账（fangfan export ledger NAME）")
for _code in LEDGERS:
    if _code not in EXPORTERS:

        def _one(*, _code=_code, **kwargs):
            return ledger_export_command(kind=_code, **kwargs)

        register_export(_code, _one, f"{LEDGERS[_code].title}")
