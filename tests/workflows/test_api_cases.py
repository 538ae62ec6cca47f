"""The cases API (spec/API.md "Cases"): create, the case's shape, actions, attachments, the inbox, batches; every
answer the contract names — 401, 403, 404 (outside the jurisdiction), 409, 422 with conditions."""

from __future__ import annotations

import pytest
from assistance_factory import PDF
from django.core.files.uploadedfile import SimpleUploadedFile
from workflows_factory import eliminable, household, start, step_data, walk

from fangfan.accounts.tokens import personal_token_issue
from fangfan.workflows.models import Case

pytestmark = pytest.mark.django_db
BASE = "/api/v1/cases"


@pytest.fixture
def api(client, users):
    tokens = {}

    def call(who: str, method: str, path: str = "", body=None, **extra):
        if who not in tokens:
            user = users[who]
            tokens[who] = personal_token_issue(actor=user, user=user)[1]
        headers = {"HTTP_AUTHORIZATION": f"Bearer {tokens[who]}"}
        if method == "get":
            return client.get(BASE + path, body or {}, **headers)
        if extra.get("multipart"):
            return client.post(BASE + path, body, **headers)
        return client.post(BASE + path, body, content_type="application/json", **headers)

    return call


def _create(api, hh, who="village_clerk", **body):
    body = {"process": "identify", "household_no": hh.number, "reason": "大病住院", **body}
    if body["process"] == "identify":
        body.setdefault("monitoring_type", "边缘易致贫户")
        body.setdefault("risk_types", ["因病"])
    return api(who, "post", "", body)


def test_create_and_the_case_shape(api, users):
    hh = household()
    response = _create(api, hh)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["process"] == "identify" and data["household_no"] == hh.number and data["state"] == "办理中"
    assert data["step"]["name"] == "入户核查" and data["step"]["role"] == "village_clerk"
    assert data["step"]["level"] == "village" and data["step"]["due_on"]
    assert data["steps"] == [] and data["conditions"] == []
    got = api("town_station", "get", f"/{data['id']}").json()
    assert got["id"] == data["id"]


def test_create_refusals(client, api, users):
    hh = household()
    assert client.post(BASE, {}, content_type="application/json").status_code == 401
    assert _create(api, hh, who="helper").status_code == 403  # no case.start
    assert _create(api, hh, who="town_station").status_code == 403  # not the first step's role
    assert _create(api, hh, who="neighbour_clerk").status_code == 404
    assert _create(api, hh, monitoring_type=None).status_code == 422
    assert _create(api, hh, process="nonsense").status_code == 422
    assert _create(api, hh, process="eliminate").status_code == 409  # not monitored
    assert _create(api, hh).status_code == 201
    assert _create(api, hh).status_code == 409  # one open identification per household
    body = _create(api, household(), process="reclassify").json()
    assert "detail" in body


def test_actions_walk_and_answer_403_404_409_422(api, users):
    hh = household()
    case_id = _create(api, hh).json()["id"]
    case = Case.objects.get(pk=case_id)
    url = f"/{case_id}/actions"
    assert api("neighbour_station", "post", url, {"action": "approve"}).status_code == 404
    assert api("other_village_clerk", "post", url, {"action": "approve"}).status_code == 404
    assert api("town_leader", "post", url, {"action": "approve"}).status_code == 403
    assert api("town_station", "post", url, {"action": "approve"}).status_code == 409  # not its step yet
    bad = api("village_clerk", "post", url, {"action": "approve", "data": {"visited_on": "昨天"}})
    assert bad.status_code == 422 and "入户核查" in bad.json()["detail"]
    ok = api("village_clerk", "post", url, {"action": "approve", "data": step_data(case)})
    assert ok.status_code == 200 and ok.json()["step"]["name"] == "承诺授权"
    assert ok.json()["steps"][0]["by"] == users["village_clerk"].username
    stale = api("village_clerk", "post", url, {"action": "approve", "version": 1})
    assert stale.status_code == 409
    missing = api("village_clerk", "post", url, {"action": "approve"})
    assert missing.status_code == 422 and "承诺授权书" in missing.json()["detail"]
    assert api("village_clerk", "post", "/987654/actions", {"action": "approve"}).status_code == 404
    assert api("village_clerk", "post", url, {"action": "fly"}).status_code == 422


def test_attachments_by_content_and_size(api, users):
    hh = household()
    case_id = _create(api, hh).json()["id"]
    case = Case.objects.get(pk=case_id)
    url = f"/{case_id}/attachments"

    def upload(who, data, name="承诺书.pdf", kind="承诺授权书"):
        return api(who, "post", url, {"kind": kind, "file": SimpleUploadedFile(name, data)}, multipart=True)

    assert upload("village_clerk", b"not a pdf at all", "x.pdf").status_code == 422
    assert upload("village_clerk", PDF, kind="照片").status_code == 422
    assert upload("neighbour_clerk", PDF).status_code == 404
    assert upload("helper", PDF).status_code == 403
    ok = upload("village_clerk", PDF)
    assert ok.status_code == 201 and ok.json()["kind"] == "承诺授权书"
    assert case.attachments.count() == 1


