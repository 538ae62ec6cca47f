"""The request id a client may send (``X-Request-Id``) reaches the audit log and the response only as a short plain
token; anything else is replaced by a fresh one (security issue 16.12)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from fangfan.core.models import AuditEvent

pytestmark = pytest.mark.django_db
FRESH = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    "given",
    [
        "<script>alert(1)</script>",
        "abc def",
        "x" * 65,
        "张三-110105194912310021",
        "a\tb",
        "id;DROP TABLE",
        "ok-id\u00a0",
    ],
)
def test_a_request_id_that_is_no_plain_token_is_replaced(client, users, given):
    client.force_login(users["village_clerk"])
    response = client.post(reverse("accounts:logout"), headers={"X-Request-Id": given})
    assert FRESH.fullmatch(response["X-Request-Id"])
    event = AuditEvent.objects.get(action="auth.logout")
    assert event.request_id == response["X-Request-Id"]


@pytest.mark.parametrize("given", ["req-2024.05_01", "0f1e2d3c4b5a", "A" * 64])
def test_a_plain_request_id_is_kept(client, users, given):
    client.force_login(users["village_clerk"])
    response = client.post(reverse("accounts:logout"), headers={"X-Request-Id": given})
    assert response["X-Request-Id"] == given
    assert AuditEvent.objects.get(action="auth.logout").request_id == given


def test_without_one_a_fresh_id_is_made(client):
    assert FRESH.fullmatch(client.get(reverse("accounts:login"))["X-Request-Id"])


@pytest.mark.django_db
def test_a_form_refused_by_the_csrf_check_is_told_in_chinese(users):
    """A form posted without its CSRF token (a page left open too long, another site's form): a 403 page in
    Chinese saying what to do, never Django's English one, and nothing done."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(users["village_clerk"])
    response = client.post(reverse("accounts:password_change"), {"old_password": "x"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "页面已过期或来源无法确认" in body and "刷新后重新填写" in body
    assert "CSRF verification failed" not in body and "Forbidden" not in body
