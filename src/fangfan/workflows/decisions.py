"""A period's decisions for the national system (issue 19, point 6): every case that ended 已办结 in the period —
纳入监测, 风险消除/销号, 分类调整, 回退 — one row each, with the columns a clerk types into 全国防返贫监测信息系统
(docs/data-formats.md §6, `审批决定报送表`), so that nothing is typed twice.

The new official values are the decision's own (``services.decided_values`` over the fields kept in ``Case.before``),
not the household's values today, which later decisions may have changed. The head's ID number is whole only for a
user who may see it (``household.view_id``) and asks (``reveal_ids``); masked otherwise (``core.masking``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.utils import timezone

from fangfan.core import audit
from fangfan.core.errors import ValidationFailed
from fangfan.core.masking import mask_id
from fangfan.core.xlsx import write_csv, write_xlsx
from fangfan.monitoring.choices import RiskType
from fangfan.regions.codes import code_range, parent_of
from fangfan.regions.models import Region
from fangfan.registry.choices import ExitedClass, HouseholdType, MonitoringState, MonitoringType
from fangfan.registry.models import Member

from .choices import Action, CaseState, EliminationWay, Kind
from .models import Case, CaseAction
from .services import decided_values

SHEET = "审批决定报送表"
# The columns (docs/data-formats.md §6): fixed, in this order; other systems read them by position.
HEADERS = [
    "序号",
    "审批编号",
    "户编号",
    "户主姓名",
    "户主证件号码",
    "行政区划代码",
    "乡镇",
    "村",
    "决定类型",
    "流程",
    "决定日期",
    "审定层级",
    "审定环节",
    "户类型",
    "脱贫户分类",
    "监测对象类型",
    "风险类型",
    "监测状态",
    "识别监测时间",
    "风险消除时间",
    "消除方式",
    "越过未满足条件",
]
WIDTHS = [6, 9, 20, 10, 21, 15, 12, 12, 10, 24, 12, 8, 12, 9, 12, 14, 24, 10, 12, 12, 9, 10]
MAX_DAYS = 366  # a period is at most a year


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"


def period_parse(start: str | None, end: str | None, *, today: date | None = None) -> Period:
    """``YYYY-MM-DD`` dates (both days included); a missing start is the first of ``end``'s month, a missing end is
    today. A Chinese error for a wrong date, an end before the start, or a period over a year."""
    today = today or timezone.localdate()

    def day(raw: str | None, what: str) -> date | None:
        raw = (raw or "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw.replace("/", "-"))
        except ValueError:
            raise ValidationFailed(
                f"{what}“{raw[:20]}”格式不对，应为 YYYY-MM-DD，例如 {today:%Y-%m-%d}"
            ) from None

    last = day(end, "截止日期") or today
    first = day(start, "起始日期") or last.replace(day=1)
    if last < first:
        raise ValidationFailed("截止日期早于起始日期")
    if (last - first).days >= MAX_DAYS:
        raise ValidationFailed("一次最多导出一年的审批决定，请缩短期间")
    return Period(first, last)


def _scoped(model, actor, action: str):
    return model.objects.for_user(actor, action)  # the operator's scope is every region


def decisions_queryset(actor, period: Period, *, region_code: str | None = None):
    """The cases ended 已办结 in ``period`` (local days, both included) inside the actor's jurisdiction, in the
    order they ended. The command-line operator sees every region."""
    if not actor.can("decision.export"):
        raise PermissionDenied("您的角色不能导出审批决定")
    tz = timezone.get_current_timezone()
    lo = datetime.combine(period.start, time.min, tzinfo=tz)
    hi = datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=tz)
    qs = _scoped(Case, actor, "decision.export").filter(
        state=CaseState.DONE, ended_at__gte=lo, ended_at__lt=hi
    )
    if region_code:
        start, stop = code_range(region_code)
        qs = qs.filter(region_code__gte=start, region_code__lt=stop)
    approvals = CaseAction.objects.filter(action=Action.APPROVE).select_related("step").order_by("at", "id")
    return (
        qs.select_related("household", "process")
        .prefetch_related(Prefetch("actions", queryset=approvals, to_attr="approvals"))
        .order_by("ended_at", "id")
    )


def _label(choices, value) -> str:
    return str(dict(choices).get(value, value)) if value else ""


def decision_rows(actor, cases: list[Case], *, reveal_ids: bool = False) -> Iterator[list]:
    """The export's rows, in ``HEADERS`` order."""
    whole = reveal_ids and actor.can("household.view_id")
    heads = dict(
        _scoped(Member, actor, "household.view")
        .filter(household_id__in={c.household_id for c in cases}, is_head=True, status=Member.Status.ACTIVE)
        .values_list("household_id", "id_number")
    )
    codes = {c.region_code for c in cases}
    codes |= {parent_of(code) or "" for code in codes}
    names = dict(_scoped(Region, actor, "region.view").filter(code__in=codes).values_list("code", "name"))
    risks = dict(RiskType.choices)
    for n, case in enumerate(cases, start=1):
        ended = timezone.localtime(case.ended_at)
        after = decided_values(case, case.before or {}, f"{ended:%Y%m}")
        last = case.approvals[-1].step if case.approvals else None
        head_id = heads.get(case.household_id, "") or ""
        hh = case.household
        yield [
            n,
            str(case.pk),
            hh.number,
            hh.head_name,
            head_id if whole else mask_id(head_id),
            case.region_code,
            names.get(parent_of(case.region_code) or "", ""),
            names.get(case.region_code, ""),
            _label(Kind.choices, case.kind),
            case.process.name,
            f"{ended:%Y-%m-%d}",
            last.get_level_display() if last else "",
            last.name if last else "",
            _label(HouseholdType.choices, hh.household_type),
            _label(ExitedClass.choices, after["exited_class"]),
            _label(MonitoringType.choices, after["monitoring_type"]),
            "、".join(str(risks.get(r, r)) for r in case.risk_types) if case.kind == Kind.IDENTIFY else "",
            _label(MonitoringState.choices, after["monitoring_state"]),
            after["identified_month"],
            after["eliminated_month"],
            _label(EliminationWay.choices, case.elimination_way) if case.kind == Kind.ELIMINATE else "",
            "是" if case.overridden else "否",
        ]


def decisions_export(
    *,
    actor,
    path: str | Path | IO[bytes],
    period: Period,
    region_code: str | None = None,
    reveal_ids: bool = False,
) -> int:
    """Write the period's decisions to ``path`` (.xlsx, or .csv by its name) and record the export; the rows."""
    if reveal_ids and not actor.can("household.view_id"):
        raise PermissionDenied("您的角色不能导出完整证件号码")
    cases = list(decisions_queryset(actor, period, region_code=region_code))
    rows = decision_rows(actor, cases, reveal_ids=reveal_ids)
    if isinstance(path, str | Path) and Path(path).suffix.lower() == ".csv":
        count = write_csv(Path(path), headers=HEADERS, rows=rows)
    else:
        target = str(path) if isinstance(path, Path) else path
        count = write_xlsx(target, sheet=SHEET, headers=HEADERS, rows=rows, widths=WIDTHS)
    audit.record(
        actor,
        "decision.exported",
        object_type="workflows.case",
        region_code=region_code or getattr(actor, "region_id", "") or "",
        after={
            "from": f"{period.start:%Y-%m-%d}",
            "to": f"{period.end:%Y-%m-%d}",
            "rows": count,
            "reveal_ids": bool(reveal_ids),
        },
        note=f"导出审批决定报送表 {period.label}",
    )
    return count
