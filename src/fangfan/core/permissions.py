"""Views are closed unless they declare what they need (deny by default).

``@requires("household.view")`` declares the action a view needs; ``@public`` marks the few views anybody may
open (login, public self-report); ``@signed_in`` those every signed-in user may (changing one's own password). ``DeclaredPermissionMiddleware`` refuses any view that declares neither.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

PUBLIC = "__public__"
SIGNED_IN = "__signed_in__"


def declared_permission(view_func: Callable) -> str | None:
    for candidate in (
        view_func,
        getattr(view_func, "view_class", None),
        getattr(view_func, "__wrapped__", None),
    ):
        perm = getattr(candidate, "fangfan_permission", None)
        if perm:
            return str(perm)
    return None


def public(view_func: Callable) -> Callable:
    view_func.fangfan_permission = PUBLIC  # type: ignore[attr-defined]  # read by declared_permission
    return view_func


def signed_in(view_func: Callable) -> Callable:
    """The view is for every signed-in, active user whatever the role (their own password, say)."""

    @wraps(view_func)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view_func(request, *args, **kwargs)

    wrapper.fangfan_permission = SIGNED_IN  # type: ignore[attr-defined]  # read by declared_permission
    return wrapper


def requires(action: str) -> Callable[[Callable], Callable]:
    """The view needs a signed-in, active user whose role allows ``action``."""

    def decorator(view_func: Callable) -> Callable:
        @wraps(view_func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            user: Any = request.user  # the accounts app's User (core cannot import it)
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.can(action):
                raise PermissionDenied(action)
            return view_func(request, *args, **kwargs)

        wrapper.fangfan_permission = action  # type: ignore[attr-defined]  # read by declared_permission
        return wrapper

    return decorator


def requires_any(*actions: str) -> Callable[[Callable], Callable]:
    """The view needs a signed-in, active user whose role allows at least one of ``actions`` (a page two
    capabilities share, e.g. the household import: ``household.import`` or ``household.sync_national``); the view
    itself checks which one the request uses."""

    def decorator(view_func: Callable) -> Callable:
        @wraps(view_func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            user: Any = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not any(user.can(action) for action in actions):
                raise PermissionDenied(actions[0])
            return view_func(request, *args, **kwargs)

        wrapper.fangfan_permission = "|".join(actions)  # type: ignore[attr-defined]  # read by declared_permission
        return wrapper

    return decorator
