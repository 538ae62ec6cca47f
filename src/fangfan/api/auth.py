"""Bearer-token authentication of department systems, with a brake on guessing: an address that sent
``BAD_TOKENS.limit`` unknown or revoked tokens within the window gets 429 (without its token being looked at) until
the window has passed. Counted in the database (``core.throttle``), by a keyed hash of the address."""

from __future__ import annotations

from datetime import timedelta

from ninja.errors import Throttled
from ninja.security import HttpBearer

from fangfan.core import client_ip, throttle
from fangfan.monitoring.tokens import token_authenticate

BAD_TOKENS = throttle.Limit("api-bad-token", 10, timedelta(minutes=10))


class DepartmentBearer(HttpBearer):
    """``Authorization: Bearer <token>``: an active DepartmentToken, else 401 (429 after repeated 401s)."""

    openapi_description = "部门接口令牌（只在签发时显示一次）"

    def authenticate(self, request, token):
        key = throttle.address_key(client_ip(request), BAD_TOKENS.scope)
        wait = throttle.retry_after(BAD_TOKENS, key)
        if wait:
            raise Throttled(wait)
        found = token_authenticate(token)
        if found is None:
            throttle.hit(BAD_TOKENS, key)
        return found
