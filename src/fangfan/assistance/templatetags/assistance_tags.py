"""``{% household_assistance household %}`` and ``{% household_contacts household %}``: the household page shows its
risk points, measures, M8 exceptions and 联系记录 without the registry importing assistance (a template may load a
tag from any installed app)."""

from __future__ import annotations

from django import template
from django.utils import timezone

from ..contacts import household_contacts as latest_contacts
from ..selectors import household_section
from ..services import is_not_enjoying

register = template.Library()


@register.inclusion_tag("assistance/_household_section.html", takes_context=True)
def household_assistance(context, household) -> dict:
    """Render the 帮扶措施 section (with its fund requests and 消费帮扶 sales) for a household the page has already scoped (nothing without ``measure.view``)."""
    user = context["user"]
    if not user.can("measure.view"):
        return {"show": False}
    open_household = not household.cancelled
    return {
        "show": True,
        "household": household,
        "user": user,
        "csrf_token": context.get("csrf_token"),
        "today": timezone.localdate(),
        "not_enjoying": is_not_enjoying(household),
        "can_add": open_household and user.can("measure.edit"),
        "can_register": open_household and user.can("risk.register"),
        "can_close": user.can("risk.close"),
        "can_confirm": user.can("risk.confirm_close"),
        "can_request_exception": open_household and user.can("measure.exception_request"),
        "can_approve_exception": user.can("measure.exception_approve"),
        **household_section(household, user),
        **_funds_and_sales(household, user, open_household),
    }


@register.inclusion_tag("assistance/contacts/_household_contacts.html", takes_context=True)
def household_contacts(context, household) -> dict:
    """The household's latest 联系记录 (plan 四(二)2) and, for the roles that record them, 登记联系 — for a household
    the page has already scoped."""
    user = context["user"]
    return {
        "household": household,
        "contacts": latest_contacts(household),
        "can_contact": user.can("household.contact") and not household.cancelled,
    }


def _funds_and_sales(household, user, open_household: bool) -> dict:
    """The household's fund requests (资金) and its products with their sales (消费帮扶), for those who may see them."""
    from ..fund_selectors import requests_for_user
    from ..models import Product, Sale

    context: dict = {"show_funds": user.can("fund.view"), "show_sales": user.can("consumption.view")}
    if context["show_funds"]:
        context["fund_requests"] = list(
            requests_for_user(user).filter(household=household).order_by("-requested_at")[:20]
        )
        context["can_request_fund"] = open_household and user.can("fund.request")
    if context["show_sales"]:
        context["products"] = list(
            Product.objects.for_user(user, "consumption.view").filter(household=household).order_by("id")
        )
        context["sales"] = list(
            Sale.objects.for_user(user, "consumption.view")
            .filter(household=household)
            .select_related("product")
            .order_by("-day", "-id")[:20]
        )
        context["sales_total"] = sum((s.amount for s in context["sales"]), 0)
        context["can_edit_sales"] = open_household and user.can("consumption.edit")
    return context
