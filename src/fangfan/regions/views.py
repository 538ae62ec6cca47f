"""Region pages for the system administrator: the subtree of their jurisdiction, and importing a code table."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe

from fangfan.core.commands import MAX_PROBLEMS_SHOWN
from fangfan.core.errors import DomainError, ValidationFailed
from fangfan.core.permissions import requires

from .forms import RegionFilterForm, RegionImportForm
from .models import Region
from .services import regions_import

PAGE_SIZE = 100


@requires("region.manage")
@require_safe
def region_list(request):
    filters = RegionFilterForm(request.GET or None)
    regions = Region.objects.for_user(request.user, "region.manage").select_related("parent")
    if filters.is_valid():
        q = (filters.cleaned_data.get("q") or "").strip()
        if q:
            regions = regions.filter(Q(name__contains=q) | Q(code__startswith=q))
        if filters.cleaned_data.get("level"):
            regions = regions.filter(level=filters.cleaned_data["level"])
    regions = regions.annotate(children_count=Count("children")).order_by("code")
    page = Paginator(regions, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    top = request.user.region.level if request.user.region_id else 1
    for region in page:
        region.indent = range(max(0, region.level - top))
    return render(
        request, "regions/region_list.html", {"filters": filters, "page": page, "query": query.urlencode()}
    )


@requires("region.manage")
@require_http_methods(["GET", "HEAD", "POST"])
def region_import(request):
    form = RegionImportForm(request.POST or None, request.FILES or None)
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        dry_run = form.cleaned_data["dry_run"]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"upload{Path(upload.name).suffix.lower()}"
            with path.open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            try:
                summary = regions_import(
                    path=path, actor=request.user, dry_run=dry_run, display_name=upload.name
                )
            except ValidationFailed as exc:
                context.update(
                    error=exc.message,
                    problems=[str(p) for p in exc.problems[:MAX_PROBLEMS_SHOWN]],
                    more=max(0, len(exc.problems) - MAX_PROBLEMS_SHOWN),
                )
            except DomainError as exc:
                context["error"] = exc.message
            else:
                context.update(summary=summary, dry_run=dry_run, file_name=upload.name)
    return render(request, "regions/region_import.html", context)
