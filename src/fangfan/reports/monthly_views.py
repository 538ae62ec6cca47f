"""月报 pages: the report of a place for a month (charts, drill-down to the places below), its 公开版, and the same
figures as PDF or .xlsx."""

from __future__ import annotations

import tempfile
from datetime import date
from urllib.parse import urlencode

from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from fangfan.core import audit
from fangfan.core.errors import DomainError
from fangfan.core.permissions import requires
from fangfan.regions.codes import Level

from .monthly import MonthlyReport
from .monthly import monthly_report as monthly_figures
from .monthly_files import tables, write_monthly_pdf, write_monthly_xlsx

COLOURS = ["#d63939", "#f76707", "#ae3ec9"]


def report_for(user, *, region: str = "", month: str = "", public: bool = False, today: date | None = None):
    """The report asked for, checked: the region inside the user's jurisdiction (DomainError otherwise), the month
    ``YYYY-MM`` and not in the future (default: this month)."""
    from fangfan.registry.history import month_parse

    today = today or timezone.localdate()
    region = (region or "").strip() or ("" if user.is_operator else (user.region_id or ""))
    if not region:
        raise DomainError("请用 --region 指明区划")
    if len(region) != 12 or not region.isdigit():
        raise DomainError(f"区划代码“{region}”无效，应为 12 位数字")
    if not user.is_operator:
        span = user.jurisdiction_range()
        if span is None or not (span[0] <= region < span[1]):
            raise DomainError(f"区划 {region} 不在您的管辖范围内")
    first = month_parse(month or None, today=today)
    if first > today.replace(day=1):
        raise DomainError(f"{first:%Y-%m} 还没有到")
    return monthly_figures(user, region=region, first=first, public=public)


def _request_report(request) -> MonthlyReport:
    try:
        return report_for(
            request.user,
            region=request.GET.get("region", ""),
            month=request.GET.get("month", ""),
            public=request.GET.get("public") == "1",
        )
    except DomainError as exc:
        raise Http404 from exc


def _charts(report: MonthlyReport) -> tuple[dict, dict]:
    trend = {
        "color": COLOURS,
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 16, "bottom": 8, "top": 40, "containLabel": True},
        "xAxis": {"type": "category", "data": report.trend["months"]},
        "yAxis": {"type": "value", "name": "户", "minInterval": 1},
        "series": [
            {"name": name, "type": "line", "stack": "total", "areaStyle": {}, "data": data}
            for name, data in report.trend["series"].items()
        ],
    }
    composition = {
        "color": COLOURS,
        "tooltip": {"trigger": "item"},
        "legend": {"bottom": 0},
        "series": [
            {
                "type": "pie",
                "radius": ["40%", "68%"],
                "data": [{"name": k, "value": v} for k, v in report.composition.items()],
            }
        ],
    }
    if report.public:  # the charts show no figure the tables leave out
        for series in trend["series"]:
            series["data"] = [v if v >= 5 else None for v in series["data"]]
        composition["series"][0]["data"] = [d for d in composition["series"][0]["data"] if d["value"] >= 5]
    return trend, composition


@requires("dashboard.view")
@require_safe
def monthly_report(request):
    """月报: figures with last month beside them, twelve months' trend, the composition by type, and the places
    below, each name opening its own report."""
    report = _request_report(request)
    keep = {"month": f"{report.first:%Y-%m}", **({"public": "1"} if report.public else {})}
    url = reverse("reports:monthly")

    def link(code: str, **extra) -> str:
        return f"{url}?{urlencode({'region': code, **keep, **extra})}"

    trend, composition = _charts(report)
    children_rows = []
    if report.children:
        from .monthly_files import children_table

        columns, rows = children_table(report)
        children_rows = [
            {"name": name, "url": link(child.code), "cells": [c.shown(report.public) for c in cells]}
            for (name, cells), child in zip(rows, report.children, strict=True)
        ]
    else:
        columns = []
    base = {"region": report.region, "month": keep["month"]}
    return render(
        request,
        "reports/monthly.html",
        {
            "report": report,
            "tables": tables(report)[: len(report.sections)],
            "child_columns": columns,
            "children": children_rows,
            "path": [{"name": name, "url": link(code)} for code, name in report.path],
            "trend": trend,
            "composition": composition,
            "public_url": f"{url}?{urlencode({**base, 'public': '1'})}",
            "full_url": f"{url}?{urlencode(base)}",
            "pdf_url": reverse("reports:monthly_export")
            + "?"
            + urlencode({**keep, "region": report.region, "format": "pdf"}),
            "xlsx_url": reverse("reports:monthly_export")
            + "?"
            + urlencode({**keep, "region": report.region, "format": "xlsx"}),
            "village_level": report.level >= Level.VILLAGE,
        },
    )


def report_record(user, report: MonthlyReport, kind: str) -> None:
    audit.record(
        user,
        "report.monthly_exported",
        object_type="reports.monthly",
        object_label=report.title,
        region_code=report.region,
        after={
            "region": report.region,
            "month": f"{report.first:%Y-%m}",
            "public": report.public,
            "format": kind,
        },
        note="导出月报",
    )


@requires("dashboard.view")
@require_safe
def monthly_export(request):
    """The same figures as PDF (``format=pdf``) or .xlsx."""
    report = _request_report(request)
    kind = "pdf" if request.GET.get("format") == "pdf" else "xlsx"
    target = tempfile.TemporaryFile(suffix=f".{kind}")  # noqa: SIM115 - FileResponse closes (and so deletes) it
    (write_monthly_pdf if kind == "pdf" else write_monthly_xlsx)(report, target)
    report_record(request.user, report, kind)
    target.seek(0)
    name = f"月报-{report.region_name}-{report.first:%Y%m}{'-公开版' if report.public else ''}.{kind}"
    return FileResponse(target, as_attachment=True, filename=name)
