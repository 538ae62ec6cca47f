"""The registry's panel on the start page: households per place and category, a stacked bar chart and totals.

``registry_dashboard_context(user)`` builds the context of ``reports/_registry_dashboard.html`` (the partial reads
it as ``panel``); ``registry_dashboard_panel(request)`` fits the start page's ``HOME_PANELS`` list.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

from fangfan.policy.selectors import plain
from fangfan.regions.codes import Level, level_of
from fangfan.regions.selectors import region_name

from .selectors import CATEGORIES, dashboard_place, registry_counts

TEMPLATE = "reports/_registry_dashboard.html"
CHART_ID = "registry-dashboard-chart"
# The chart stacks the classes that need attention; 一般农户 (most households) would flatten every other bar.
CHART_CATEGORIES = [c for c in CATEGORIES if c[0] != "general"]
CHART_COLOURS = {
    "not_enjoying": "#2fb344",
    "enjoying": "#206bc4",
    "monitored": "#d63939",
    "exited_unclassified": "#9aa0ac",
    "marginal": "#f76707",
    "sudden": "#ae3ec9",
}


def registry_dashboard_context(user, place: str | None = None) -> dict:
    """Counts for the user's jurisdiction, or for ``place`` inside it (a town of a county: its villages); an empty
    dict for users who may not see household figures."""
    if not (user.can("dashboard.view") and user.can("household.view")):
        return {}
    place = dashboard_place(user, place)
    counts = registry_counts(user, place)
    if counts is None:
        return {}
    place_label = Level(counts.level).label
    names = [row.name for row in counts.rows]
    chart = {
        "color": [CHART_COLOURS[key] for key, _label in CHART_CATEGORIES],
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0, "type": "scroll"},
        # The legend takes the top row; the axis name "户" sits below it (on a phone the legend spans the width).
        "grid": {"left": 8, "right": 8, "bottom": 8, "top": 60, "containLabel": True},
        "xAxis": {
            "type": "category",
            "data": names,
            "axisLabel": {"interval": 0, "rotate": 30 if len(names) > 6 else 0},
        },
        "yAxis": {"type": "value", "name": "户", "minInterval": 1},
        "series": [
            {
                "name": label,
                "type": "bar",
                "stack": "total",
                "barMaxWidth": 48,
                "emphasis": {"focus": "series"},
                "data": [row.counts.get(key, 0) for row in counts.rows],
            }
            for key, label in CHART_CATEGORIES
        ],
    }
    list_url = reverse("registry:household_list")
    home_url = reverse("home")
    # Every figure opens the household list it counts (a village by ``village``, a town or more by ``area``); the
    # figures over the whole panel are limited to ``place`` when the panel shows one.
    within = {"area": place} if place else {}
    level_key = "village" if counts.level == Level.VILLAGE else "area"

    def link(n: int, **query) -> dict:
        return {"n": n, "url": f"{list_url}?{urlencode({**within, **query})}" if n else ""}

    def listed(**query) -> str:
        return f"{list_url}?{urlencode({**within, **query})}" if within or query else list_url

    # A click on a bar opens its households too (app.js reads "links" and leaves it out of the chart's option).
    chart["links"] = [
        [listed(**{level_key: row.code, "category": key}) for row in counts.rows]
        for key, _label in CHART_CATEGORIES
    ]
    rows = [
        {
            "code": row.code,
            "name": row.name,
            "url": listed(**{level_key: row.code}),
            # A town or more opens this panel for its own places; a village, its households.
            "drill": f"{home_url}?{urlencode({'place': row.code})}" if counts.level < Level.VILLAGE else "",
            "cells": [
                link(n, **{level_key: row.code, "category": key})
                for n, (key, _l) in zip(row.cells, CATEGORIES, strict=True)
            ],
            "at_risk": link(row.monitoring, **{level_key: row.code, "at_risk": "1"}),
            "differs": link(row.differs, **{level_key: row.code, "differs": "1"}),
            "total": row.total,
        }
        for row in counts.rows
    ]
    cards = [
        ("农户", counts.households, "", "户（不含已注销），即表中“合计”", listed(), "total-households"),
        ("在册人口", counts.members, "", "人（以上农户的在册成员）", listed(), "total-members"),
        (
            # Not a column of the partition: 脱贫不稳定户, 边缘易致贫户 and 突发严重困难户 whose risk is not
            # eliminated, wherever their household type puts them (the table's “监测对象（风险未消除）” column).
            "监测对象（风险未消除）",
            counts.monitoring,
            "text-orange",
            "户：脱贫不稳定户、边缘易致贫户、突发严重困难户中尚未消除风险的",
            listed(at_risk="1"),
            "total-monitoring",
        ),
        (
            "低于监测收入标准",
            counts.below_line,
            "text-red",
            f"户（年人均纯收入 < {plain(counts.line)} 元）",
            listed(below_line="1"),
            "total-below-line",
        ),
    ]
    helpers = _helper_badges(user, list_url) if not place else []
    # Where the panel stands, when it looks at a place inside the jurisdiction: the user's region (the way back),
    # then that place.
    path = []
    if place:
        path = [
            {"name": region_name(user.region_id), "url": home_url},
            {"name": region_name(place), "url": ""},
        ]
    return {
        "cards": [
            dict(zip(("label", "value", "colour", "note", "url", "testid"), card, strict=True))
            for card in cards
        ],
        "title": f"{path[-1]['name'] if place else ''}各{place_label}农户分类统计",
        "place_label": place_label,
        "path": path,
        "place_name": path[-1]["name"] if place else "",
        "list_url": listed(),
        "differs_url": listed(differs="1"),
        "categories": CATEGORIES,
        "rows": rows,
        "column_totals": [link(counts.by_category.get(key, 0), category=key) for key, _label in CATEGORIES],
        "at_risk_total": link(counts.monitoring, at_risk="1"),
        "households": counts.households,
        "members": counts.members,
        "monitoring": counts.monitoring,
        "below_line": counts.below_line,
        "differs": counts.differs,
        "line": counts.line,
        "chart": chart,
        "chart_id": CHART_ID,
        "helpers": helpers,
    }


def _helper_badges(user, list_url: str) -> list[dict]:
    """责任到人 on the panel of a town or a village: those who name 帮扶责任人/联系人 see how many households
    still lack one (a county's figure is on the 落实情况 page: counting it probes every exited household of the
    county). A 帮扶责任人's own figures lead their start page instead (``reports.views.helper_panel``)."""
    from fangfan.accounts.roles import Role
    from fangfan.registry.filters import without_helper_q
    from fangfan.registry.models import Household

    if not user.region_id or level_of(user.region_id) < Level.TOWN:
        return []
    if user.role == Role.HELPER:
        return []  # their own figures lead their start page (reports.views.helper_panel)
    households = Household.objects.for_user(user, "household.view").filter(cancelled=False)
    n = households.filter(without_helper_q()).count()
    return [
        {
            "label": "未落实帮扶责任人/联系人",
            "n": n,
            "url": f"{list_url}?no_helper=1" if n else reverse("registry:helper_workload"),
            "warn": n > 0,
            "testid": "helper-badge",
        }
    ]


def registry_dashboard_panel(request) -> dict | None:
    """A start-page panel (``reports.views.HOME_PANELS``); ``?place=`` looks at one place inside the jurisdiction."""
    context = registry_dashboard_context(request.user, request.GET.get("place"))
    return {"template": TEMPLATE, **context} if context else None
