"""The permission matrix: every named URL of the project, for every role and a neighbouring town's users.

Expected answers come from the permission each view declares (``@requires``/``@public``), ``ROLE_ACTIONS`` and the
jurisdiction door. A URL with parameters is opened on a real object when ``OBJECT_URLS`` has a factory for it:
then a user outside the object's jurisdiction must get 404. A parameterised URL without a factory is still probed
with an id that does not exist: a role without the permission must get 403, one with it 404. Add a factory when
you add an object URL, so that the jurisdiction is checked too.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from assistance_factory import MATRIX_OBJECT_URLS as ASSISTANCE_OBJECT_URLS
from conftest import NEIGHBOUR_TOWN, TOWN, VILLAGE
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, path, reverse
from monitoring_factory import MATRIX_OBJECT_URLS

from fangfan import urls as project_urls
from fangfan.core.models import Job
from fangfan.core.permissions import PUBLIC, declared_permission
from fangfan.core.selectors import jobs_for_user

# A signed-in role with the permission gets one of these from a GET (405: the URL answers only POST).
ALLOWED = {200, 302, 405}
MISSING_ID = 987654321

# --- a test-only urlconf for the "undeclared view is closed" test --------------------------------------------


def undeclared_view(request):
    return HttpResponse("这个页面没有声明权限")


urlpatterns = [path("undeclared/", undeclared_view, name="undeclared"), *project_urls.urlpatterns]


# --- enumerate the project's URL patterns -------------------------------------------------------------------


def iter_named_patterns(patterns=None, namespace: str | None = None) -> Iterator[tuple[str, URLPattern]]:
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            full = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from iter_named_patterns(entry.url_patterns, full)
        elif isinstance(entry, URLPattern) and entry.name:
            yield (f"{namespace}:{entry.name}" if namespace else entry.name), entry


def parameter_names(pattern: URLPattern) -> set[str]:
    converters = getattr(pattern.pattern, "converters", None)
    if converters:
        return set(converters)
    return set(pattern.pattern.regex.groupindex)


@dataclass
class Target:
    """The real object behind an object URL: reverse() kwargs, its region, and who may see it (default: every
    user whose jurisdiction contains the region)."""

    kwargs: dict
    region: str
    visible: Callable | None = None


def _job(users) -> Target:
    job = Job.objects.create(
        kind="test",
        title="东风村测试任务",
        region_code=VILLAGE,
        created_by=users["town_station"],
        state="running",
    )
    return Target({"pk": job.pk}, VILLAGE, lambda u, perm: jobs_for_user(u, perm).filter(pk=job.pk).exists())


def _user(users) -> Target:
    from fangfan.accounts.models import User

    pk = users["village_clerk"].pk
    return Target({"pk": pk}, VILLAGE, lambda u, perm: User.objects.for_user(u, perm).filter(pk=pk).exists())


_numbers = itertools.count(9000)


def _household(users, *, member_key: str | None = None, member_as_pk: bool = False) -> Target:
    from registry_factory import make_household

    from fangfan.registry.models import Household

    household = make_household(f"341523104201{next(_numbers):04d}", VILLAGE)
    member = household.members.first()
    kwargs = {"pk": member.pk} if member_as_pk else {"pk": household.pk}
    if member_key:
        kwargs[member_key] = member.pk

    def visible(u, perm):
        return Household.objects.for_user(u, perm).filter(pk=household.pk).exists()

    return Target(kwargs, VILLAGE, visible)


# URL name → factory(users) returning the Target. Add one for every URL that names an object.
OBJECT_URLS: dict[str, Callable[..., Target]] = {
    "accounts:user_edit": _user,
    "core:job_detail": _job,
    "registry:household_detail": _household,
    "registry:household_edit": _household,
    "registry:member_add": _household,
    "registry:member_edit": lambda users: _household(users, member_key="member_pk"),
    "registry:member_remove": lambda users: _household(users, member_key="member_pk"),
    "registry:head_change": _household,
    "registry:household_split": _household,
    "registry:household_merge": _household,
    "registry:household_helper": _household,
    "registry:household_contact": _household,
    "registry:member_reveal_id": lambda users: _household(users, member_as_pk=True),
    "registry:household_reveal_phone": _household,
    "registry:member_reveal_phone": lambda users: _household(users, member_as_pk=True),
}
# Monitoring's factories give (kwargs, region code); who sees the object follows from the region (and, for a
# department user, from the model's own narrowing, checked in the monitoring tests).
OBJECT_URLS.update(
    {name: (lambda users, f=factory: Target(*f(users))) for name, factory in MATRIX_OBJECT_URLS.items()}
)
# 帮扶措施's factories also say who sees the object (a department user: its department's measures only).
OBJECT_URLS.update(
    {name: (lambda users, f=factory: Target(*f(users))) for name, factory in ASSISTANCE_OBJECT_URLS.items()}
)


def _in_range(user, code: str) -> bool:
    span = user.jurisdiction_range()
    return span is not None and span[0] <= code < span[1]


@dataclass
class Route:
    name: str
    url: str
    perm: str | None
    target: Target | None = None
    probe: bool = False  # parameterised URL without a factory, opened with an id that does not exist


def _missing_kwargs(pattern: URLPattern) -> dict:
    converters = getattr(pattern.pattern, "converters", {}) or {}
    kwargs = {}
    for name in parameter_names(pattern):
        conv = converters.get(name)
        kwargs[name] = MISSING_ID if conv is not None and conv.regex == "[0-9]+" else "nonexistent"
    return kwargs


def _routes(users) -> list[Route]:
    routes = []
    for name, pattern in iter_named_patterns():
        perm = declared_permission(pattern.callback)
        if not parameter_names(pattern):
            routes.append(Route(name, reverse(name), perm))
        elif name in OBJECT_URLS:
            target = OBJECT_URLS[name](users)
            routes.append(Route(name, reverse(name, kwargs=target.kwargs), perm, target))
        else:
            routes.append(Route(name, reverse(name, kwargs=_missing_kwargs(pattern)), perm, probe=True))
    return routes


def _expected(user, route: Route):
    """The set of acceptable status codes for this user on this route."""
    if route.perm == PUBLIC:
        return None  # anything below 400, or 405
    if route.perm.startswith("__"):
        return {401, 403}  # another door (e.g. the API's bearer tokens): a signed-in session is not enough
    if not user.can(route.perm):
        return {403}
    if route.probe:
        return {404}
    if route.target is not None:
        target = route.target
        visible = target.visible(user, route.perm) if target.visible else _in_range(user, target.region)
        # the door may narrow further, never widen: nothing outside the jurisdiction is ever visible
        assert not visible or _in_range(user, target.region), f"{route.name}: {user} sees outside its region"
        return ALLOWED if visible else {404}
    return ALLOWED


def test_every_view_declares_a_permission():
    undeclared = [name for name, p in iter_named_patterns() if declared_permission(p.callback) is None]
    assert undeclared == []


@pytest.mark.django_db
def test_permission_matrix_every_url_every_role(client, users):
    routes = _routes(users)
    assert len(routes) >= 10
    assert {r.name for r in routes} >= {"accounts:user_edit", "core:job_detail", "core:audit_list"}
    failures = []
    for who, user in users.items():
        client.force_login(user)
        for route in routes:
            status = client.get(route.url).status_code
            expected = _expected(user, route)
            if status == 405 and expected == {404}:
                # a POST-only URL: an empty POST from outside the jurisdiction must not find the object either
                status = client.post(route.url, {}).status_code
            ok = (status < 400 or status == 405) if expected is None else status in expected
            if not ok:
                failures.append(
                    f"{who} GET {route.name} ({route.url}) → {status}, expected {expected or '<400'}"
                )
        client.logout()
    assert failures == []


@pytest.mark.django_db
def test_object_urls_answer_200_to_their_own_town(client, users):
    """The real objects open (not merely "not 403") for a role that may see them: 200 on the pages we own."""
    for name, who in (("accounts:user_edit", "sys_admin"), ("core:job_detail", "village_clerk")):
        client.force_login(users[who])
        target = OBJECT_URLS[name](users)
        assert client.get(reverse(name, kwargs=target.kwargs)).status_code == 200, name


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client, users):
    login = reverse("accounts:login")
    for route in _routes(users):
        response = client.get(route.url)
        if route.perm == PUBLIC:
            assert response.status_code < 400 or response.status_code == 405, route.name
        elif route.perm.startswith("__"):  # e.g. the API's bearer tokens: refused, not redirected
            assert response.status_code in (401, 403), route.name
        else:
            assert response.status_code == 302, route.name
            assert response["Location"].startswith(login), route.name


@pytest.mark.django_db
def test_neighbouring_town_gets_404_on_object_urls(client, users, make_user):
    """Objects of 桃溪镇 do not exist for 千人桥镇: 404, never 403 (which would confirm they exist)."""
    neighbour_admin = make_user("sys_admin", NEIGHBOUR_TOWN, username="neighbour-admin")
    client.force_login(neighbour_admin)
    assert client.get(reverse("accounts:user_edit", kwargs=_user(users).kwargs)).status_code == 404
    assert client.get(reverse("accounts:user_edit", kwargs={"pk": users["sys_admin"].pk})).status_code == 404
    client.force_login(users["neighbour_station"])
    job_kwargs = _job(users).kwargs
    assert client.get(reverse("core:job_detail", kwargs=job_kwargs)).status_code == 404
    # ...and the same objects open for the town's own staff.
    client.force_login(users["town_station"])
    assert client.get(reverse("core:job_detail", kwargs=job_kwargs)).status_code == 200
    town_admin = make_user("sys_admin", TOWN, username="town-admin")
    client.force_login(town_admin)
    assert client.get(reverse("accounts:user_edit", kwargs=_user(users).kwargs)).status_code == 200


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_undeclared_view_is_closed(client, users):
    client.force_login(users["sys_admin"])
    response = client.get("/undeclared/")
    assert response.status_code == 403
    assert "未声明访问权限" in response.content.decode()
    client.logout()
    assert client.get("/undeclared/").status_code == 403
