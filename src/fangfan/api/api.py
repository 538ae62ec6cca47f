"""The HTTP API (django-ninja; OpenAPI at ``/api/v1/openapi.json``). Endpoints call the same services as the
pages. Department systems authenticate with a bearer token (``monitoring.tokens``); there is no session or
cookie authentication here, so CSRF does not apply."""

from __future__ import annotations

from ninja import NinjaAPI

from .department import router as department_router


class FangfanAPI(NinjaAPI):
    def get_operation_url_name(self, operation, router) -> str:  # noqa: ARG002
        # Operations stay unnamed: they are reached by path and authorised by token, not by a role's action,
        # so the role-by-role permission matrix (named URLs) does not walk them; tests/api does.
        return ""


api = FangfanAPI(
    title="防返贫监测预警系统接口",
    version="1",
    description="部门业务系统报送数据的接口。请求头携带 `Authorization: Bearer <令牌>`；令牌由乡镇工作站或县级在“部门数据 → 接口令牌”签发。",
    urls_namespace="api",
    docs_url=None,
)
api.add_router("/department/", department_router)
