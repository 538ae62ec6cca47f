"""The HTTP API (django-ninja; OpenAPI at ``/api/v1/openapi.json``; the contract is spec/API.md). Endpoints call
the same services and selectors as the pages. Two bearer doors (``auth``): department systems' tokens for
``/department/…``, personal tokens (acting as their user) for everything else; there is no session or cookie
authentication here, so CSRF does not apply.

Routers by area: ``department`` (department batches), ``households`` (households and risk points),
``measures`` (帮扶措施: the catalogue, measures, their progress, closing risk points), ``cases`` (the approval
chains). Shared
conventions — errors, the role check, paging — are in ``common``; a new area adds its router below."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from ninja import NinjaAPI
from ninja.errors import Throttled

from fangfan.core.throttle import minutes

from . import common
from .body import SafeParser
from .cases import router as cases_router
from .department import router as department_router
from .households import router as households_router
from .measures import router as measures_router


class FangfanAPI(NinjaAPI):
    def get_operation_url_name(self, operation, router) -> str:  # noqa: ARG002
        # Operations stay unnamed: they are reached by path and authorised by token, not by a role's action,
        # so the role-by-role permission matrix (named URLs) does not walk them; tests/api does.
        return ""


api = FangfanAPI(
    title="防返贫监测预警系统接口",
    version="1",
    description=(
        "请求头携带 `Authorization: Bearer <令牌>`。\n\n"
        "- **个人接口令牌**（ffp_ 开头）：以持有人的角色和管辖范围办理，与网页上相同；在“我的账号 → 接口令牌”签发，"
        "或由运维人员用 `fangfan issue-token 账号` 签发。\n"
        "- **部门接口令牌**（ffd_ 开头）：部门业务系统报送数据，只能用于 `/api/v1/department/`；"
        "由乡镇工作站或县级在“部门数据 → 接口令牌”签发。\n\n"
        '出错时答 `{"detail": "说明"}`：401 缺少或无效的令牌；403 角色无权办理；404 对象不存在或不在管辖范围内；'
        "409 对象当前状态不允许；422 输入有误或政策规定不允许。列表分页：`?page=N&page_size=M`（M 最多 500），"
        '答 `{"count": n, "results": [...]}`。'
    ),
    urls_namespace="api",
    docs_url=None,
    parser=SafeParser(),
)
common.install(api)


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
api.add_router("/households/", households_router)
api.add_router("/", measures_router)
api.add_router("/cases", cases_router)
