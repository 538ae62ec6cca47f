"""The permission matrix: every named URL of the project, GET and POST, for every role and a neighbouring town's users.

Expected answers come from ``tests/permission_table.py``, written by hand from ``docs/roles.md`` — never from
``ROLE_ACTIONS``, which is what is being tested (issue 17: a matrix derived from the role table could not catch the
wrong grants a security test found). What "allowed" and "refused" mean for GET and POST is said at the top of that
table. A URL with parameters is opened on a real object when ``OBJECT_URLS`` has a factory for it: a user outside
the object's region then gets 404 (never 403, which would confirm it exists). A parameterised URL without a factory
is probed with an id that does not exist: a refused role gets 403, an allowed one 404. Add a factory when you add
an object URL, so that the jurisdiction is checked too.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from assistance_factory import MATRIX_OBJECT_URLS as ASSISTANCE_OBJECT_URLS
from conftest import NEIGHBOUR_TOWN, TOWN, VILLAGE
from csp_support import csp_problems
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, path, reverse
from monitoring_factory import DEPARTMENT_OBJECT_URLS, MATRIX_OBJECT_URLS
from permission_table import PERMISSION_TABLE, SEEN_BY
from workflows_factory import MATRIX_OBJECT_URLS as WORKFLOWS_OBJECT_URLS

from fangfan import urls as project_urls
from fangfan.core.models import Job
from fangfan.core.permissions import PUBLIC, SIGNED_IN, declared_permission

# What an allowed role gets (tests/permission_table.py): GET 405 — the URL takes only POST; POST with an empty
# body: the form again with its errors (200), done or sent back with a message (302, 303 for the list's filters),
# input refused (400, or 422 where the form comes back with its errors), or 405 — the URL takes only GET.
ALLOWED = {"GET": {200, 302, 405}, "POST": {200, 302, 303, 400, 405, 422}}
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
    """The real object behind an object URL: reverse() kwargs, its region ("" for an object bound to no place, such
    as a catalogue entry or a ledger: every role that may open the URL sees it), and — when it is narrower than
    its region — the key of ``permission_table.SEEN_BY`` naming the roles that see it."""

    kwargs: dict
    region: str
    seen_by: str = ""


def _job(users) -> Target:
    job = Job.objects.create(
        kind="screening",
        title="东风村测试任务",
        region_code=VILLAGE,
        created_by=users["town_station"],
        state="running",
    )
    return Target({"pk": job.pk}, VILLAGE, "screening job")


def _export_job(users) -> Target:
    """A town station's export with whole ID numbers, its file on disk (``media`` below)."""
    from django.conf import settings
    from job_factory import town_export_with_ids

    job = town_export_with_ids(users, settings.MEDIA_ROOT)
    return Target({"pk": job.pk}, TOWN, "export with whole IDs")


def _import_job(users) -> Target:
    """A village clerk's failed import with its problems (names, a whole ID number) on disk."""
    from job_factory import village_import_failed

    job = village_import_failed(users)
    return Target({"pk": job.pk}, VILLAGE, "household import job")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Files the jobs' factories write go to the test's own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def _user(users) -> Target:
    return Target({"pk": users["village_clerk"].pk}, VILLAGE)


_numbers = itertools.count(9000)


def _household(users, *, member_key: str | None = None, member_as_pk: bool = False) -> Target:
    from factories import household as make_household

    household = make_household(VILLAGE, number=f"341523104201{next(_numbers):04d}", phone="13900001111")
    member = household.members.first()
    member.phone = "13900002222"  # the phones exist, so that seeing one whole is possible
    member.save(update_fields=["phone"])
    kwargs = {"pk": member.pk} if member_as_pk else {"pk": household.pk}
    if member_key:
        kwargs[member_key] = member.pk
    return Target(kwargs, VILLAGE)


