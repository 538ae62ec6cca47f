"""Template helpers shared by every app."""

from typing import Any

from django import template

register = template.Library()


@register.filter
def can(user: Any, action: str) -> bool:
    """``{% if user|can:"warning.verify" %}``: the role matrix, as the views check it."""
    return bool(getattr(user, "is_authenticated", False) and user.can(action))


@register.inclusion_tag("core/_job_retry.html", takes_context=True)
def job_retry_button(context: Any, job: Any) -> dict:
    """``{% job_retry_button job %}``: a failed job's 重试 button, for its starter while they still have the right."""
    from fangfan.core.jobs import job_may_retry

    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "job": job,
        "show": user is not None and job_may_retry(user, job),
        "csrf_token": context.get("csrf_token"),
    }
