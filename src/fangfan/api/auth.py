"""Bearer-token authentication of department systems."""

from __future__ import annotations

from ninja.security import HttpBearer

from fangfan.monitoring.tokens import token_authenticate


class DepartmentBearer(HttpBearer):
    """``Authorization: Bearer <token>``: an active DepartmentToken, else 401."""

    openapi_description = "部门接口令牌（只在签发时显示一次）"

    def authenticate(self, request, token):
        return token_authenticate(token)
