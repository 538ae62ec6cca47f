"""联系记录 pages (plan 四(二)2): recording a contact with a household (and what a visit learned, plan M14) and the
monthly 联系台账 with its Excel. Moved from ``registry`` with the contacts (issue 17); the paths stay under
``/households/`` (``contact_urls``)."""

from __future__ import annotations

import tempfile
from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from fangfan.accounts.roles import Role
from fangfan.core.errors import DomainError
from fangfan.core.permissions import requires
from fangfan.core.scoping import get_for_user_or_404
from fangfan.monitoring.forms import WARNING_DRAFT_KEY
from fangfan.registry.models import Household, Member
from fangfan.registry.selectors import month_span, village_names
from fangfan.registry.services import StaleEdit

from . import contacts, visits
from .contact_forms import ContactForm, VisitChangesForm
from .exporting import contact_ledger_export as contact_ledger_export_file


def _done(request, household: Household, message: str):
    messages.success(request, message)
    return redirect("registry:household_detail", pk=household.pk)


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
        except StaleEdit as exc:
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
                    request,
                    "assistance/contacts/visit_result.html",
                    {"household": household, "outcome": outcome},
                )
            return _done(request, household, "联系记录已保存。")
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "assistance/contacts/household_contact.html",
        {"household": household, "form": form, "changes": changes, "title": "登记联系记录"},
        status=status,
    )


def _ledger(request):
    """The ledger's rows and summary for the request's filters, and those filters as applied."""
    user = request.user
    today = timezone.localdate()
    first, after = month_span(request.GET.get("month"), today)
    is_helper = user.role == Role.HELPER
    mine = is_helper and request.GET.get("all") != "1"
    missing = request.GET.get("missing") == "1"
    villages = village_names(user)
    village = request.GET.get("village", "")
    village = village if village in villages else ""
    rows, summary = contacts.contact_ledger(
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
        "assistance/contacts/contact_ledger.html",
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
