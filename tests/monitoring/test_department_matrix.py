"""The permission matrix for the department-data pages and the API's named URLs, every role and a neighbouring
town: the answer follows only from the permission each view declares, ``ROLE_ACTIONS`` and the object's region
(``tests/core/test_permission_matrix.py`` walks the whole project against ``tests/permission_table.py``; both use
``monitoring_factory.DEPARTMENT_OBJECT_URLS``)."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from monitoring_factory import DEPARTMENT_OBJECT_URLS

from fangfan.core.permissions import PUBLIC, declared_permission


def _patterns(patterns=None, namespace=None):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            yield from _patterns(
                entry.url_patterns, f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            )
        elif isinstance(entry, URLPattern) and entry.name:
            yield (f"{namespace}:{entry.name}" if namespace else entry.name), entry


def _in_range(user, code: str) -> bool:
    span = user.jurisdiction_range()
    return span is not None and span[0] <= code < span[1]


@pytest.mark.django_db
def test_部门数据页面与接口的权限矩阵(client, users):
    routes = []
    for name, pattern in _patterns():
        if not name.startswith(("department:", "api:")):
            continue
        kwargs, region = DEPARTMENT_OBJECT_URLS[name](users) if name in DEPARTMENT_OBJECT_URLS else ({}, None)
        routes.append((name, reverse(name, kwargs=kwargs), declared_permission(pattern.callback), region))
    assert {r[0] for r in routes} >= {"department:batch_list", "department:token_list", "api:openapi-json"}
    failures = []
    for who, user in users.items():
        client.force_login(user)
        for name, url, perm, region in routes:
            status = client.get(url).status_code
            if perm == PUBLIC:
                expected, ok = "<400", status < 400
            elif not user.can(perm):
                expected = 403
                ok = status == expected
            elif region is not None and not _in_range(user, region):
                expected = 404
                ok = status == expected
            else:
                expected = 200
                ok = status == expected
            if not ok:
                failures.append(f"{who} GET {name} ({url}) → {status}, expected {expected}")
    assert failures == []


def test_接口操作也声明了访问方式():
    from fangfan.api.urls import urlpatterns

    assert all(declared_permission(p.callback) for p in urlpatterns)


# --- security issue 16, point 4: completing a verification visit ------------------------------------------------

# Written out per role, not derived from ROLE_ACTIONS: "done" — the visit is recorded; "refused" — the task opens
# read-only and the post is refused (403, issue 17) and changes nothing; 404 / 403 as the door answers. 镇领导小组 and 市县审核 had closed visits
# (every warning excluded) with their review right.
VISIT_EXPECTED = {
    "village_clerk": "done",
    "other_village_clerk": 404,
    "helper": "done",
    "town_station": "done",
    "town_leader": "refused",
    "department": "refused",  # sees the task of its own (医保) hit, read-only
    "county_review": "refused",
    "province_record": "refused",
    "sys_admin": 403,
    "sec_admin": 403,
    "audit_admin": 403,
    "neighbour_station": 404,
    "neighbour_clerk": 404,
}


@pytest.mark.django_db
def test_完成入户核查的权限矩阵(client, users):
    from django.utils import timezone
    from monitoring_factory import matrix_task

    from fangfan.monitoring.models import VerificationTask

    failures = []
    for who, expected in VISIT_EXPECTED.items():
        task = VerificationTask.objects.get(pk=matrix_task(users)[0]["pk"])
        data = {"visited_on": timezone.localdate().isoformat(), "visit_way": "入户", "finding": "入户核实"}
        for pk in task.warnings.values_list("pk", flat=True):
            data[f"decision_{pk}"], data[f"reason_{pk}"] = "exclude", "已有稳定收入"
        client.force_login(users[who])
        url = reverse("monitoring:task_detail", args=[task.pk])
        status = client.post(url, data).status_code
        state = VerificationTask.objects.get(pk=task.pk).state
        if expected == "done":
            ok = status == 302 and state == "done"
        elif expected == "refused":
            page = client.get(url)
            ok = (
                status == 403 and state == "open" and page.status_code == 200 and page.context["form"] is None
            )
        else:
            ok = status == expected and state == "open"
        if not ok:
            failures.append(f"{who} POST {url} → {status}, task {state}; expected {expected}")
    assert failures == []
