"""The API's two bearer doors (``Authorization: Bearer <token>``), each opened by one kind of token only:

- ``DepartmentBearer``: a department system's token (``ffd_…``, ``monitoring.tokens``), for ``/department/…``;
- ``PersonalBearer``: a person's token (``ffp_…``, ``accounts.tokens``), for every other endpoint; it acts as its
  user, with the user's role and jurisdiction (``request.auth`` is the user).

Any other answer — no header, an unknown, expired or revoked token, the other kind of token, a disabled user — is
``None``, which the API answers with 401 (``api.common``). Every token check passes through
``TokenBearer.authenticate``, the one place that throttles refused tokens: an address that
sent ``BAD_TOKENS.limit`` refused tokens within the window gets 429 (without its token being looked at) until the
window has passed, counted in the database (``core.throttle``) by a keyed hash of the address."""

from __future__ import annotations

from datetime import timedelta

from ninja.errors import Throttled
from ninja.security import HttpBearer

from fangfan.accounts.tokens import personal_token_authenticate
from fangfan.core import client_ip, throttle
from fangfan.monitoring.tokens import token_authenticate

from .body import refuse_nul

BAD_TOKENS = throttle.Limit("api-bad-token", 10, timedelta(minutes=10))


class TokenBearer(HttpBearer):
    """A bearer door: ``lookup`` says what a token stands for (None: refused, 401)."""

    def authenticate(self, request, token):
        key = throttle.address_key(client_ip(request), BAD_TOKENS.scope)
        wait = throttle.retry_after(BAD_TOKENS, key)
        if wait:
            raise Throttled(wait)
        refuse_nul(request)  # every operation passes here before its values are read
        found = self.lookup(request, token)
        if found is None:
            throttle.hit(BAD_TOKENS, key)
        return found

    def lookup(self, request, token):  # pragma: no cover - overridden
        raise NotImplementedError


class DepartmentBearer(TokenBearer):
    """An active DepartmentToken, else 401."""

    openapi_description = (
        "部门接口令牌（ffd_ 开头，只在签发时显示一次），只能用于 /api/v1/department/ 下的接口"
    )

    def lookup(self, request, token):
        return token_authenticate(token)


class PersonalBearer(TokenBearer):
    """A valid personal token of an active user who may hold one: that user, else 401."""

    openapi_description = (
        "个人接口令牌（ffp_ 开头）：以持有人的角色和管辖范围办理，与网页上相同。"
        "在“我的账号 → 接口令牌”签发，或由运维人员用 fangfan issue-token 签发；只显示一次，默认 90 天到期。"
    )

    def lookup(self, request, token):
        found = personal_token_authenticate(token)
        if found is None:
            return None
        user, personal_token = found
        request.personal_token = personal_token
        return user
