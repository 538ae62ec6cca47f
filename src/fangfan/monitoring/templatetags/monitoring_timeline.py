"""``{% household_timeline household %}``: the household page shows its early-warning history without the registry
importing monitoring (apps import only from apps above them; a template may load a tag from any installed app)."""

from __future__ import annotations

from django import template

from ..selectors import household_timeline as timeline_of

register = template.Library()


@register.inclusion_tag("monitoring/_household_timeline.html")
def household_timeline(household) -> dict:
    """Render ``monitoring/_household_timeline.html`` for a household the page has already scoped."""
    return {"timeline": timeline_of(household)}
