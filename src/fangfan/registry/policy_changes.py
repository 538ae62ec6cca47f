"""After a policy value is saved (``policy.hooks``): the households of its region are recomputed with the new
values — within the request for up to ``SYNC_RECOMPUTE_LIMIT`` households (a town: about a second), else as a
background job — and the page says so. Registered by ``RegistryConfig.ready``."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.urls import NoReverseMatch, reverse

from fangfan.core.jobs import job_start
from fangfan.policy.hooks import on_value_saved
from fangfan.regions.codes import code_range
from fangfan.regions.models import Region

from .jobs import RECOMPUTE_KIND
from .models import Household

# Up to this many households are recomputed within the request (a town: about a second); more run as a job.
SYNC_RECOMPUTE_LIMIT = 10_000


@on_value_saved
def households_recompute_after_policy(request, *, region_code: str, year: int) -> None:
    if year > date.today().year:
        messages.info(request, f"该值自 {year} 年起执行，当前测算结果暂不变化。")
        return
    lo, hi = code_range(region_code)
    # Counted under the user's own scope (the region policy_set has just checked against it), never every row.
    total = (
        Household.objects.for_user(request.user, "household.view")
        .filter(region_id__gte=lo, region_id__lt=hi)
        .count()
    )
    if total <= SYNC_RECOMPUTE_LIMIT:
        from .recompute import households_recompute_scope  # derive and pypinyin load only when needed

        changed = households_recompute_scope(region_code=region_code, actor=request.user)
        messages.success(
            request, f"已按新参数重新计算 {total} 户，其中 {changed} 户的测算结果或建议分类有变化。"
        )
        return
    region = Region.objects.filter(code=region_code).first()
    job = job_start(
        kind=RECOMPUTE_KIND,
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
