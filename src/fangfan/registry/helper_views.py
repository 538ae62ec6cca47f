"""帮扶责任人/联系人 pages (plan 四(一)3, 四(二)2): naming a household's helper and the helpers' workload. Split from
``views`` by area; recording a contact and the monthly 联系台账 are assistance's (``assistance.contact_views``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from fangfan.core.errors import DomainError
from fangfan.core.permissions import requires

from . import selectors, services
from .forms import HelperAssignForm, HelperReleaseForm
from .models import Household
from .views import _done, _editable

BULK_HELPER_LIMIT = 500


@requires("household.edit")
@require_http_methods(["GET", "HEAD", "POST"])
def household_helper(request, pk: int):
    """Name, replace or release one household's 帮扶责任人/联系人; the page lists who looked after it before."""
    household = _editable(request, pk)
    assignments = selectors.helper_assignments(household)
    current = assignments[0] if assignments and assignments[0].ended_on is None else None
    releasing = request.method == "POST" and request.POST.get("action") == "release"
    form = HelperAssignForm(
        request.POST if request.method == "POST" and not releasing else None,
        candidates=selectors.helper_candidates([household]),
        replacing=current is not None,
    )
    release = HelperReleaseForm(request.POST if releasing else None) if current else None
    if request.method == "POST" and not releasing and form.is_valid():
        data = form.cleaned_data
        try:
            changed = services.helpers_assign(
                households=[household],
                helper=data["helper"],
                actor=request.user,
                on=data["on"],
                reason=data.get("reason", ""),
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            if not changed:
                return _done(request, household, f"{data['helper']} 已是该户的帮扶责任人/联系人，未作改动。")
            return _done(request, household, f"已指定 {data['helper']} 为该户的帮扶责任人/联系人。")
    if releasing and release is not None and release.is_valid():
        try:
            services.helper_release(
                household=household,
                actor=request.user,
                on=release.cleaned_data["release_on"],
                reason=release.cleaned_data["release_reason"],
            )
        except DomainError as exc:
            release.add_error(None, exc.message)
        else:
            return _done(request, household, "已解除该户的帮扶责任人/联系人。")
    return render(
        request,
        "registry/household_helper.html",
        {
            "household": household,
            "form": form,
            "release": release,
            "current": current,
            "assignments": assignments,
            "needs_helper": selectors.needs_helper(household),
        },
    )


@requires("household.edit")
@require_POST
def helpers_assign(request):
    """Name one 帮扶责任人/联系人 for the households ticked on the list (at most 500): the first post carries the
    ticked ids and shows the form; the second assigns them all, or none."""
    raw = request.POST.getlist("ids")
    ids = sorted({int(v) for v in raw if v.isascii() and v.isdigit() and len(v) < 12})
    back = request.POST.get("back", "")
    if not back.startswith("/households/"):
        back = "/households/"
    if not ids:
        messages.warning(request, "请先在列表中勾选农户。")
        return redirect(back)
    if len(ids) > BULK_HELPER_LIMIT:
        messages.warning(request, f"一次最多指定 {BULK_HELPER_LIMIT} 户，请缩小范围后再选。")
        return redirect(back)
    households = list(
        Household.objects.for_user(request.user, "household.edit")
        .filter(pk__in=ids, cancelled=False)
        .select_related("region")
        .order_by("region_id", "number")
    )
    if len(households) != len(ids):
        raise Http404("所选农户不在您的管辖范围内或已注销")
    current = selectors.current_helpers(households)
    for household in households:
        household.current_helper = current.get(household.pk)
    form = HelperAssignForm(
        request.POST if "helper" in request.POST else None,
        candidates=selectors.helper_candidates(households),
        replacing=bool(current),
    )
    if "helper" in request.POST and form.is_valid():
        data = form.cleaned_data
        try:
            changed = services.helpers_assign(
                households=households,
                helper=data["helper"],
                actor=request.user,
                on=data["on"],
                reason=data.get("reason", ""),
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                f"已指定 {data['helper']} 为 {changed} 户的帮扶责任人/联系人"
                + (f"（另 {len(households) - changed} 户原本就是）" if changed < len(households) else "")
                + "。",
            )
            return redirect(back)
    return render(
        request,
        "registry/helpers_assign.html",
        {"households": households, "current": current, "form": form, "back": back},
    )


@requires("household.view")
@require_http_methods(["GET", "HEAD"])
def helper_workload(request):
    """责任到人: each 帮扶责任人/联系人 of the jurisdiction with the households they look after, and the
    households that need one and have none."""
    counts = selectors.helper_coverage(request.user)
    return render(
        request,
        "registry/helper_workload.html",
        {"rows": selectors.helper_workload(request.user), **counts},
    )
