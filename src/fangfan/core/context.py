"""Per-request facts (request id, client IP) that services attach to audit events without seeing the request."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str = ""


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar("fangfan_request", default=RequestContext())


def current() -> RequestContext:
    return _current.get()


def bind(ctx: RequestContext) -> contextvars.Token:
    return _current.set(ctx)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)