# URL name → factory(users) returning the Target. Add one for every URL that names an object.
OBJECT_URLS: dict[str, Callable[..., Target]] = {
    "accounts:user_edit": _user,
    "core:job_detail": _job,
    "core:job_retry": _job,
    "transfer:job": _import_job,
    "transfer:job_problems": _import_job,
    "transfer:job_download": _export_job,
    "transfer:import_checked": _import_job,
    "registry:household_detail": _household,
    "registry:household_edit": _household,
    "registry:member_add": _household,
    "registry:member_edit": lambda users: _household(users, member_key="member_pk"),
    "registry:member_remove": lambda users: _household(users, member_key="member_pk"),
    "registry:head_change": _household,
    "registry:household_split": _household,
    "registry:household_merge": _household,
    "registry:household_helper": _household,
    "contacts:household_contact": _household,
    "registry:member_reveal_id": lambda users: _household(users, member_as_pk=True),
    "registry:household_reveal_phone": _household,
    "registry:member_reveal_phone": lambda users: _household(users, member_as_pk=True),
}
# Monitoring's factories give (kwargs, region code); who sees the object follows from the region (a department
# user sees the warning and task of its own data: the factories' hits are 医保, the fixtures' department is 医保).
OBJECT_URLS.update(
    {name: (lambda users, f=factory: Target(*f(users))) for name, factory in MATRIX_OBJECT_URLS.items()}
)
# 帮扶措施's factories also say who sees the object (a department user: its department's measures only).
OBJECT_URLS.update(
    {name: (lambda users, f=factory: Target(*f(users))) for name, factory in ASSISTANCE_OBJECT_URLS.items()}
)
OBJECT_URLS.update(
    {name: (lambda users, f=factory: Target(*f(users))) for name, factory in DEPARTMENT_OBJECT_URLS.items()}
)
OBJECT_URLS["department:batch_job"] = lambda users: Target(
    *DEPARTMENT_OBJECT_URLS["department:batch_job"](users), "department import job"
)
# 审批: a case of 东风村, its attachment, a household to start one on.
OBJECT_URLS.update(
    {name: (lambda users, f=factory: Target(*f(users))) for name, factory in WORKFLOWS_OBJECT_URLS.items()}
)


def _ledger_job(users) -> Target:
    """A town station's ledger export that ran as a job (masked IDs), its file on disk (``media`` below)."""
    from django.conf import settings
    from job_factory import town_ledger_job

    job = town_ledger_job(users, settings.MEDIA_ROOT)
    return Target({"pk": job.pk}, TOWN, "ledger export job")


# Ledgers: 监测对象台账 (read with household.view) is bound to no place; its rows are the user's region's.
OBJECT_URLS["reports:ledger"] = lambda users: Target({"code": "monitored"}, "")
OBJECT_URLS["reports:ledger_export"] = lambda users: Target({"code": "monitored"}, "")
OBJECT_URLS["reports:ledger_job"] = _ledger_job
OBJECT_URLS["reports:ledger_job_download"] = _ledger_job


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

    def fresh(self, users) -> Route:
        """The same URL on a new object: a POST may change or remove the one the other roles are asked about."""
        if self.target is None:
            return self
        target = OBJECT_URLS[self.name](users)
        return Route(self.name, reverse(self.name, kwargs=target.kwargs), self.perm, target)


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


NOT_THERE = {404}


def _expected(user, route: Route, method: str) -> set[int]:
    """The answers ``user`` may get, from ``tests/permission_table.py`` and the object's region only."""
    if user.role not in PERMISSION_TABLE[route.name].allowed(method):
        return {403}
    if route.probe:
        return NOT_THERE
    target = route.target
    if target is not None:
        if target.region and not _in_range(user, target.region):
            return NOT_THERE
        if target.seen_by and user.role not in SEEN_BY[target.seen_by]:
            return NOT_THERE
    return ALLOWED[method]


def test_every_view_declares_a_permission():
    undeclared = [name for name, p in iter_named_patterns() if declared_permission(p.callback) is None]
    assert undeclared == []


def test_every_named_url_is_in_the_permission_table():
    names = {name for name, _pattern in iter_named_patterns()}
    missing = sorted(names - PERMISSION_TABLE.keys())
    assert not missing, (
        f"这些地址没有写进权限表：{missing}。Add a row per URL to tests/permission_table.py — which roles may GET "
        "and POST it — written from docs/roles.md (add the capability to docs/roles.md first if it is new), and "
        "an object factory to OBJECT_URLS in tests/core/test_permission_matrix.py if the URL names an object."
    )
    stale = sorted(PERMISSION_TABLE.keys() - names)
    assert not stale, f"tests/permission_table.py has rows for URLs that no longer exist: {stale}"


