"""The policy page: the parameters in force for the user's region and a year, and — for editors — setting a value
for a region of theirs. After a change the households of that region are recomputed (in the background for
large regions), so suggestions follow the new monitoring line."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods

from fangfan.core.errors import DomainError
from fangfan.core.jobs import job_start
from fangfan.core.permissions import requires
from fangfan.regions.codes import code_range
from fangfan.regions.models import Region
from fangfan.registry.models import Household
from fangfan.registry.recompute import JOB_KIND, households_recompute_scope

from . import selectors
from .forms import PolicyValueForm
from .services import policy_set

# Up to this many households are recomputed within the request (a town: about a second); more run as a job.
SYNC_RECOMPUTE_LIMIT = 10_000


def _year(raw) -> int:
    try:
        year = int(raw)
    except (TypeError, ValueError):
        return date.today().year
    return year if 2000 <= year <= 2100 else date.today().year


def _recompute(request, region_code: str, year: int) -> None:
    if year > date.today().year:
        messages.info(request, f"该值自 {year} 年起执行，当前测算结果暂不变化。")
        return
    lo, hi = code_range(region_code)
    # Scoped by the region policy_set has just checked against the user's jurisdiction.
    total = Household.objects.filter(region_id__gte=lo, region_id__lt=hi).count()
    if total <= SYNC_RECOMPUTE_LIMIT:
        changed = households_recompute_scope(region_code=region_code, actor=request.user)
        messages.success(
            request, f"已按新参数重新计算 {total} 户，其中 {changed} 户的测算结果或建议分类有变化。"
        )
        return
    region = Region.objects.filter(code=region_code).first()
    job = job_start(
        kind=JOB_KIND,
        title=f"按新政策参数重新计算{region.name if region else region_code}农户测算结果",
        actor=request.user,
        params={"region_code": region_code},
        region_code=region_code,
    )
    try:
        link = reverse("core:job_detail", args=[job.pk])
    except NoReverseMatch:
        link = ""
    messages.info(
        request,
        f"农户较多，已在后台重新计算（任务 {job.pk}）{'，可在“后台任务”中查看进度' if link else ''}。",
    )


@requires("policy.view")
@require_http_methods(["GET", "HEAD", "POST"])
def parameter_list(request):
    user = request.user
    year = _year(request.GET.get("year"))
    can_edit = user.can("policy.edit")
    form = None
    if can_edit:
        form = PolicyValueForm(
            request.POST if request.method == "POST" else None,
            regions=selectors.editable_regions(user),
            initial={"region": user.region_id, "year": year},
        )
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("policy.edit")
        if form.is_valid():
            data = form.cleaned_data
            try:
                policy_set(
                    actor=user,
                    key=data["key"],
                    region_code=data["region"],
                    year=data["year"],
                    value=data["value"],
                    note=data["note"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "已保存政策参数。")
                _recompute(request, data["region"], data["year"])
                return redirect(f"{reverse('policy:parameter_list')}?year={data['year']}")
    this_year = date.today().year
    context = {
        "year": year,
        "years": list(range(this_year - 3, this_year + 2)),
        "values": selectors.effective_values(region_code=user.region_id, year=year) if user.region_id else [],
        "overrides": selectors.overrides_in_scope(user) if can_edit else [],
        "history": selectors.policy_history(user) if can_edit else [],
        "form": form,
        "can_edit": can_edit,
    }
    return render(request, "policy/parameter_list.html", context)
