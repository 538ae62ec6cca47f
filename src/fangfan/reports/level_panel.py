"""The county's and the town's start page (issue 20 item 5): what is late — verification tasks past their due date,
risk points past their deadline, measures past their planned date —, the approval chains' backlog once the chains
exist, and this month's figures of the monthly report; each card opens the list or report behind it."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from fangfan.assistance.choices import MeasureState
from fangfan.assistance.models import Measure
from fangfan.monitoring.models import RiskPoint, VerificationTask
from fangfan.regions.codes import Level, level_of
from fangfan.registry.choices import MonitoringState
from fangfan.registry.models import HouseholdMonth

# The approval chains (the workflows app, being built): ``chain_backlog(user) -> {"count": int, "url": str}``.
CHAIN_BACKLOG = "fangfan.workflows.selectors.chain_backlog"


def _url(name: str, query: str = "") -> str | None:
    try:
        return reverse(name) + (f"?{query}" if query else "")
    except NoReverseMatch:
        return None


def _chain_card(user) -> dict | None:
    try:
        backlog = import_string(CHAIN_BACKLOG)
    except ImportError:
        return None
    figures = backlog(user) or {}
    return {
        "label": "审批待办",
        "url": figures.get("url"),
        "value": figures.get("count", 0),
        "unit": "件",
        "note": "识别、消除等审批链上等待办理的",
        "testid": "card-chain-backlog",
        "warn": bool(figures.get("count")),
    }


def overdue_counts(user, today=None) -> dict[str, int]:
    """The late items of the user's jurisdiction, one indexed count each."""
    today = today or timezone.localdate()
    return {
        "tasks": VerificationTask.objects.for_user(user, "warning.view")
        .filter(state=VerificationTask.State.OPEN, due_date__lt=today)
        .count(),
        "risks": RiskPoint.objects.for_user(user, "warning.view")
        .filter(state__in=RiskPoint.UNRESOLVED, deadline__lt=today)
        .count(),
        # as the 措施落实 list's 仅已过期限 filter counts them (``assistance.selectors.measure_list``)
        "measures": Measure.objects.for_user(user, "measure.view")
        .filter(planned_on__lt=today)
        .exclude(state=MeasureState.DONE)
        .count(),
    }


def level_panel(request) -> dict | None:
    """For those who work at a town or a county (or above) and read the figures."""
    user = request.user
    if not user.region_id or not user.can("dashboard.view") or level_of(user.region_id) > Level.TOWN:
        return None
    if not (user.can("warning.view") and user.can("measure.view")):
        return None
    today = timezone.localdate()
    late = overdue_counts(user, today)
    cards = []
    chain = _chain_card(user)
    if chain is not None:
        cards.append(chain)
    cards += [
        {
            "label": "逾期未核查",
            "url": _url("monitoring:task_list", "show=overdue"),
            "value": late["tasks"],
            "unit": "户",
            "note": "核查任务已过入户核查期限",
            "testid": "card-late-tasks",
            "warn": late["tasks"] > 0,
        },
        {
            "label": "超期未消除风险点",
            "url": _url("monitoring:risk_list", "overdue=on"),
            "value": late["risks"],
            "unit": "个",
            "note": "已过限期消除日期（含待镇确认）",
            "testid": "card-late-risks",
            "warn": late["risks"] > 0,
        },
        {
            "label": "逾期未落实措施",
            "url": _url("assistance:measure_list", "overdue=on"),
            "value": late["measures"],
            "unit": "项",
            "note": "已过计划日期，尚未落实",
            "testid": "card-late-measures",
            "warn": late["measures"] > 0,
        },
    ]
    # This month's figure of the monthly report, from the history (its index leads with the month).
    first = today.replace(day=1)
    month = (
        HouseholdMonth.objects.for_user(user, "dashboard.view")
        .filter(month=first)
        .aggregate(
            kept=Count("id"),
            monitored=Count(
                "id", filter=~Q(monitoring_type="") & Q(monitoring_state=MonitoringState.MONITORING)
            ),
        )
    )
    # Not cards (a card's figure is the count of the list it opens): the monthly report and the ledgers, with this
    # month's monitored households from the history.
    links = [
        {
            "label": f"{first.month}月月报",
            "url": _url("reports:monthly"),
            "note": f"本月监测中 {month['monitored']} 户" if month["kept"] else "本月尚未留存月度数据",
            "testid": "link-monthly",
        },
        {"label": "台账", "url": _url("reports:ledger_index"), "note": "", "testid": "link-ledgers"},
    ]
    return {
        "template": "reports/panels/level.html",
        "title": "逾期事项与本月概况",
        "cards": cards,
        "links": links,
    }
