"""Template helpers shared by every app."""

from typing import Any

from django import template

register = template.Library()


@register.filter
def can(user: Any, action: str) -> bool:
    """``{% if user|can:"warning.verify" %}``: the role matrix, as the views check it."""
    return bool(getattr(user, "is_authenticated", False) and user.can(action))
