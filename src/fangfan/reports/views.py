"""The start page: what a person of this role should look at first.

The page is a list of panels. Each panel is a function ``(request) -> dict | None`` returning the template to
include and its context, or None when it does not apply to this user. Capabilities that arrive later (the
household registry's counts, warnings waiting for review) add their panel to ``HOME_PANELS``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time

from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from fangfan.accounts import selectors as account_selectors
from fangfan.accounts.roles import Role
from fangfan.core import selectors as core_selectors
from fangfan.core.permissions import requires
from fangfan.monitoring import selectors as monitoring_selectors
from fangfan.regions.codes import Level, code_range
from fangfan.regions.models import Region
from fangfan.reports.dashboard import registry_dashboard_panel
from fangfan.reports.level_panel import level_panel

Panel = Callable[..., dict | None]
MAX_PLACES = 40


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def places_panel(request) -> dict | None:
    """Working roles: the places under the user's region — the villages of a town (or the user's own village),
    the towns of a county with their number of villages, and so on up."""
    user = request.user
    if user.is_admin_role or not user.region_id:
        return None
    region = user.region
    regions = Region.objects.for_user(user, "region.view")
    child_label = None
    if region.level >= Level.TOWN:
        places = list(regions.filter(level=Level.VILLAGE).order_by("code")[: MAX_PLACES + 1])
        title = f"{region.name}的村（社区）" if region.level == Level.TOWN else "我的村"
    else:
        child_level = Level(region.level + 1)
        places = list(regions.filter(parent_id=region.code).order_by("code")[: MAX_PLACES + 1])
        for place in places[:MAX_PLACES]:
            lo, hi = code_range(place.code)
            place.villages = regions.filter(level=Level.VILLAGE, code__gte=lo, code__lt=hi).count()
        title = f"{region.name}下辖{child_level.label}"
        child_label = "村（社区）"
    return {
        "template": "reports/panels/places.html",
        "title": title,
        "places": places[:MAX_PLACES],
        "truncated": len(places) > MAX_PLACES,
        "child_label": child_label,
    }


def admin_panel(request) -> dict | None:
    """Administrators: one card per page of theirs, with a live count."""
    user = request.user
    if not user.is_admin_role:
        return None
    cards = []
    if user.can("user.manage"):
        users = account_selectors.users_for_admin(user)
        cards.append(
            {
                "label": "用户管理",
                "url": _url("accounts:user_list"),
                "value": users.count(),
                "unit": "个账号",
                "note": f"其中停用 {users.filter(is_active=False).count()} 个",
                "testid": "card-users",
            }
        )
    if user.can("region.manage"):
        cards.append(
            {
                "label": "行政区划",
                "url": _url("regions:region_list"),
                "value": Region.objects.for_user(user, "region.manage").count(),
                "unit": "个区划",
                "note": "含本级及下辖各级",
                "testid": "card-regions",
            }
        )
    if user.can("security.manage"):
        today = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
        cards.append(
            {
                "label": "账号安全",
                "url": _url("accounts:security"),
                "value": len(account_selectors.locked_accounts(user)),
                "unit": "个账号被锁定",
                "note": f"今日登录失败 {account_selectors.login_failures_since(user, today)} 次",
                "testid": "card-locked",
            }
        )
    if user.can("audit.view"):
        cards.append(
            {
                "label": "审计日志",
                "url": _url("core:audit_list"),
                "value": core_selectors.audit_events_today(user),
                "unit": "条今日记录",
                "note": "可校验哈希链、导出 Excel",
                "testid": "card-audit",
            }
        )
    if user.can("job.view"):
        running = core_selectors.jobs_for_user(user).filter(state__in=["queued", "running"]).count()
        cards.append(
            {
                "label": "后台任务",
                "url": _url("core:job_list"),
                "value": running,
                "unit": "个进行中",
                "note": "导入、导出等耗时工作",
                "testid": "card-jobs",
            }
        )
    return {"template": "reports/panels/admin_cards.html", "cards": cards}


def warnings_panel(request) -> dict | None:
    """Early warning at a glance: what waits for a visit or a decision, and what is late."""
    user = request.user
    if not user.can("warning.view"):
        return None
    counts = monitoring_selectors.inbox_counts(user)
    cards = [
        {
            "label": "待核查任务",
            "url": _url("monitoring:task_list"),
            "value": counts["tasks_open"],
            "unit": "户",
            "note": f"其中逾期 {counts['tasks_overdue']} 户（入户核查时限）",
            "testid": "card-tasks",
        },
        {
            "label": "未办结预警",
            # The list shows every state unless asked: the card's figure is the open ones.
            "url": _url("monitoring:warning_list") + "?state=open",
            "value": counts["warnings_open"],
            "unit": "条",
            "note": f"超过认定时限 {counts['warnings_overdue']} 条",
            "testid": "card-warnings",
        },
        {
            "label": "未消除风险点",
            "url": _url("monitoring:risk_list"),
            "value": counts["risks_open"],
            "unit": "个",
            "note": f"超过限期 {counts['risks_overdue']} 个",
            "testid": "card-risks",
        },
    ]
    if user.can("warning.review"):
        cards.append(
            {
                "label": "待处理线索",
                "url": _url("monitoring:clue_list"),
                "value": counts["clues_open"],
                "unit": "条",
                "note": "农户自主申报、督查反馈等",
                "testid": "card-clues",
            }
        )
    return {"template": "reports/panels/admin_cards.html", "cards": cards}


def helper_panel(request) -> dict | None:
    """A 帮扶责任人/联系人's own work first (plan 四(二)2): the households they look after, those not contacted yet
    this month, and the verification tasks and risk points on their households — each card opens that list."""
    user = request.user
    if user.role != Role.HELPER:
        return None
    from fangfan.assistance.contacts import contact_ledger
    from fangfan.registry.filters import helped_by_q
    from fangfan.registry.models import Household
    from fangfan.registry.selectors import month_span

    list_url = reverse("registry:household_list")
    mine = Household.objects.for_user(user, "household.view").filter(helped_by_q(user.pk), cancelled=False)
    first, after = month_span(None, timezone.localdate())
    _rows, summary = contact_ledger(user, first, after, helper_pk=user.pk)
    cards = [
        {
            "label": "我联系的农户",
            "url": f"{list_url}?helper={user.pk}",
            "value": mine.count(),
            "unit": "户",
            "note": f"其中须每月联系 {summary['households']} 户（脱贫户、风险未消除的监测对象）",
            "testid": "card-my-households",
        },
        {
            "label": f"{first.month}月未联系",
            "url": reverse("contacts:contact_ledger") + "?missing=1",
            "value": summary["missing"],
            "unit": "户",
            "note": f"本月已联系 {summary['contacted']} 户；点此逐户登记联系",
            "testid": "card-my-missing",
            "warn": summary["missing"] > 0,
        },
    ]
    if user.can("warning.view"):
        today = timezone.localdate()
        tasks = monitoring_selectors.helped_by(monitoring_selectors.tasks_open(user), user)
        risks = monitoring_selectors.helped_by(monitoring_selectors.risks_open(user), user)
        cards += [
            {
                "label": "待核查任务（我联系的农户）",
                "url": _url("monitoring:task_list") + "?mine=1",
                "value": tasks.count(),
                "unit": "户",
                "note": f"其中逾期 {tasks.filter(due_date__lt=today).count()} 户（入户核查时限）",
                "testid": "card-my-tasks",
            },
            {
                "label": "未消除风险点（我联系的农户）",
                "url": _url("monitoring:risk_list") + "?mine=1",
                "value": risks.count(),
                "unit": "个",
                "note": f"超过限期 {risks.filter(deadline__lt=today).count()} 个",
                "testid": "card-my-risks",
            },
        ]
    return {"template": "reports/panels/admin_cards.html", "title": "我的工作", "cards": cards}


def measures_panel(request) -> dict | None:
    """帮扶措施 for those who carry them out (village, town, department): what is still to do, what is late, and the
    national doubts (疑点), each opening the list it counts."""
    from fangfan.assistance import selectors as assistance_selectors
    from fangfan.assistance.choices import PENDING_STATES

    user = request.user
    if not user.can("measure.progress"):
        return None
    today = timezone.localdate()
    pending = assistance_selectors.measures_for_user(user).filter(state__in=PENDING_STATES)
    todo = _url("assistance:measure_todo")
    listed = _url("assistance:measure_list")
    cards = [
        {
            "label": "待落实措施",
            "url": todo,
            "value": pending.count(),
            "unit": "项",
            "note": "计划、落实中",
            "testid": "card-measures-todo",
        },
        {
            "label": "逾期未落实",
            "url": f"{todo}?overdue=on" if todo else None,
            "value": pending.filter(planned_on__lt=today).count(),
            "unit": "项",
            "note": "已过计划日期",
            "testid": "card-measures-overdue",
        },
    ]
    for key, count in assistance_selectors.doubt_counts(user, today).items():
        cards.append(
            {
                "label": "疑点",
                "url": f"{listed}?doubt={key}" if listed else None,
                "value": count,
                "unit": "户"
                if key == "safety_net_only"
                else ("个" if key == "risk_without_measure" else "项"),
                "note": assistance_selectors.DOUBTS[key],
                "testid": f"card-doubt-{key}",
            }
        )
    return {"template": "reports/panels/admin_cards.html", "cards": cards}


def _places_unless_dashboard(request) -> dict | None:
    """The plain list of places, for roles that do not get the registry dashboard (which lists them itself)."""
    return None if request.user.can("dashboard.view") else places_panel(request)


HOME_PANELS: list[Panel] = [
    admin_panel,
    helper_panel,
    level_panel,
    warnings_panel,
    measures_panel,
    registry_dashboard_panel,
    _places_unless_dashboard,
]


@requires("region.view")
def home(request):
    panels = [panel for build in HOME_PANELS if (panel := build(request))]
    return render(request, "reports/home.html", {"panels": panels})
