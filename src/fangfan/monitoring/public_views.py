"""The public self-report page (农户自主申报, no login): asks only what is needed, answers the same whatever
happens — a registered ID, an unknown one, a robot, too many tries — and shows nothing about anyone.

Rate limit: 5 submissions per client per hour, counted in Django's cache under a keyed hash of the client IP (the
IP itself is never stored: not in the cache, the clue or the audit log).
"""

from __future__ import annotations

from django.core.cache import cache
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from fangfan.core import context
from fangfan.core.crypto import blind_index
from fangfan.core.errors import DomainError
from fangfan.core.permissions import public

from . import selectors, services
from .forms import PublicReportForm

RATE_LIMIT = 5
RATE_WINDOW = 3600


def _client_key(request) -> str:
    ip = request.META.get("REMOTE_ADDR", "") or "unknown"
    return "fangfan:self-report:" + blind_index(ip, purpose="rate-limit")[:40]


def _over_limit(request) -> bool:
    """Count this submission; True once the client has sent more than ``RATE_LIMIT`` within the window."""
    key = _client_key(request)
    cache.add(key, 0, RATE_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, RATE_WINDOW)
        count = 1
    return count > RATE_LIMIT


@public
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def self_report(request):
    villages = selectors.public_villages()
    form = PublicReportForm(request.POST if request.method == "POST" else None, villages=villages)
    if request.method == "POST":
        if _over_limit(request) or form.is_robot:
            return redirect("public:thanks")
        if form.is_valid():
            data = form.cleaned_data
            # Keep the client's address out of the audit event of this anonymous act.
            token = context.bind(context.RequestContext(request_id=context.current().request_id, ip=""))
            try:
                services.clue_submit_public(
                    village_code=data["village"],
                    name=data["name"],
                    id_number=data["id_number"],
                    phone=data["phone"],
                    description=data["description"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("public:thanks")
            finally:
                context.reset(token)
    return render(request, "monitoring/public_report.html", {"form": form})


@public
@require_safe
def thanks(request):
    return render(request, "monitoring/public_thanks.html")
