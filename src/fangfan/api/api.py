"""The HTTP API (django-ninja; OpenAPI at ``/api/v1/openapi.json``). Endpoints call the same services as the
pages. Department systems authenticate with a bearer token (``monitoring.tokens``); there is no session or
cookie authentication here, so CSRF does not apply."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from ninja import NinjaAPI
from ninja.errors import Throttled

from fangfan.core.throttle import minutes

from .body import SafeParser
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
    parser=SafeParser(),
)


@api.exception_handler(RequestDataTooBig)
def body_too_big(request, exc):
    """Django refuses a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (a 400 page by default): say so, in JSON."""
    return api.create_response(
        request,
        {"detail": "请求体过大，请分批报送 / request body too large, send smaller batches"},
        status=413,
    )


@api.exception_handler(Throttled)
def throttled(request, exc):
    wait = int(exc.wait or 60)
    response = api.create_response(
        request,
        {"detail": f"令牌错误次数过多，请 {minutes(wait)} 分钟后再试 / too many bad tokens, retry later"},
        status=429,
    )
    response["Retry-After"] = str(wait)
    return response


api.add_router("/department/", department_router)
