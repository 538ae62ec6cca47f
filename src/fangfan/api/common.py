"""What every endpoint acting for a person shares (spec/API.md, Conventions): errors as
``{"detail": "<Chinese sentence>"}`` with the status codes of the contract, the role check (403) and the page of a
list (``?page=N&page_size=M`` → ``{"count": n, "results": [...]}``).

401 no or bad token; 403 the user's role may not do this; 404 missing **or outside the jurisdiction** (the lookups
go through ``for_user``, so both are the same answer); 409 the object's state does not allow it now; 422 the input
is wrong or a rule of policy refuses it. A ``DomainError`` a service raises is a 422, its ``core.errors.Conflict``
a 409; a ``PermissionDenied`` a service raises is a 403 with its own sentence."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from ninja import Field, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from pydantic import StrictInt

from fangfan.core.errors import Conflict as StateConflict
from fangfan.core.errors import DomainError

from .body import NOT_JSON

MAX_PAGE_SIZE = 500
MAX_PAGE = 1_000_000
MAX_ID = 2**63 - 1  # the databases' BIGINT: a larger number is no object (and would overflow the query)
DEFAULT_PAGE_SIZE = 100
UNAUTHORIZED = "缺少接口令牌，或令牌无效、已过期、已吊销：请在请求头携带 Authorization: Bearer <令牌>"


class ErrorOut(Schema):
    detail: str


class FieldErrorOut(Schema):
    field: str
    message: str


class ValidationErrorOut(Schema):
    detail: str
    errors: list[FieldErrorOut] = []


# The answers every personal endpoint may give besides its own (for ``response=`` of the operations).
# 413 (a body over the size limit) and 429 (too many bad tokens from one address) may answer any call.
ERRORS: dict[int, type[Schema]] = {
    401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 413: ErrorOut, 422: ValidationErrorOut, 429: ErrorOut
}  # fmt: skip
# …and those of an endpoint that changes an object whose state may not allow it now.
WRITE_ERRORS: dict[int, type[Schema]] = {**ERRORS, 409: ErrorOut}


# An object's number in a path (``Path[ObjectId]``) or a body (``StrictId``: a JSON integer, not "1" or true).
ObjectId = Annotated[int, Field(ge=1, le=MAX_ID)]
StrictId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]


class ApiError(Exception):
    """An answer other than the endpoint's own: its status code and the Chinese sentence saying what to fix."""

    def __init__(self, status: int, detail: str, **extra: Any):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.extra = extra


class Conflict(ApiError):
    """409: the object's state does not allow this now (wrong step, already done, changed meanwhile)."""

    def __init__(self, detail: str, **extra: Any):
        super().__init__(409, detail, **extra)


def acting_user(request: HttpRequest, action: str, what: str):
    """The token's user, when their role may do ``action``; else 403 naming what they may not do (``what``)."""
    user = request.auth
    if not user.can(action):
        raise ApiError(403, f"您的角色（{user.role_label}）无权{what}")
    return user


# --- paging ---------------------------------------------------------------------------------------------------------


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="页码，从 1 开始")
    page_size: int = Field(
        DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description=f"每页条数，最多 {MAX_PAGE_SIZE}"
    )


def paged(rows, paging: PageQuery, serialize: Callable[[Any], dict]) -> dict:
    """One page of a queryset (or list) as ``{"count": n, "results": [...]}``; a page past the end is empty."""
    count = rows.count() if hasattr(rows, "count") and not isinstance(rows, list) else len(rows)
    start = (paging.page - 1) * paging.page_size
    window: Iterable = rows[start : start + paging.page_size]
    return {"count": count, "results": [serialize(row) for row in window]}


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    """The OpenAPI shape of a page of ``item``."""
    return type(name, (Schema,), {"__annotations__": {"count": int, "results": list[item]}})


# --- values as the files write them -----------------------------------------------------------------------------


def month(value: str) -> str | None:
    """A stored ``YYYYMM`` as ``YYYY-MM`` (None when blank)."""
    return f"{value[:4]}-{value[4:6]}" if value and len(value) == 6 else None


def label(obj, field: str) -> str | None:
    """A choice field's Chinese label (None when blank)."""
    return getattr(obj, f"get_{field}_display")() if getattr(obj, field) else None


# --- error answers ----------------------------------------------------------------------------------------------

_PYDANTIC_REASONS = {
    "missing": "必须填写",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "decimal_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "string_type": "应为文字",
    "string_too_long": "过长",
    "greater_than_equal": "应不小于 {ge}",
    "greater_than": "应大于 {gt}",
    "less_than_equal": "应不大于 {le}",
    "less_than": "应小于 {lt}",
    "json_invalid": "不是有效的 JSON",
    "model_attributes_type": "格式不对",
    "dict_type": "应为 JSON 对象",
    "list_type": "应为列表",
}
_WHERE = {"query", "path", "body", "form", "file", "header", "cookie"}


def _field_errors(errors: list[dict]) -> list[dict]:
    result = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if str(part) not in _WHERE]
        # Ninja names the whole query schema (e.g. "paging") before the field: only the field is the user's word.
        if len(loc) > 1 and loc[0] in {"paging", "payload", "data"}:
            loc = loc[1:]
        reason = _PYDANTIC_REASONS.get(error.get("type", ""), "")
        with contextlib.suppress(KeyError, IndexError, ValueError):
            reason = reason.format(**(error.get("ctx") or {}))
        result.append({"field": ".".join(loc) or "请求体", "message": reason or "取值不对"})
    return result


def install(api) -> None:
    """Answer every error of the API as the contract says (never a 500 for bad input)."""

    def answer(request, status: int, body: dict):
        response = api.create_response(request, body, status=status)
        if status == 401:
            response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(ApiError)
    def on_api_error(request, exc: ApiError):
        return answer(request, exc.status, {"detail": exc.detail, **exc.extra})

    @api.exception_handler(HttpError)
    def on_http_error(request, exc: HttpError):
        # Ninja answers 400 "Cannot parse request body" for a body its parser refused (``body.SafeParser``): that
        # is wrong input, a 422 saying so in Chinese (the parser's own sentence when it gave one).
        cause = exc.__cause__
        if exc.status_code == 400 and cause is not None:
            return answer(request, 422, {"detail": str(cause) if isinstance(cause, HttpError) else NOT_JSON})
        return answer(request, exc.status_code, {"detail": str(exc)})

    @api.exception_handler(AuthenticationError)
    def on_unauthorized(request, exc):
        return answer(request, 401, {"detail": UNAUTHORIZED})

    @api.exception_handler(PermissionDenied)
    def on_forbidden(request, exc):
        return answer(request, 403, {"detail": str(exc) or "您的角色无权进行此操作"})

    @api.exception_handler(Http404)
    def on_not_found(request, exc):
        return answer(request, 404, {"detail": str(exc) or "要找的对象不存在，或不在您的管辖范围内"})

    @api.exception_handler(ValidationError)
    def on_invalid(request, exc: ValidationError):
        errors = _field_errors(exc.errors)
        listed = "；".join(f"{e['field']}：{e['message']}" for e in errors[:10])
        return answer(request, 422, {"detail": f"请求参数有误（{listed}）", "errors": errors})

    @api.exception_handler(DomainError)
    def on_refused(request, exc: DomainError):
        return answer(request, 422, {"detail": exc.message})

    @api.exception_handler(StateConflict)
    def on_state_conflict(request, exc: StateConflict):
        return answer(request, 409, {"detail": exc.message})
