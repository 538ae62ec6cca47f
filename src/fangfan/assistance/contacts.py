"""联系记录 (plan 四(二)2): recording a contact with a household, and the reads of the household page and the monthly
联系台账. Moved from ``registry`` (issue 17): contacts are assistance work; who the household's 帮扶责任人/联系人 is
stays in the registry (``registry.HelperAssignment``, docs/architecture.md)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from fangfan.accounts.models import User
from fangfan.core import audit
from fangfan.core.errors import DomainError
from fangfan.registry.filters import helped_by_q, needs_helper_q
from fangfan.registry.models import HelperAssignment, Household

from .models import ContactRecord

CONTACT_TEXT_LIMIT = 500


def _ensure(actor: User | None, action: str, household: Household) -> User:
    """``actor``, when it may do ``action`` on ``household``; else DomainError (as the registry's services say it)."""
    if actor is None or not actor.can(action):
        raise DomainError("您的角色无权进行此操作")
    span = actor.jurisdiction_range()
    if span is None or not (span[0] <= household.region_id < span[1]):
        raise DomainError("该农户不在您的管辖范围内")
    return actor


def contact_record(
    *,
    household: Household,
    actor: User | None,
    on: date,
    way: str,
    living: str = "",
    risks: str = "",
    needs: str = "",
    risk_found: bool = False,
    today: date | None = None,
) -> ContactRecord:
    """Record a contact with the household — a home visit, call, SMS, WeChat or video — and what was learned. The
    audit event names the date, the way and whether a risk was found; the notes stay in the record (they may hold
    what a family told in confidence, and the audit log is read by the audit administrator)."""
    actor = _ensure(actor, "household.contact", household)
    today = today or date.today()
    if household.cancelled:
        raise DomainError("该户已注销，不能登记联系")
    if on > today:
        raise DomainError("联系日期不能晚于今天")
    if on < today - timedelta(days=366):
        raise DomainError("只能登记一年以内的联系")
    if way not in ContactRecord.Way.values:
        raise DomainError(f"联系方式应为：{'、'.join(str(label) for label in ContactRecord.Way.labels)}")
    notes = {"living": living.strip(), "risks": risks.strip(), "needs": needs.strip()}
    if not any(notes.values()):
        raise DomainError("请至少填写了解到的生活状况、风险隐患或帮扶需求之一")
    for key, value in notes.items():
        if len(value) > CONTACT_TEXT_LIMIT:
            label = ContactRecord._meta.get_field(key).verbose_name
            raise DomainError(f"{label}最多 {CONTACT_TEXT_LIMIT} 字")
    with transaction.atomic():
        record = ContactRecord.objects.create(
            household=household, contacted_on=on, way=way, risk_found=risk_found, recorded_by=actor, **notes
        )
        audit.record(
            actor,
            "household.contacted",
            household,
            after={"date": on, "way": str(ContactRecord.Way(way).label), "risk_found": risk_found},
        )
    return record


# --- reads ------------------------------------------------------------------------------------------------------


def household_contacts(household: Household, *, limit: int = 12) -> list[ContactRecord]:
    """The household's latest contacts, newest first (through the household the page has already scoped)."""
    return list(household.contacts.select_related("recorded_by").order_by("-contacted_on", "-id")[:limit])


def contact_ledger(
    user: User,
    first: date,
    after: date,
    *,
    helper_pk: int | None = None,
    missing: bool = False,
    village: str = "",
) -> tuple[QuerySet[Household], dict[str, int]]:
    """The monthly contact ledger (联系台账): every household of the user's jurisdiction that must have a
    帮扶责任人/联系人 (``registry.filters.needs_helper_q``) — or only ``helper_pk``'s — with its current helper, its
    contacts in the month and its latest contact; ``missing``: only those not contacted in the month. Returns
    (households, summary of the whole ledger: households, contacted, not contacted)."""
    in_month = ContactRecord.objects.filter(
        household=OuterRef("pk"), contacted_on__gte=first, contacted_on__lt=after
    )
    base = Household.objects.for_user(user, "household.view").filter(cancelled=False).filter(needs_helper_q())
    if helper_pk is not None:
        base = base.filter(helped_by_q(helper_pk))
    if village:
        base = base.filter(region_id=village)  # inside the jurisdiction already: only narrower
    counted = base.aggregate(total=Count("pk"), done=Count("pk", filter=Q(Exists(in_month))))
    total, done = counted["total"], counted["done"]
    rows = base.filter(~Exists(in_month)) if missing else base
    rows = rows.select_related("region").annotate(
        month_contacts=Coalesce(
            Subquery(in_month.order_by().values("household").annotate(n=Count("id")).values("n")), 0
        ),
        last_contact=Subquery(
            ContactRecord.objects.filter(household=OuterRef("pk"))
            .order_by("-contacted_on")
            .values("contacted_on")[:1]
        ),
        helper_name=Subquery(
            HelperAssignment.objects.filter(household=OuterRef("pk"), ended_on__isnull=True).values(
                "helper__full_name"
            )[:1]
        ),
    )
    return rows.order_by("region_id", "number"), {
        "households": total,
        "contacted": done,
        "missing": total - done,
    }
