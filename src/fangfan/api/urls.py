"""``/api/v1/``: the django-ninja API. Every view declares its door for ``DeclaredPermissionMiddleware``: the
schema and the index are public; the operations are marked as bearer-token views (the token auth does the check,
a session alone gets 401)."""

from django.http import JsonResponse
from django.urls import path

from fangfan.core.permissions import PUBLIC, public

from .api import api

TOKEN_DOOR = "__bearer_token__"  # noqa: S105 - a marker, not a secret
app_name = "api"


@public
def api_root(request):
    return JsonResponse({"name": api.title, "version": api.version, "openapi": request.path + "openapi.json"})


def _declared(patterns):
    result = []
    for pattern in patterns:
        if pattern.name == "api-root":
            result.append(path("", api_root, name="api-root"))
            continue
        pattern.callback.fangfan_permission = PUBLIC if pattern.name == "openapi-json" else TOKEN_DOOR
        result.append(pattern)
    return result


urlpatterns = _declared(api.urls[0])
