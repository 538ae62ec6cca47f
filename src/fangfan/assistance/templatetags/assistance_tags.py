"""``{% household_assistance household %}``: the household page shows its risk points, measures and M8 exceptions
without the registry importing assistance (a template may load a tag from any installed app)."""

from __future__ import annotations

from django import template
from django.utils import timezone

from ..selectors import household_section
from ..services import is_not_enjoying

register = template.Library()


@register.inclusion_tag("assistance/_household_section.html", takes_context=True)
def household_assistance(context, household) -> dict:
    """Render the 帮扶措施 section for a household the page has already scoped (nothing without ``measure.view``)."""
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
    }
