"""帮扶责任人/联系人 pages (plan 四(一)3, 四(二)2): naming a household's helper, the helpers' workload, recording a
contact (and what a visit learned) and the monthly 联系台账. Split from ``views`` by area."""

from __future__ import annotations

import tempfile
from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from fangfan.accounts.roles import Role
from fangfan.core.errors import DomainError
from fangfan.core.permissions import requires
from fangfan.core.scoping import get_for_user_or_404

from . import selectors, services, visits
from .exporter import contact_ledger_export as contact_ledger_export_file
from .forms import (
    WARNING_DRAFT_KEY,
    ContactForm,
    HelperAssignForm,
    HelperReleaseForm,
    VisitChangesForm,
)
from .models import Household, Member
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


# --- 联系记录 and the monthly ledger (plan 四(二)2) ---------------------------------------------------------------


@requires("household.contact")
@require_http_methods(["GET", "HEAD", "POST"])
def household_contact(request, pk: int):
    """Record a contact with the household and what it changed (本次了解到的变化: applied through the edit services,
    the household re-screened at once, the answer shows what changed); a risk found goes on to the warning form
    (verification starts there)."""
    household = get_for_user_or_404(
        Household.objects.select_related("region"), request.user, "household.contact", pk=pk
    )
    if household.cancelled:
        raise Http404("该户已注销")
    members = list(household.members.filter(status=Member.Status.ACTIVE).order_by("-is_head", "id"))
    form = ContactForm(request.POST or None)
    changes = VisitChangesForm(request.POST or None, household=household, members=members)
    if request.method == "POST" and form.is_valid() and changes.is_valid():
        data = form.cleaned_data
        household_changes, member_changes, seen = changes.changes()
        try:
            outcome = visits.visit_record(
                household=household,
                actor=request.user,
                on=data["on"],
                way=data["way"],
                living=data["living"],
                risks=data["risks"],
                needs=data["needs"],
                risk_found=data["risk_found"],
                household_changes=household_changes,
                member_changes=member_changes,
                seen=seen,
            )
        except services.StaleEdit as exc:
            form.add_error(None, exc.message)
            household.refresh_from_db()
            members = list(household.members.filter(status=Member.Status.ACTIVE).order_by("-is_head", "id"))
            changes = VisitChangesForm(household=household, members=members)  # what is stored now
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            if data["risk_found"]:
                # The warning form starts from what was typed here: kept in the session, never in the address
                # (a family's circumstances stay out of URLs and logs); read once by the form.
                request.session[WARNING_DRAFT_KEY] = {
                    "household": household.pk,
                    "description": (data["risks"] or "").strip()[:500],
                    "channel": "cadre",
                }
                for action, name in (
                    ("warning.verify", "monitoring:warning_report"),
                    ("warning.feedback", "monitoring:warning_feedback"),
                ):
                    if request.user.can(action):
                        messages.success(
                            request, "联系记录已保存。请登记发现的风险，系统将派发入户核查任务。"
                        )
                        if outcome.changes:
                            messages.info(request, visits.summary(outcome))
                        return redirect(name, pk=household.pk)
            if outcome.changes:
                return render(
                    request, "registry/visit_result.html", {"household": household, "outcome": outcome}
                )
            return _done(request, household, "联系记录已保存。")
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "registry/household_contact.html",
        {"household": household, "form": form, "changes": changes, "title": "登记联系记录"},
        status=status,
    )


def _ledger(request):
    """The ledger's rows and summary for the request's filters, and those filters as applied."""
    user = request.user
    today = timezone.localdate()
    first, after = selectors.month_span(request.GET.get("month"), today)
    is_helper = user.role == Role.HELPER
    mine = is_helper and request.GET.get("all") != "1"
    missing = request.GET.get("missing") == "1"
    villages = selectors.village_names(user)
    village = request.GET.get("village", "")
    village = village if village in villages else ""
    rows, summary = selectors.contact_ledger(
        user, first, after, helper_pk=user.pk if mine else None, missing=missing, village=village
    )
    applied = {"month": f"{first:%Y-%m}", "mine": mine, "missing": missing, "village": village}
    return (
        rows,
        summary,
        applied,
        {"today": today, "first": first, "villages": villages, "is_helper": is_helper},
    )


@requires("household.view")
@require_http_methods(["GET", "HEAD"])
def contact_ledger(request):
    """联系台账: the households that must have a 帮扶责任人/联系人, each with its contacts in the month — the ones not
    contacted first to see with ``missing=1``. A 帮扶责任人/联系人 sees their own households unless they ask for all."""
    rows, summary, applied, more = _ledger(request)
    paginator = Paginator(rows, 50)
    paginator.count = summary["missing"] if applied["missing"] else summary["households"]  # counted already
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    months = []
    day = more["today"].replace(day=1)
    for _ in range(12):
        months.append(day)
        day = (day - timedelta(days=1)).replace(day=1)
    return render(
        request,
        "registry/contact_ledger.html",
        {
            "page": page,
            "query": query.urlencode(),
            "summary": summary,
            "month": more["first"],
            "months": months,
            "missing": applied["missing"],
            "villages": more["villages"],
            "village": applied["village"],
            "village_name": more["villages"].get(applied["village"], ""),
            "is_helper": more["is_helper"],
            "mine": applied["mine"],
            "can_contact": request.user.can("household.contact"),
            "can_export": request.user.can("household.export"),
        },
    )


@requires("household.export")
@require_http_methods(["GET", "HEAD"])
def contact_ledger_export(request):
    """The ledger as it is filtered, as .xlsx (a town's ≈ 2 000 rows take well under a second)."""

    rows, _summary, applied, more = _ledger(request)
    target = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes (and so deletes) it
    contact_ledger_export_file(
        actor=request.user, rows=rows, first=more["first"], path=target, filters=applied
    )
    target.seek(0)
    return FileResponse(
        target,
        as_attachment=True,
        filename=f"联系台账-{more['first']:%Y%m}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