def test_eliminate_conditions_are_422_with_conditions_and_listed(api, users):
    hh = eliminable(users)
    type(hh).objects.filter(pk=hh.pk).update(has_labour=False)
    response = _create(api, hh, process="eliminate")
    assert response.status_code == 201
    data = response.json()
    assert {c["name"] for c in data["conditions"]} >= {"风险点均已消除", "至少一项帮扶措施已落实"}
    case = Case.objects.get(pk=data["id"])
    refused = api(
        "village_clerk", "post", f"/{case.pk}/actions", {"action": "approve", "data": step_data(case)}
    )
    assert refused.status_code == 422
    body = refused.json()
    assert [c["met"] for c in body["conditions"] if c["name"].startswith("家庭有劳动能力")] == [False]


def test_inbox_and_filters(api, users):
    first = start(household(), users)
    walk(start(household(), users), users, to="信息比对")
    station = api("town_station", "get", "", {"waiting": "me"}).json()
    assert station["count"] == 1
    clerk = api("village_clerk", "get", "", {"waiting": "me"}).json()
    assert [r["id"] for r in clerk["results"]] == [first.pk]
    assert api("county_review", "get", "", {"waiting": "me"}).json()["count"] == 0
    assert api("county_review", "get", "", {"state": "办理中", "process": "identify"}).json()["count"] == 2
    assert api("neighbour_station", "get", "").json()["count"] == 0
    assert api("department", "get", "").status_code == 403
    assert api("county_review", "get", "", {"state": "whatever"}).status_code == 422


def test_batch_each_case_on_its_own(api, users):
    ready = [walk(start(household(), users), users, to="乡镇审核") for _ in range(2)]
    early = start(household(), users)
    ids = [c.pk for c in ready] + [early.pk, 987654]
    body = api("town_station", "post", "/batch", {"ids": ids, "action": "approve", "comment": "同意"}).json()
    results = {r["id"]: r for r in body["results"]}
    assert results[ready[0].pk] == {"id": ready[0].pk, "ok": True, "state": "办理中", "detail": None}
    assert results[early.pk]["ok"] is False and "入户核查" in results[early.pk]["detail"]
    assert results[987654]["ok"] is False
    assert Case.objects.get(pk=ready[1].pk).current_step.name == "县级审定"
    assert api("helper", "post", "/batch", {"ids": ids, "action": "approve"}).status_code == 403
    too_many = api("town_station", "post", "/batch", {"ids": list(range(1, 502)), "action": "approve"})
    assert too_many.status_code == 422


def test_batch_committed_in_groups_each_case_still_on_its_own(users, monkeypatch):
    """A batch is committed a few cases at a time, each case in its own savepoint: a refused case in the middle of
    a group leaves no action and no audit event, the cases around it are approved and audited, the chain holds."""
    from fangfan.core.audit import verify_chain
    from fangfan.core.models import AuditEvent
    from fangfan.workflows import services
    from fangfan.workflows.models import CaseAction

    monkeypatch.setattr(services, "BATCH_COMMIT", 2)
    ready = [walk(start(household(), users), users, to="乡镇审核") for _ in range(4)]
    early = start(household(), users)  # still at 入户核查: not the town's step
    ids = [ready[0].pk, early.pk, ready[1].pk, ready[2].pk, 987654, ready[3].pk]

    def approvals(case):
        return AuditEvent.objects.filter(action="case.approved", object_id=str(case.pk)).count()

    before = {c.pk: approvals(c) for c in [*ready, early]}
    results = services.cases_batch(ids=ids, actor=users["town_station"], action="approve", comment="同意")
    assert [r["ok"] for r in results] == [True, False, True, True, False, True]
    assert [r["id"] for r in results] == ids
    for case in ready:
        assert Case.objects.get(pk=case.pk).current_step.name == "县级审定"
        assert approvals(case) == before[case.pk] + 1
    assert not CaseAction.objects.filter(case_id=early.pk, action="approve").exists()
    assert approvals(early) == before[early.pk]
    assert Case.objects.get(pk=early.pk).current_step.name == "入户核查"
    assert verify_chain()[1] is None


def test_a_reading_role_may_not_act(api, users):
    """The helper reads cases (``case.view``) but acts on none (``case.act``): 403 naming what they may not do."""
    case = start(household(), users)
    assert api("helper", "get", f"/{case.pk}").status_code == 200
    # refused at the door, before the case's version is compared (a stale version would answer 409)
    stale = {"action": "approve", "data": step_data(case), "version": case.version + 5}
    response = api("helper", "post", f"/{case.pk}/actions", stale)
    assert response.status_code == 403 and "无权办理审批事项" in response.json()["detail"]