def _ask(client, method: str, url: str, csp: list[str] | None = None) -> int:
    response = client.post(url, {}) if method == "POST" else client.get(url)
    if csp is not None and response.status_code == 200:
        # Every page the matrix opens also keeps to the Content-Security-Policy (tests/csp_support.py).
        csp.extend(f"GET {url}: {problem}" for problem in csp_problems(response))
    return response.status_code


def _walk(client, users, method: str) -> list[str]:
    routes = _routes(users)
    assert {r.name for r in routes} >= {"accounts:user_edit", "core:job_detail", "registry:household_edit"}
    failures: list[str] = []
    csp: list[str] = []
    for who, user in users.items():
        client.force_login(user)
        for route in routes:
            expected = _expected(user, route, method)
            if method == "POST" and expected == ALLOWED["POST"]:
                route = route.fresh(users)  # noqa: PLW2901 - the POST may change the shared object
            status = _ask(client, method, route.url, csp if method == "GET" else None)
            if status == 405 and expected == NOT_THERE:
                # The URL does not take this method and says so before looking the object up (which tells
                # nothing): the object must not be found by the method it does take either.
                other = "GET" if method == "POST" else "POST"
                status = _ask(client, other, route.url)
                method_asked = other
            else:
                method_asked = method
            if route.name == "accounts:logout":
                client.force_login(user)
            if status not in expected:
                failures.append(
                    f"{who} {method_asked} {route.name} ({route.url}) → {status}, expected {sorted(expected)}"
                )
        client.logout()
    return failures + sorted(set(csp))


@pytest.mark.django_db
def test_permission_matrix_get(client, users):
    """Every named URL × every role (and a neighbouring town's station and clerk), GET, against the table."""
    failures = _walk(client, users, "GET")
    assert failures == [], "\n".join(failures)


@pytest.mark.django_db
def test_permission_matrix_post(client, users):
    """The same with an empty POST: a refused role gets 403 before anything is looked at or validated; an allowed
    one has its (empty) input refused, never the act; outside the region, 404."""
    failures = _walk(client, users, "POST")
    assert failures == [], "\n".join(failures)


@pytest.mark.django_db
def test_object_urls_answer_200_to_their_own_town(client, users):
    """The real objects open (not merely "not 403") for a role that may see them: 200 on the pages we own."""
    for name, who in (("accounts:user_edit", "sys_admin"), ("core:job_detail", "town_station")):
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
        elif route.perm.startswith("__") and route.perm != SIGNED_IN:  # the API's bearer tokens: refused
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


# --- security issue 16, points 2 and 3: who sees a job, its problems and its file ---------------------------------

# Written out per role, not derived from ROLE_ACTIONS. "see": the job list names the job, its pages open and its
# file downloads (each download audited); 404: the job does not exist for them; 403: no job pages at all.
# (a town station's export with whole ID numbers, a village clerk's failed household import)
JOBS_EXPECTED = {
    "village_clerk": (404, "see"),  # the export lies above the village; the import is theirs
    "other_village_clerk": (404, 404),  # another village
    "helper": (403, 403),  # no job pages
    "town_station": ("see", "see"),
    "town_leader": (404, 404),  # may export, but not see whole IDs; imports nothing
    "department": (404, 404),  # no household data at all
    "county_review": (404, 404),  # no whole IDs; imports nothing
    "province_record": (404, 404),
    "sys_admin": (403, 403),  # 三员分立: the administrators never see households; no job pages (issue 17)
    "sec_admin": (403, 403),
    "audit_admin": (403, 403),
    "neighbour_station": (404, 404),
    "neighbour_clerk": (404, 404),
}


def _downloads(job) -> int:
    from fangfan.core.models import AuditEvent

    return AuditEvent.objects.filter(action="job.downloaded", object_id=str(job.pk)).count()


def _job_answers(client, job, file_url: str) -> dict:
    from job_factory import WHOLE_ID

    listed = client.get(reverse("core:job_list"))
    answers = {
        "list": listed.status_code,
        "listed": listed.status_code == 200 and job.title in listed.content.decode(),
        "detail": client.get(reverse("core:job_detail", args=[job.pk])).status_code,
    }
    page = client.get(reverse("transfer:job", args=[job.pk]))
    answers["page"] = page.status_code
    shown = page.content if page.status_code == 200 else b""
    before = _downloads(job)
    response = client.get(reverse(file_url, args=[job.pk]))
    answers["file"] = response.status_code
    answers["audited"] = _downloads(job) - before
    if response.status_code == 200:
        shown += b"".join(response.streaming_content)
    # the export's file (CSV) holds the whole ID; the import's page lists it (its .xlsx is zipped)
    answers["whole_id"] = WHOLE_ID.encode() in shown
    return answers


