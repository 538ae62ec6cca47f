"""The public self-report page (农户自主申报, no login): asks only what is needed, answers the same whether or not
the ID belongs to a registered person, and shows nothing about anyone.

Rate limits, kept in the database (``core.throttle``, so they hold across server processes): 5 reports per client
address per hour and 300 per hour from everybody. Past a limit the person is told so, with how long to wait
(status 429), and their report is not stored. The client is named by a keyed HMAC of its address (never the
address itself: not in the limit's table, the clue or the audit log), and the address is taken through
``core.client_ip`` (``X-Forwarded-For`` only from a trusted proxy).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from fangfan.core import client_ip, context, throttle
from fangfan.core.errors import DomainError
from fangfan.core.permissions import public

from . import selectors, services
from .forms import PublicReportForm

PER_ADDRESS = throttle.Limit("self-report", 5, timedelta(hours=1))
OVERALL = throttle.Limit("self-report-all", 300, timedelta(hours=1))


def _wait_seconds(address_key: str) -> int:
    """Seconds until this client may report again (0: now), under its own limit and the overall one."""
    return max(
        throttle.retry_after(PER_ADDRESS, address_key),
        throttle.retry_after(OVERALL, throttle.OVERALL),
    )


@public
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def self_report(request):
    villages = selectors.public_villages()
    form = PublicReportForm(request.POST if request.method == "POST" else None, villages=villages)
    if request.method == "POST":
        if form.is_robot:
            return redirect("public:thanks")
        key = throttle.address_key(client_ip(request), PER_ADDRESS.scope)
        wait = _wait_seconds(key)
        if wait:
            return _too_many(request, villages, wait)
        if form.is_valid():
            data = form.cleaned_data
            # Keep the client's address out of the audit event of this anonymous act.
            token = context.bind(context.RequestContext(request_id=context.current().request_id, ip=""))
            try:
                with transaction.atomic():
                    services.clue_submit_public(
                        village_code=data["village"],
                        name=data["name"],
                        id_number=data["id_number"],
                        phone=data["phone"],
                        description=data["description"],
                    )
                    throttle.hit(PER_ADDRESS, key)
                    throttle.hit(OVERALL, throttle.OVERALL)
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


def _too_many(request, villages, wait: int):
    """Told honestly, before the sum is spent (an unbound form: nothing is validated); what was typed stays."""
    kept = {
        name: request.POST.get(name, "") for name in ("village", "name", "id_number", "phone", "description")
    }
    form = PublicReportForm(initial=kept, villages=villages)
    response = render(
        request,
        "monitoring/public_report.html",
        {"form": form, "too_many": f"提交过于频繁，请 {throttle.minutes(wait)} 分钟后再试。"},
        status=429,
    )
    response["Retry-After"] = str(wait)
    return response
