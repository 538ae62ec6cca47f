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
from schemathesis.specs.openapi.checks import positive_data_acceptance
from conftest import TOWN, VILLAGE
from hypothesis import HealthCheck, settings
from registry_factory import make_household

from fangfan.accounts.tokens import personal_token_issue
from fangfan.monitoring.tokens import token_issue

MAX_EXAMPLES = int(os.environ.get("FANGFAN_FUZZ_EXAMPLES", "15"))
HOUSEHOLD_NO = "341523104201000101"


@pytest.fixture
def tokens(users, settings):
    settings.ALLOWED_HOSTS = ["*"]
    make_household(
        HOUSEHOLD_NO, VILLAGE, household_type="exited", exited_class="monitored", monitoring_type="unstable",
        monitoring_state="monitoring", identified_month="202403", members=[("张三", date(1970, 5, 1), "户主")],
    )  # fmt: skip
    station = users["town_station"]
    personal = personal_token_issue(actor=station, user=station, name="接口测试")[1]
    department = token_issue(actor=station, name="县医保局", source="medical", region_code=TOWN)[1]
    return {"personal": personal, "department": department}


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
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_api_answers_as_documented(case, tokens):
    kind = "department" if case.path.startswith("/department/") or "/department/" in case.path else "personal"
    # A request the document allows may still be refused by a rule of policy (422, spec/API.md Conventions: an
    # unknown measure, a date in the future, a case at another step): "valid data is accepted" is not a promise.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {tokens[kind]}"}, excluded_checks=[positive_data_acceptance]
    )
