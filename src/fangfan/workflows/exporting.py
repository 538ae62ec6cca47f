"""``fangfan export decisions -o FILE [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--region CODE] [--reveal-ids]``
(docs/cli.md): a period's decisions, as the national system's clerk types them (``workflows.decisions``)."""

from __future__ import annotations

from pathlib import Path

from fangfan.core.exports import register_export

from .decisions import decisions_export, period_parse


def decisions_export_command(*, actor, path: Path, region_code=None, reveal_ids=False, options=None) -> str:
    options = options or {}
    period = period_parse(options.get("from"), options.get("to"))
    count = decisions_export(
        actor=actor, path=path, period=period, region_code=region_code, reveal_ids=reveal_ids
    )
    return f"已导出 {period.label} 的审批决定 {count} 条到 {path}"


register_export("decisions", decisions_export_command, "审批决定报送表（报送国家系统）")
