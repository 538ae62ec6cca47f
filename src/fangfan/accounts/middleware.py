"""Account middleware: the idle timeout, the second factor, the required password change."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

UNGUARDED = ("/api/", "/static/")
# Session keys of the idle timeout: when the person signed in, and when they were last seen (seconds).
SIGNED_IN_AT = "fangfan_signed_in_at"
LAST_SEEN = "fangfan_last_seen"
# The last-seen time is written at most this often (a session write per request would cost a database write each).
LAST_SEEN_GRAIN = 60


def now() -> float:
    """The clock of the idle timeout (tests move it)."""
    return time.time()


def send_to(request, url: str) -> HttpResponse:
    """A redirect that htmx follows too: an htmx request would swap the page it is sent to into a fragment, so it
    gets ``HX-Redirect`` (the whole page goes there) instead of a 302."""
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=200)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


class IdleSessionMiddleware:
    """A session ends after ``SESSION_IDLE_MINUTES`` without a request, and ``SESSION_MAX_HOURS`` after the sign-in
    whatever the activity; the sign-in page then says why (“因闲置超时已退出”). The API (tokens) is not concerned."""

    REASONS = {"idle": "idle", "max": "max"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or request.path.startswith(UNGUARDED) or not user.is_authenticated:
            return self.get_response(request)
        session = request.session
        t = now()
        signed_in_at = session.get(SIGNED_IN_AT)
        last_seen = session.get(LAST_SEEN)
        reason = ""
        if signed_in_at is None:  # a session from before the timeout was kept here: it starts now
            session[SIGNED_IN_AT] = signed_in_at = t
        if last_seen is not None and t - last_seen > settings.SESSION_IDLE_MINUTES * 60:
            reason = "idle"
        elif t - signed_in_at > settings.SESSION_MAX_HOURS * 3600:
            reason = "max"
        if reason:
            logout(request)
            login_url = reverse("accounts:login")
            query = {"expired": reason}
            if request.method == "GET" and request.headers.get("HX-Request") != "true":
                query["next"] = request.get_full_path()
            return send_to(request, f"{login_url}?{urlencode(query)}")
        if last_seen is None or t - last_seen >= LAST_SEEN_GRAIN:
            session[LAST_SEEN] = t
        return self.get_response(request)


def on_login(request) -> None:
    """Start the clocks of a new session (connected to ``user_logged_in``)."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SIGNED_IN_AT] = session[LAST_SEEN] = now()


class SecondFactorMiddleware:
    """A person who owes a second factor (``second_factor.is_pending``) reaches no page but the code, enrolment
    and signing out until they have given it. Runs before the password change: the sign-in is finished first."""

    ALLOWED = ("accounts:otp_verify", "accounts:otp_enrol", "accounts:otp_qr", "accounts:logout")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(UNGUARDED):
            from . import second_factor

            if second_factor.is_pending(request):
                request.second_factor_pending = True
                allowed = {reverse(name) for name in self.ALLOWED}
                if request.path not in allowed:
                    url = reverse("accounts:otp_verify")
                    if request.method == "GET" and request.headers.get("HX-Request") != "true":
                        url += "?" + urlencode({"next": request.get_full_path()})
                    return send_to(request, url)
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    """A person whose password someone else chose (a reset, a new account) reaches no page but 修改密码 (and
    signing out) until they have set their own. The API (bearer tokens, no session) is not concerned."""

    ALLOWED = ("accounts:password_change", "accounts:logout")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "must_change_password", False)
            and not request.path.startswith(UNGUARDED)
        ):
            allowed = {reverse(name) for name in self.ALLOWED}
            if request.path not in allowed:
                return send_to(request, reverse("accounts:password_change"))
        return self.get_response(request)
