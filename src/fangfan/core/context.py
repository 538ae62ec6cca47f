"""Per-request facts (request id, client IP) that services attach to audit events without seeing the request."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str = ""


_EMPTY = RequestContext()
_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "fangfan_request", default=None
)


def current() -> RequestContext:
    return _current.get() or _EMPTY


def bind(ctx: RequestContext) -> contextvars.Token:
    return _current.set(ctx)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)