@pytest.mark.django_db
def test_jobs_their_problems_and_files_per_role(client, users, settings, tmp_path):
    """Issue 16: town_leader, county_review and province_record downloaded a town station's export with 12 459
    whole ID numbers, unaudited; sys_admin and a department user opened a village's import problems."""
    from job_factory import town_export_with_ids, village_import_failed

    settings.MEDIA_ROOT = tmp_path / "media"
    export = town_export_with_ids(users, tmp_path)
    export.title = "导出桃溪镇农户清单（含证件号码）"
    export.save(update_fields=["title"])
    imported = village_import_failed(users)
    failures = []
    for who, expected in JOBS_EXPECTED.items():
        client.force_login(users[who])
        for job, file_url, outcome in (
            (export, "transfer:job_download", expected[0]),
            (imported, "transfer:job_problems", expected[1]),
        ):
            got = _job_answers(client, job, file_url)
            if outcome == "see":
                ok = (
                    got["listed"]
                    and got["detail"] == 302
                    and got["page"] == 200
                    and got["file"] == 200
                    and got["audited"] == 1
                    and got["whole_id"]
                )
            else:
                ok = (
                    not got["listed"]
                    and got["list"] == (403 if outcome == 403 else 200)
                    and got["detail"] == got["page"] == got["file"] == outcome
                    and got["audited"] == 0
                )
            if not ok:
                failures.append(f"{who} on {job.kind}: expected {outcome}, got {got}")
        client.logout()
    assert failures == []


@pytest.mark.django_db
def test_a_download_is_audited_without_personal_data(client, users, tmp_path):
    from job_factory import WHOLE_ID, town_export_with_ids

    from fangfan.core.models import AuditEvent

    export = town_export_with_ids(users, tmp_path)
    client.force_login(users["town_station"])
    for _ in range(2):
        response = client.get(reverse("transfer:job_download", args=[export.pk]))
        assert response.status_code == 200 and WHOLE_ID.encode() in b"".join(response.streaming_content)
    events = list(AuditEvent.objects.filter(action="job.downloaded").order_by("id"))
    assert len(events) == 2  # one per download
    event = events[0]
    assert event.actor == users["town_station"] and event.object_type == "core.job"
    assert event.object_id == str(export.pk) and event.region_code == TOWN
    assert event.after == {"kind": "households_export", "file": "result"}
    assert WHOLE_ID not in f"{event.object_label} {event.after} {event.note}"


@pytest.mark.django_db
def test_a_user_who_lost_the_right_no_longer_downloads_their_own_job(client, users, settings, tmp_path):
    """Checked at download time: a town station moved to the leading group (no whole IDs) keeps no access to the
    export they made; a village clerk made a helper (no job pages, no import) none to their import's problems."""
    from job_factory import town_export_with_ids, village_import_failed

    settings.MEDIA_ROOT = tmp_path / "media"
    station, clerk = users["town_station"], users["village_clerk"]
    export = town_export_with_ids(users, tmp_path)
    imported = village_import_failed(users)
    client.force_login(station)
    assert client.get(reverse("transfer:job_download", args=[export.pk])).status_code == 200
    station.role = "town_leader"
    station.save(update_fields=["role"])
    assert client.get(reverse("transfer:job_download", args=[export.pk])).status_code == 404
    assert client.get(reverse("transfer:job", args=[export.pk])).status_code == 404
    assert export.title not in client.get(reverse("core:job_list")).content.decode()

    client.force_login(clerk)
    assert client.get(reverse("transfer:job_problems", args=[imported.pk])).status_code == 200
    clerk.role = "helper"
    clerk.save(update_fields=["role"])
    assert client.get(reverse("transfer:job_problems", args=[imported.pk])).status_code == 403
    clerk.role = "town_leader"  # job pages, but no import: the problems are not theirs to see any more
    clerk.save(update_fields=["role"])
    assert client.get(reverse("transfer:job_problems", args=[imported.pk])).status_code == 404
    assert client.get(reverse("transfer:job", args=[imported.pk])).status_code == 404
