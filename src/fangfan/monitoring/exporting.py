"""The warnings export — ``预警清单`` (DATA-FORMATS §4): fixed Chinese headers, one row per warning.

``warnings_export`` writes an already scoped and filtered queryset (the web list's filters, or a region for the
``fangfan export warnings`` command) to .xlsx (xlsxwriter, constant memory, every cell text) or .csv (UTF-8 with
BOM, as Chinese Excel opens it), streaming rows in chunks, and records that the list left the system.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from django.db.models import QuerySet
from django.utils import timezone

from fangfan.core import audit
from fangfan.core.exports import register_export
from fangfan.core.xlsx import write_csv, write_xlsx
from fangfan.regions.codes import code_range

from .choices import Channel, RiskType
from .models import EarlyWarning, Rule
from .rules import RULES

if TYPE_CHECKING:
    from fangfan.accounts.models import User

SHEET = "预警清单"
HEADERS = [
    "户编号",
    "户主姓名",
    "行政区划代码",
    "风险类型",
    "规则编码",
    "预警说明",
    "来源",
    "状态",
    "产生时间",
    # After the fixed columns (other systems read them by position): the rule's Chinese name beside its code.
    "规则名称",
]
WIDTHS = [16, 10, 15, 16, 18, 60, 14, 8, 20, 24]
CHUNK = 2000
Progress = Callable[[int, int, str], None]
_COLUMNS = (
    "household__number",
    "household__head_name",
    "region_code",
    "risk_type",
    "rule_code",
    "explanation",
    "channel",
    "state",
    "created_at",
)


def warning_rows(queryset: QuerySet[EarlyWarning], progress: Progress | None = None) -> Iterator[list[str]]:
    """The export's rows, in the order of the headers, oldest first."""
    risks, channels = dict(RiskType.choices), dict(Channel.choices)
    states = dict(EarlyWarning.State.choices)
    # The catalogue's names, and those of rules stored before (a code no longer in the catalogue keeps its name).
    rule_names = {**dict(Rule.objects.values_list("code", "name")), **{c: r.name for c, r in RULES.items()}}
    total = queryset.count() if progress else 0
    rows = queryset.order_by("created_at", "id").values_list(*_COLUMNS)
    for done, (number, head, region, risk, rule, text, channel, state, created) in enumerate(
        rows.iterator(chunk_size=CHUNK), start=1
    ):
        if progress and done % CHUNK == 0:
            progress(done, total, "")
        yield [
            number,
            head,
            region,
            str(risks.get(risk, risk)),
            rule,
            text,
            str(channels.get(channel, channel)),
            str(states.get(state, state)),
            timezone.localtime(created).strftime("%Y-%m-%d %H:%M:%S") if created else "",
            rule_names.get(rule, "") if rule else "人工登记",
        ]


def warnings_export(
    *,
    actor: User,
    queryset: QuerySet[EarlyWarning],
    path: str | Path | IO[bytes],
    filters: dict | None = None,
    progress: Progress | None = None,
) -> int:
    """Write ``预警清单`` for the given (already scoped) warnings to ``path`` — a file name ending in .xlsx or
    .csv, or a binary file object (.xlsx) — and record the export in the audit log. Returns the rows written."""
    if isinstance(path, str | Path) and Path(path).suffix.lower() == ".csv":
        count = write_csv(Path(path), headers=HEADERS, rows=warning_rows(queryset, progress))
    else:
        count = write_xlsx(
            path, sheet=SHEET, headers=HEADERS, rows=warning_rows(queryset, progress), widths=WIDTHS
        )
    if progress:
        progress(count, count, "")
    audit.record(
        actor,
        "warning.exported",
        object_type="monitoring.earlywarning",
        after={"rows": count, "filters": filters or {}},
        note="导出预警清单",
    )
    return count


def warnings_export_region(
    *,
    actor: User,
    path: str | Path | IO[bytes],
    region_code: str | None = None,
    progress: Progress | None = None,
) -> int:
    """The ``fangfan export warnings`` entry: every warning of a region (default: all) the actor may see; the
    command-line operator sees everything (``for_user`` knows it), a person only their jurisdiction."""
    queryset = EarlyWarning.objects.for_user(actor, "warning.view")
    if region_code:
        lo, hi = code_range(region_code)
        queryset = queryset.filter(region_code__gte=lo, region_code__lt=hi)
    return warnings_export(
        actor=actor,
        queryset=queryset,
        path=path,
        filters={"region": region_code} if region_code else {},
        progress=progress,
    )


# ``fangfan export warnings -o FILE [--region CODE]`` (CLI.md).
register_export("warnings", warnings_export_region, "预警清单")
