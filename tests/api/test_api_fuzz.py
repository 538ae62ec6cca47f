"""schemathesis against ``/api/v1/openapi.json`` (spec/API.md is the contract; the OpenAPI document describes it):
every operation called with generated requests — valid and invalid — through the WSGI application, in process, as
a town station's personal token (``ffp_…``) and a department's token (``ffd_…``). No answer is a server error,
and every answer — its status code, content type and body — is one the document lists for the operation.

Bounded (``MAX_EXAMPLES`` per operation) so that the suite stays quick; a longer run:
``FANGFAN_FUZZ_EXAMPLES=500 pytest tests/api/test_api_fuzz.py``."""

from __future__ import annotations

import os
from datetime import date

import pytest
import schemathesis
from conftest import TOWN, VILLAGE
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from registry_factory import make_household
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from fangfan.accounts.tokens import personal_token_issue
from fangfan.api import auth
from fangfan.core import throttle
from fangfan.monitoring.tokens import token_issue

MAX_EXAMPLES = int(os.environ.get("FANGFAN_FUZZ_EXAMPLES", "15"))
HOUSEHOLD_NO = "341523104201000101"


@pytest.fixture
def tokens(make_user, settings, monkeypatch):
    settings.ALLOWED_HOSTS = ["*"]
    # schemathesis checks that each operation refuses a missing or wrong token: more than the 10 refused tokens
    # an address may send before every call answers 429 (which would end the fuzzing's reach).
    monkeypatch.setattr(
        auth, "BAD_TOKENS", throttle.Limit(auth.BAD_TOKENS.scope, 10**6, auth.BAD_TOKENS.window)
    )
    make_household(
        HOUSEHOLD_NO, VILLAGE, household_type="exited", exited_class="monitored", monitoring_type="unstable",
        monitoring_state="monitoring", identified_month="202403", members=[("张三", date(1970, 5, 1), "户主")],
    )  # fmt: skip
    station = make_user("town_station", TOWN)
    personal = personal_token_issue(actor=station, user=station, name="接口测试")[1]
    department = token_issue(actor=station, name="县医保局", source="medical", region_code=TOWN)[1]
    # The requests go to the WSGI application itself, not through Django's test client: keep the test's database
    # connection (and its transaction) open across them, as the test client does.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield {"personal": personal, "department": department}
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _loaded():
    """The document as ``/api/v1/openapi.json`` serves it (checked by the test below), calls going to the WSGI
    application in process."""
    from fangfan.api.api import api
    from fangfan.wsgi import application

    loaded = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/v1"))
    loaded.app = application
    return loaded


schema = _loaded()


def test_the_document_is_served_and_is_openapi(client):
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200 and served["Content-Type"].startswith("application/json")
    assert served.json() == schema.raw_schema
    assert served.json()["openapi"].startswith("3.")


@schema.parametrize()
@hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_api_answers_as_documented(case, tokens):
    kind = "department" if case.path.startswith("/api/v1/department/") else "personal"
    # A case generated to break the headers (the token left out, or garbage in its place) is sent as generated: a
    # 401 is its answer. Every other case carries the token of its door.
    broken = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
    headers = None if broken else {"Authorization": f"Bearer {tokens[kind]}"}
    # A request the document allows may still be refused by a rule of policy (422, spec/API.md Conventions: an
    # unknown measure, a date in the future, a case at another step): "valid data is accepted" is not a promise.
    case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])


# --- what the fuzzer found, pinned -------------------------------------------------------------------------------


def test_a_body_that_is_not_json_is_422_in_chinese(client, tokens):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens['personal']}"}
    response = client.post("/api/v1/cases", b"\x06x\xff\xfeW", content_type="application/json", **auth)
    assert response.status_code == 422 and "不是有效的 JSON" in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/cases/89049784813970084897751040", None),
        ("post", "/api/v1/cases/batch", {"ids": [89049784813970084897751040], "action": "approve"}),
        ("post", "/api/v1/cases/batch", {"ids": [True], "action": "approve"}),
        ("get", "/api/v1/cases?page=89049784813970084897751040", None),
    ],
)
def test_numbers_beyond_the_database_are_422_not_500(client, tokens, method, path, body):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens['personal']}"}
    kwargs = {"data": body, "content_type": "application/json"} if body is not None else {}
    response = getattr(client, method)(path, **kwargs, **auth)
    assert response.status_code == 422, response.content
    assert response.json()["detail"].startswith("请求参数有误")


def test_department_refusals_carry_detail_like_every_answer(client, tokens):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens['department']}"}
    response = client.post(
        "/api/v1/department/civil/batches", {"rows": []}, content_type="application/json", **auth
    )
    assert response.status_code == 403
    assert response.json()["detail"] == response.json()["message"] and "只能报送" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/households/H%00", None),
        ("/api/v1/cases?process=%00", None),
        ("/api/v1/cases", '{"process": "identify", "household_no": "1", "reason": "\\u0000"}'),
    ],
)
def test_a_nul_character_is_422_not_a_database_error(client, tokens, path, body):
    """PostgreSQL's text cannot hold U+0000 (psycopg refuses the query): refused before any query, on both."""
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens['personal']}"}
    if body is None:
        response = client.get(path, **auth)
    else:
        response = client.post(path, body, content_type="application/json", **auth)
    assert response.status_code == 422 and "空字符" in response.json()["detail"]
