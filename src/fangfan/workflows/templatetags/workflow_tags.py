"""``{% household_cases household %}``: the household page lists its approval cases and offers to start one,
without the registry importing workflows (a template may load a tag from any installed app)."""

from __future__ import annotations

from django import template
from django.utils import timezone

from ..forms import process_choices

register = template.Library()


@register.inclusion_tag("workflows/_household_section.html", takes_context=True)
def household_cases(context, household) -> dict:
    """The 审批事项 section for a household the page has already scoped (nothing without ``case.view``)."""
    user = context["user"]
    if not user.can("case.view"):
        return {"show": False}
    cases = list(household.cases.select_related("process", "current_step").order_by("-created_at")[:20])
    return {
        "show": True,
        "household": household,
        "cases": cases,
        "today": timezone.localdate(),
        "can_start": user.can("case.start") and not household.cancelled and bool(process_choices(household)),
    }
