"""帮扶措施 over the API (spec/API.md: Risk points and measures): every endpoint walked for every role and a
neighbouring town's users with the expected status written out, the contract's exact field names, and the
401/403/404/409/422 answers — through the same services as the pages (M8, closing only with a measure 已落实, a
village clerk's close waiting for the town)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from assistance_factory import household, measure, risk
from conftest import NEIGHBOUR_VILLAGE
from django.utils import timezone

from fangfan.accounts.tokens import personal_token_issue
from fangfan.assistance.models import Measure, PolicyException
from fangfan.core.models import AuditEvent
from fangfan.monitoring.models import RiskPoint

pytestmark = pytest.mark.django_db
CATALOGUE = "/api/v1/measure-catalogue"
RISKS = "/api/v1/households/{}/risks"
MEASURES = "/api/v1/households/{}/measures"
PROGRESS = "/api/v1/measures/{}/progress"
CLOSE = "/api/v1/risks/{}/close"
WORKING = (
    "village_clerk",
    "other_village_clerk",
    "helper",
    "town_station",
    "town_leader",
    "department",
    "county_review",
    "province_record",
    "neighbour_station",
    "neighbour_clerk",
)

# Who gets what, per endpoint, on a household of 东风村 (桃溪镇). The department user is 医保 of 桃溪镇; the measures
# progressed below are assigned to 医保. other_village_clerk is 新河村 (same town), the neighbours are 千人桥镇.
EXPECTED = {
    "catalogue": dict.fromkeys(WORKING, 200),  # not bound to a place: every working role with measure.view
    "register_risk": {
        "village_clerk": 201,
        "other_village_clerk": 404,
        "helper": 403,
        "town_station": 201,
        "town_leader": 403,
        "department": 403,
        "county_review": 403,
        "province_record": 403,
        "neighbour_station": 404,
        "neighbour_clerk": 404,
    },
    "add_measure": {
        "village_clerk": 201,
        "other_village_clerk": 404,
        "helper": 403,
        "town_station": 201,
        "town_leader": 403,
        "department": 403,
        "county_review": 403,
        "province_record": 403,
        "neighbour_station": 404,
        "neighbour_clerk": 404,
    },
    "progress": {
        "village_clerk": 200,
        "other_village_clerk": 404,
        "helper": 403,
        "town_station": 200,
        "town_leader": 403,
        "department": 200,  # 医保, and the measure is 医保's
        "county_review": 403,
        "province_record": 403,
        "neighbour_station": 404,
        "neighbour_clerk": 404,
    },
    "close": {
        "village_clerk": 200,  # …as a request: 待镇确认
        "other_village_clerk": 404,
        "helper": 403,
        "town_station": 200,
        "town_leader": 403,
        "department": 403,
        "county_review": 403,
        "province_record": 403,
        "neighbour_station": 404,
        "neighbour_clerk": 404,
    },
}


def auth(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {personal_token_issue(actor=user, user=user)[1]}"}


def post(client, url, body, user):
    return client.post(url, json.dumps(body), content_type="application/json", **auth(user))


def today():
    return timezone.localdate()


def _open_risk(users, hh=None):
    return risk(hh or household(), users["town_station"])


def _risk_with_done_measure(users):
    r = _open_risk(users)
    measure(r.household, users["town_station"], risk_point=r, state="done")
    return r


def test_每个接口每个角色(client, users):
    failures = []

    def check(endpoint, who, response):
        expected = EXPECTED[endpoint][who]
        if response.status_code != expected:
            failures.append(
                f"{who} {endpoint} → {response.status_code} {response.content[:120]!r}, expected {expected}"
            )
        elif expected >= 400:
            assert set(response.json()) == {"detail"}, response.content

    for who in WORKING:
        user = users[who]
        check("catalogue", who, client.get(CATALOGUE, **auth(user)))
        hh = household()
        body = {
            "risk_type": "因病",
            "channel": "督查暗访反馈",
            "found_on": str(today()),
            "description": "大病",
        }
        check("register_risk", who, post(client, RISKS.format(hh.number), body, user))
        body = {"measure": "medical_aid", "planned_on": str(today())}
        check("add_measure", who, post(client, MEASURES.format(hh.number), body, user))
        m = measure(household(), users["town_station"], department="medical")
        check("progress", who, post(client, PROGRESS.format(m.pk), {"state": "落实中"}, user))
        r = _risk_with_done_measure(users)
        check(
            "close",
            who,
            post(client, CLOSE.format(r.pk), {"closed_on": str(today()), "note": "已报销"}, user),
        )
    assert failures == []


def test_没有令牌_401(client, users):
    r = _open_risk(users)
    m = measure(r.household, users["town_station"], risk_point=r)
    for method, url in (
        (client.get, CATALOGUE),
        (client.post, RISKS.format(r.household.number)),
        (client.post, MEASURES.format(r.household.number)),
        (client.post, PROGRESS.format(m.pk)),
        (client.post, CLOSE.format(r.pk)),
    ):
        response = method(url, content_type="application/json")
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == "Bearer"


def test_措施目录字段按约定(client, users):
    data = client.get(CATALOGUE + "?page_size=500", **auth(users["helper"])).json()
    assert data["count"] == len(data["results"]) >= 20
    dibao = next(row for row in data["results"] if row["code"] == "dibao")
    assert dibao == {
        "code": "dibao",
        "name": "低保",
        "category": "综合保障",
        "kind": "兜底保障",
        "department": "民政",
    }
    assert {row["kind"] for row in data["results"]} == {"开发式", "补贴式", "兜底保障"}
    award = next(row for row in data["results"] if row["code"] == "industry_award")
    assert award["department"] is None


def test_直接登记风险点_字段按约定(client, users):
    hh = household()
    body = {
        "risk_type": "因病",
        "channel": "督查暗访反馈",
        "found_on": str(today()),
        "description": "住院自付高",
    }
    response = post(client, RISKS.format(hh.number), body, users["town_station"])
    assert response.status_code == 201, response.content
    r = RiskPoint.objects.get(household=hh)
    data = response.json()
    assert data == {
        "id": r.pk,
        "risk_type": "因病",
        "channel": "督查暗访反馈",
        "found_on": str(today()),
        "deadline": str(r.deadline),
        "state": "未消除",
        "description": "住院自付高",
    }
    assert AuditEvent.objects.filter(action="risk.created").count() == 1


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ({"risk_type": "数据疑点", "channel": "督查暗访反馈", "description": "x"}, "风险类型"),
        ({"risk_type": "因病", "channel": "部门筛查预警", "description": "x"}, "来源"),
        ({"risk_type": "因病", "channel": "督查暗访反馈", "description": "  "}, "风险情况"),
    ],
)
def test_登记风险点输入有误_422中文(client, users, body, word):
    hh = household()
    response = post(
        client, RISKS.format(hh.number), {**body, "found_on": str(today())}, users["village_clerk"]
    )
    assert response.status_code == 422, response.content
    assert word in response.json()["detail"]
    assert not RiskPoint.objects.filter(household=hh).exists()


def test_登记风险点日期格式与未来日期_422(client, users):
    hh = household()
    body = {"risk_type": "因病", "channel": "督查暗访反馈", "description": "x"}
    response = post(
        client, RISKS.format(hh.number), {**body, "found_on": "2026/01/01"}, users["village_clerk"]
    )
    assert response.status_code == 422
    assert "found_on" in response.json()["detail"] and "YYYY-MM-DD" in response.json()["detail"]
    tomorrow = str(today() + timedelta(days=1))
    response = post(client, RISKS.format(hh.number), {**body, "found_on": tomorrow}, users["village_clerk"])
    assert response.status_code == 422
    assert "不能晚于今天" in response.json()["detail"]


def test_已注销的户不能登记_409(client, users):
    hh = household()
    type(hh).objects.filter(pk=hh.pk).update(cancelled=True)
    body = {"risk_type": "因病", "channel": "督查暗访反馈", "found_on": str(today()), "description": "x"}
    response = post(client, RISKS.format(hh.number), body, users["town_station"])
    assert response.status_code == 409, response.content
    assert "注销" in response.json()["detail"]
    response = post(
        client,
        MEASURES.format(hh.number),
        {"measure": "dibao", "planned_on": str(today())},
        users["town_station"],
    )
    assert response.status_code == 409


def test_登记措施_字段按约定_按名称或编码(client, users):
    r = _open_risk(users)
    body = {"measure": "医疗救助", "risk_id": r.pk, "planned_on": str(today()), "amount": 1200.5}
    response = post(client, MEASURES.format(r.household.number), body, users["village_clerk"])
    assert response.status_code == 201, response.content
    m = Measure.objects.get()
    assert response.json() == {
        "id": m.pk,
        "measure": "医疗救助",
        "kind": "兜底保障",
        "risk_id": r.pk,
        "department": "医保",  # the catalogue's
        "state": "计划",
        "planned_on": str(today()),
        "done_on": None,
        "amount": 1200.5,
    }
    body = {"measure": "skills_training", "department": "民政", "planned_on": str(today())}
    data = post(client, MEASURES.format(r.household.number), body, users["town_station"]).json()
    assert (data["measure"], data["kind"], data["department"], data["risk_id"]) == (
        "技能培训",
        "开发式",
        "民政",
        None,
    )
    body = {"measure": "skills_training", "department": "", "planned_on": str(today())}
    assert (
        post(client, MEASURES.format(r.household.number), body, users["town_station"]).json()["department"]
        is None
    )


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ({"measure": "不存在的措施"}, "帮扶措施目录中没有"),
        ({"measure": "dibao", "department": "财政"}, "责任部门"),
        ({"measure": "dibao", "amount": -1}, "金额"),
        ({"measure": "dibao", "amount": 1.234}, "两位小数"),
        ({"measure": "dibao", "risk_id": 999999}, "不是该户的风险点"),
        ({"measure": "dibao", "planned_on": "明天"}, "planned_on"),
        ({"planned_on": None}, "measure"),
    ],
)
def test_登记措施输入有误_422中文_不写入(client, users, body, word):
    hh = household()
    payload = {"planned_on": str(today()), **body}
    payload = {k: v for k, v in payload.items() if v is not None}
    response = post(client, MEASURES.format(hh.number), payload, users["village_clerk"])
    assert response.status_code == 422, response.content
    assert word in response.json()["detail"]
    assert not Measure.objects.exists()


def test_另一户或邻镇的风险点不能用_422(client, users):
    mine, other = household(), household()
    other_risk = _open_risk(users, other)
    neighbour_risk = risk(household(NEIGHBOUR_VILLAGE), users["neighbour_station"])
    for rid in (other_risk.pk, neighbour_risk.pk):
        body = {"measure": "dibao", "risk_id": rid, "planned_on": str(today())}
        response = post(client, MEASURES.format(mine.number), body, users["village_clerk"])
        assert response.status_code == 422
        assert response.json()["detail"] == f"风险点 {rid} 不是该户的风险点"


def test_已消除的风险点不能再登记措施_409(client, users):
    r = _risk_with_done_measure(users)
    assert (
        post(
            client, CLOSE.format(r.pk), {"closed_on": str(today()), "note": "好了"}, users["town_station"]
        ).status_code
        == 200
    )
    body = {"measure": "dibao", "risk_id": r.pk, "planned_on": str(today())}
    response = post(client, MEASURES.format(r.household.number), body, users["town_station"])
    assert response.status_code == 409
    assert "已消除" in response.json()["detail"]


def _not_enjoying():
    return household(household_type="exited", exit_year=2018, exited_class="not_enjoying")


def test_M8_不享受政策户的补贴式措施_422政策说明(client, users):
    hh = _not_enjoying()
    body = {"measure": "产业奖补", "planned_on": str(today())}
    response = post(client, MEASURES.format(hh.number), body, users["town_station"])
    assert response.status_code == 422
    assert "不享受政策的脱贫户原则上不再享受补贴补助类政策" in response.json()["detail"]
    assert not Measure.objects.exists() and not PolicyException.objects.exists()
    # 开发式 and 兜底保障 are still allowed
    for code in ("skills_training", "dibao"):
        assert (
            post(
                client,
                MEASURES.format(hh.number),
                {"measure": code, "planned_on": str(today())},
                users["village_clerk"],
            ).status_code
            == 201
        )


EXCEPTION = {
    "exception_reason": "暴雨致房屋倒塌，无力修缮",
    "exception_cause": "重大灾害",
    "exception_problem": "住房安全",
}


def test_M8_村级填写例外理由_登记申请_422待镇审批_无措施(client, users):
    hh = _not_enjoying()
    body = {"measure": "housing_renovation", "planned_on": str(today()), **EXCEPTION}
    response = post(client, MEASURES.format(hh.number), body, users["village_clerk"])
    assert response.status_code == 422, response.content
    data = response.json()
    exc = PolicyException.objects.get()
    assert (data["exception_id"], data["exception_state"]) == (exc.pk, "待镇审批")
    assert "待镇扶贫工作站批准" in data["detail"]
    assert exc.state == "requested" and exc.cause == "disaster" and exc.problem == "housing"
    assert not Measure.objects.exists()
    # asked again: the waiting request is found, not a second one
    again = post(client, MEASURES.format(hh.number), body, users["village_clerk"])
    assert again.status_code == 422 and again.json()["exception_id"] == exc.pk
    assert PolicyException.objects.count() == 1
    # the town station gives the reason too: it approves the waiting request and the measure is created
    response = post(client, MEASURES.format(hh.number), body, users["town_station"])
    assert response.status_code == 201, response.content
    exc.refresh_from_db()
    assert exc.state == "approved" and Measure.objects.get().exception_id == exc.pk
    # now approved: the village's next 补贴式 measure passes without a reason
    body = {"measure": "industry_award", "planned_on": str(today())}
    assert post(client, MEASURES.format(hh.number), body, users["village_clerk"]).status_code == 201


def test_M8_镇工作站填写例外理由_申请批准登记一次完成(client, users):
    hh = _not_enjoying()
    body = {"measure": "housing_renovation", "planned_on": str(today()), **EXCEPTION}
    response = post(client, MEASURES.format(hh.number), body, users["town_station"])
    assert response.status_code == 201, response.content
    exc = PolicyException.objects.get()
    assert exc.state == "approved" and exc.decided_by == users["town_station"]
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[-3:] == ["exception.requested", "exception.approved", "measure.created"]


def test_M8_例外缺原因类别_422_什么都不写(client, users):
    hh = _not_enjoying()
    body = {"measure": "housing_renovation", "planned_on": str(today()), "exception_reason": "房屋倒塌"}
    response = post(client, MEASURES.format(hh.number), body, users["town_station"])
    assert response.status_code == 422
    assert "原因类别" in response.json()["detail"]
    assert not PolicyException.objects.exists() and not Measure.objects.exists()


def test_M8_例外理由对不需要例外的措施不起作用(client, users):
    hh = _not_enjoying()
    body = {"measure": "dibao", "planned_on": str(today()), **EXCEPTION}
    assert post(client, MEASURES.format(hh.number), body, users["village_clerk"]).status_code == 201
    assert not PolicyException.objects.exists()


def test_落实进度_字段按约定_已落实为终态_409(client, users):
    m = measure(household(), users["town_station"], department="medical")
    response = post(
        client, PROGRESS.format(m.pk), {"state": "已落实", "done_on": str(today())}, users["department"]
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert set(data) == {
        "id",
        "measure",
        "kind",
        "risk_id",
        "department",
        "state",
        "planned_on",
        "done_on",
        "amount",
    }
    assert (data["state"], data["done_on"]) == ("已落实", str(today()))
    response = post(client, PROGRESS.format(m.pk), {"state": "落实中"}, users["town_station"])
    assert response.status_code == 409
    assert response.json()["detail"] == "该措施当前为“已落实”，不能改为“落实中”"


def test_落实进度输入有误_422(client, users):
    m = measure(household(), users["town_station"])
    for body, word in (
        ({"state": "完成"}, "落实状态"),
        ({"state": "未落实"}, "须说明原因"),
        ({"state": "已落实", "done_on": str(today() + timedelta(days=1))}, "不能晚于今天"),
        ({}, "state"),
    ):
        response = post(client, PROGRESS.format(m.pk), body, users["village_clerk"])
        assert response.status_code == 422, body
        assert word in response.json()["detail"], response.json()
    m.refresh_from_db()
    assert m.state == "planned"


def test_部门用户只能更新本部门的措施_其余404(client, users, make_user):
    from conftest import TOWN

    civil = make_user("department", TOWN, department="civil")
    m = measure(household(), users["town_station"], department="medical")
    assert post(client, PROGRESS.format(m.pk), {"state": "落实中"}, civil).status_code == 404
    assert post(client, PROGRESS.format(999999), {"state": "落实中"}, users["department"]).status_code == 404


def test_消除风险点_没有已落实的措施_409说明(client, users):
    r = _open_risk(users)
    body = {"closed_on": str(today()), "note": "已好转"}
    response = post(client, CLOSE.format(r.pk), body, users["town_station"])
    assert response.status_code == 409
    assert "还没有登记帮扶措施" in response.json()["detail"]
    measure(r.household, users["town_station"], risk_point=r)
    measure(r.household, users["town_station"], risk_point=r, state="in_progress")
    response = post(client, CLOSE.format(r.pk), body, users["town_station"])
    assert response.status_code == 409
    assert "计划 1 项、落实中 1 项" in response.json()["detail"]
    r.refresh_from_db()
    assert r.state == "open"


def test_消除风险点_镇工作站已消除_村级待镇确认(client, users):
    body = {"closed_on": str(today()), "note": "医疗救助已到位"}
    r = _risk_with_done_measure(users)
    data = post(client, CLOSE.format(r.pk), body, users["town_station"]).json()
    assert data["state"] == "已消除" and data["id"] == r.pk
    assert set(data) == {"id", "risk_type", "channel", "found_on", "deadline", "state", "description"}
    again = post(client, CLOSE.format(r.pk), body, users["town_station"])
    assert again.status_code == 409 and again.json()["detail"] == "该风险点已消除"

    r = _risk_with_done_measure(users)
    response = post(client, CLOSE.format(r.pk), body, users["village_clerk"])
    assert response.status_code == 200
    assert response.json()["state"] == "待镇确认"
    again = post(client, CLOSE.format(r.pk), body, users["village_clerk"])
    assert again.status_code == 409 and "等待镇扶贫工作站确认" in again.json()["detail"]


def test_消除风险点输入有误_422(client, users):
    r = _risk_with_done_measure(users)
    for body, word in (
        ({"closed_on": str(today()), "note": " "}, "说明"),
        ({"closed_on": str(r.found_on - timedelta(days=1)), "note": "x"}, "早于"),
        ({"note": "x"}, "closed_on"),
    ):
        response = post(client, CLOSE.format(r.pk), body, users["town_station"])
        assert response.status_code == 422, body
        assert word in response.json()["detail"]


def test_邻镇用户_本镇对象一律404_自己镇的可以(client, users):
    mine = _risk_with_done_measure(users)
    theirs = risk(household(NEIGHBOUR_VILLAGE), users["neighbour_station"])
    m = measure(theirs.household, users["neighbour_station"], risk_point=theirs)
    station = users["neighbour_station"]
    assert (
        post(client, CLOSE.format(mine.pk), {"closed_on": str(today()), "note": "x"}, station).status_code
        == 404
    )
    assert (
        post(client, PROGRESS.format(mine.measures.get().pk), {"state": "落实中"}, station).status_code == 404
    )
    assert post(client, PROGRESS.format(m.pk), {"state": "已落实"}, station).status_code == 200
    response = post(client, CLOSE.format(theirs.pk), {"closed_on": str(today()), "note": "x"}, station)
    assert response.status_code == 200 and response.json()["state"] == "已消除"


def test_OpenAPI_中文摘要与状态码(client):
    schema = client.get("/api/v1/openapi.json").json()
    for path, method, ok in (
        ("/api/v1/measure-catalogue", "get", "200"),
        ("/api/v1/households/{household_no}/risks", "post", "201"),
        ("/api/v1/households/{household_no}/measures", "post", "201"),
        ("/api/v1/measures/{measure_id}/progress", "post", "200"),
        ("/api/v1/risks/{risk_id}/close", "post", "200"),
    ):
        operation = schema["paths"][path][method]
        assert operation["security"] == [{"PersonalBearer": []}]
        assert any("\u4e00" <= c <= "\u9fff" for c in operation["summary"]), path
        assert {ok, "401", "403", "404", "422"} <= set(operation["responses"]), path
        if method == "post":
            assert "409" in operation["responses"], path
    assert "get" in schema["paths"]["/api/v1/households/{household_no}/risks"]
