"""Reads of 资金 that need scoping: the funds a user sees (those of its jurisdiction, and for a village the funds
of its town, which it may ask money from), a fund's ledger with its running balance, the requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet

from fangfan.regions.codes import ancestors_of

from .choices import RequestState
from .models import Fund, FundEntry, FundRequest


def funds_for_user(user, action: str = "fund.view") -> QuerySet[Fund]:
    """Funds of the user's jurisdiction, plus the funds of the places above it (a village's town): those the user
    may ask a payment from and whose balance it may see — not their ledgers, which name other villages' households."""
    if not user.can(action) or not getattr(user, "region_id", None):
        return Fund.objects.none()
    inside = Fund.objects.for_user(user, action)
    # Unscoped: the funds of the places above the user's region (a village's town), by their codes.
    above = Fund.objects.unscoped().filter(region_id__in=ancestors_of(user.region_id))
    return Fund.objects.unscoped().filter(Q(pk__in=inside.values("pk")) | Q(pk__in=above.values("pk")))


def ledger_funds(user) -> QuerySet[Fund]:
    """Funds whose ledger the user may read: inside its jurisdiction only."""
    return Fund.objects.for_user(user, "fund.view")


def funds_for_household(user, household, action: str = "fund.request") -> list[Fund]:
    """Active funds a request for the household may draw on: its village's and its town's that the user sees."""
    chain = [*ancestors_of(household.region_id), household.region_id]
    return list(
        funds_for_user(user, action).filter(region_id__in=chain, active=True).select_related("region")
    )


@dataclass
class LedgerFilters:
    date_from: date | None = None
    date_to: date | None = None
    kind: str = ""


def ledger_entries(fund_ids, filters: LedgerFilters) -> QuerySet[FundEntry]:
    """Entries of the funds in the order they were written (``balance_after`` is then the running balance). The
    caller read the funds under the user's scope (``ledger_funds``)."""
    qs = FundEntry.objects.unscoped().filter(fund_id__in=fund_ids)
    if filters.date_from:
        qs = qs.filter(day__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(day__lte=filters.date_to)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    return qs.select_related(
        "fund", "household", "request__decided_by", "request__measure__measure_type", "reverses", "created_by"
    ).order_by("fund_id", "id")


def requests_for_user(user, *, state: str = "", fund: Fund | None = None) -> QuerySet[FundRequest]:
    qs = FundRequest.objects.for_user(user, "fund.view")
    if state == "open":
        qs = qs.filter(state__in=(RequestState.REQUESTED, RequestState.APPROVED))
    elif state:
        qs = qs.filter(state=state)
    if fund is not None:
        qs = qs.filter(fund=fund)
    return qs.select_related("fund", "household", "measure__measure_type", "requested_by", "decided_by")
