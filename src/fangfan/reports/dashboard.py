"""The registry's panel on the start page: households per place and category, a stacked bar chart and totals.

``registry_dashboard_context(user)`` builds the context of ``reports/_registry_dashboard.html`` (the partial reads
it as ``panel``); ``registry_dashboard_panel(request)`` fits the start page's ``HOME_PANELS`` list.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

from fangfan.policy.selectors import plain
from fangfan.regions.codes import Level

from .selectors import CATEGORIES, registry_counts

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


def registry_dashboard_context(user) -> dict:
    """Counts for the user's jurisdiction; an empty dict for users who may not see household figures."""
    if not (user.can("dashboard.view") and user.can("household.view")):
        return {}
    counts = registry_counts(user)
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
    # Every figure opens the household list it counts (a village by ``village``, a town or more by ``area``).
    place = "village" if counts.level == Level.VILLAGE else "area"

    def link(n: int, **query) -> dict:
        return {"n": n, "url": f"{list_url}?{urlencode(query)}" if n else ""}

    # A click on a bar opens its households too (app.js reads "links" and leaves it out of the chart's option).
    chart["links"] = [
        [f"{list_url}?{urlencode({place: row.code, 'category': key})}" for row in counts.rows]
        for key, _label in CHART_CATEGORIES
    ]
    rows = [
        {
            "code": row.code,
            "name": row.name,
            "url": f"{list_url}?{urlencode({place: row.code})}",
            "cells": [
                link(n, **{place: row.code, "category": key})
                for n, (key, _l) in zip(row.cells, CATEGORIES, strict=True)
            ],
            "differs": link(row.differs, **{place: row.code, "differs": "1"}),
            "total": row.total,
        }
        for row in counts.rows
    ]
    cards = [
        ("农户", counts.households, "", "户（不含已注销）", list_url, "total-households"),
        ("在册人口", counts.members, "", "人", list_url, "total-members"),
        (
            "监测对象",
            counts.monitoring,
            "text-orange",
            "户（风险未消除）",
            f"{list_url}?at_risk=1",
            "total-monitoring",
        ),
        (
            "低于监测收入标准",
            counts.below_line,
            "text-red",
            f"户（年人均纯收入 < {plain(counts.line)} 元）",
            f"{list_url}?below_line=1",
            "total-below-line",
        ),
    ]
    return {
        "cards": [
            dict(zip(("label", "value", "colour", "note", "url", "testid"), card, strict=True))
            for card in cards
        ],
        "title": f"各{place_label}农户分类统计",
        "place_label": place_label,
        "list_url": list_url,
        "differs_url": f"{list_url}?differs=1",
        "categories": CATEGORIES,
        "rows": rows,
        "column_totals": [link(counts.by_category.get(key, 0), category=key) for key, _label in CATEGORIES],
        "households": counts.households,
        "members": counts.members,
        "monitoring": counts.monitoring,
        "below_line": counts.below_line,
        "differs": counts.differs,
        "line": counts.line,
        "chart": chart,
        "chart_id": CHART_ID,
    }


def registry_dashboard_panel(request) -> dict | None:
    """A start-page panel (``reports.views.HOME_PANELS``)."""
    context = registry_dashboard_context(request.user)
    return {"template": TEMPLATE, **context} if context else None
