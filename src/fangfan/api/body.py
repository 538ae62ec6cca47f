"""Reading JSON request bodies safely: a depth limit (a deeply nested body answers 422, not a RecursionError and
500; a body that is not JSON answers 422 too), used by the API's parser and by endpoints that read the body themselves."""

from __future__ import annotations

import json

from ninja.errors import HttpError
from ninja.parser import Parser

MAX_DEPTH = 32
TOO_DEEP = (
    f"请求体 JSON 嵌套过深（最多 {MAX_DEPTH} 层） / JSON nested too deeply (at most {MAX_DEPTH} levels)"
)


def _depth_exceeds(value, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))
    return False


def load_json(raw: bytes | str):
    """Parse ``raw``; ``ValueError`` when it is not JSON, ``HttpError(422)`` when it nests deeper than
    ``MAX_DEPTH``."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise HttpError(422, TOO_DEEP) from None
    if isinstance(value, dict | list) and _depth_exceeds(value, MAX_DEPTH):
        raise HttpError(422, TOO_DEEP)
    return value


NUL_REFUSED = "请求中含有空字符（U+0000），请删除后重试 / the request contains a NUL character (U+0000)"


def refuse_nul(request) -> None:
    """A NUL character where the API reads text (the path, the query, a JSON body, form fields) is wrong input:
    422, before it reaches a query (PostgreSQL's text cannot hold one: psycopg refuses it with an error, a 500).
    The fuzzer (tests/api/test_api_fuzz.py) sends them."""
    found = "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.GET.items())
    if not found and request.content_type == "application/json":
        body = request.body
        found = b"\x00" in body or b"\\u0000" in body
    elif not found and request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        found = any("\x00" in k or "\x00" in v for k, v in request.POST.items())
    if found:
        raise HttpError(422, NUL_REFUSED)


NOT_JSON = "请求体不是有效的 JSON（UTF-8 编码） / request body is not valid JSON"


class SafeParser(Parser):
    def parse_body(self, request):
        """The body as JSON: not JSON at all (or not UTF-8) is a wrong input, 422 like any other."""
        try:
            return load_json(request.body)
        except (ValueError, UnicodeDecodeError):
            raise HttpError(422, NOT_JSON) from None
