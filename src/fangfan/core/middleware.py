"""Request id and client IP for the audit trail; the deny-by-default door for undeclared views."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponseForbidden
from django.http.response import HttpResponseBase
from django.template.loader import render_to_string

from . import context
from .client import client_ip
from .permissions import declared_permission

REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        # A client may name its request (a proxy's id), but only with a short plain token: the id reaches the audit
        # log, the response header and log lines, so anything else (spaces, newlines, markup) gets a fresh one.
        given = request.headers.get("X-Request-Id", "")
        request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        ip = client_ip(request)
        token = context.bind(context.RequestContext(request_id=request_id, ip=ip))
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-Id"] = request_id
        return response


class DeclaredPermissionMiddleware:
    """Closes every view that has not declared its permission (CommCare's LocationAccessMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseForbidden | None:
        if declared_permission(view_func) is None:
            return HttpResponseForbidden(
                render_to_string("403.html", {"reason": "此页面未声明访问权限，已关闭。"}, request)
            )
        return None
