"""The API under attack: guessing tokens from one address is throttled (repeated 401 → 429), a deeply nested JSON
body answers 422 (not a RecursionError and 500), an oversized body a JSON 413."""

from __future__ import annotations

import json

import pytest
from conftest import TOWN
from django.test import override_settings

from fangfan.api.auth import BAD_TOKENS
from fangfan.api.body import MAX_DEPTH
from fangfan.core.models import ThrottleHit
from fangfan.monitoring.models import DepartmentBatch
from fangfan.monitoring.tokens import token_issue

pytestmark = pytest.mark.django_db
URL = "/api/v1/department/medical/batches"


@pytest.fixture
def token(users):
    return token_issue(actor=users["town_station"], name="县医保局", source="medical", region_code=TOWN)[1]


def _post(client, raw, body, ip="198.51.100.1", **extra):
    return client.post(
        URL,
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
        REMOTE_ADDR=ip,
        **extra,
    )


def test_repeated_bad_tokens_from_one_address_get_429(client, token):
    for n in range(BAD_TOKENS.limit):
        assert _post(client, f"ffd_guess{n}", "{}").status_code == 401
    refused = _post(client, "ffd_guess-more", "{}")
    assert refused.status_code == 429
    assert "detail" in refused.json() and int(refused["Retry-After"]) > 0
    # While throttled even a right token from that address waits; another address is unaffected.
    assert _post(client, token, "{}").status_code == 429
    assert _post(client, token, json.dumps({"rows": []}), ip="203.0.113.5").status_code in (200, 400)
    assert not ThrottleHit.objects.filter(key__contains="198.51.100").exists()


def test_a_deeply_nested_body_answers_422(client, token):
    deep = "[" * 1000 + "]" * 1000
    response = _post(client, token, '{"rows": ' + deep + "}")
    assert response.status_code == 422 and "detail" in response.json()
    very_deep = "[" * 100_000 + "]" * 100_000
    response = _post(client, token, very_deep)
    assert response.status_code == 422
    just_too_deep = {"rows": [{"证件号码": "1"}]}
    inner = just_too_deep
    for _ in range(MAX_DEPTH):
        inner["x"] = {}
        inner = inner["x"]
    assert _post(client, token, json.dumps(just_too_deep)).status_code == 422
    assert not DepartmentBatch.objects.exists()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_an_oversized_body_answers_a_json_413(client, token):
    body = json.dumps({"file_name": "x", "rows": [{"姓名": "张" * 2000}]})
    response = _post(client, token, body)
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert "请求体过大" in response.json()["detail"]
    assert not DepartmentBatch.objects.exists()
