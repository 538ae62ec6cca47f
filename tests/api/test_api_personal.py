"""Personal tokens at the API's door and the conventions of every personal endpoint (spec/API.md): 401 for a
missing, garbage, expired or revoked token, a disabled user's token, a department token on a personal endpoint
and a personal token on a department one; 403 a role without the action; 404 outside the jurisdiction; 422 with a
Chinese ``detail`` and the field errors; the OpenAPI document with both security schemes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import NEIGHBOUR_VILLAGE, TOWN, VILLAGE
from django.utils import timezone
from registry_factory import make_household

from fangfan.accounts.models import PersonalToken
from fangfan.accounts.tokens import personal_token_issue, personal_token_revoke
from fangfan.monitoring.models import RiskPoint
from fangfan.monitoring.tokens import token_issue

pytestmark = pytest.mark.django_db
DETAIL = "/api/v1/households/{}"
RISKS = "/api/v1/households/{}/risks"


@pytest.fixture
def home(regions):
    return make_household(
        "341523104201000101",
        VILLAGE,
        household_type="exited",
        exited_class="monitored",
        monitoring_type="unstable",
        monitoring_state="monitoring",
        identified_month="202403",
    )


def issue(user, **kwargs) -> str:
    return personal_token_issue(actor=user, user=user, **kwargs)[1]


def auth(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def assert_401(response):
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == "Bearer"
    assert "令牌" in response.json()["detail"]


def test_有效令牌_200(client, users, home):
    response = client.get(DETAIL.format(home.number), **auth(issue(users["village_clerk"])))
    assert response.status_code == 200, response.content
    assert response.json()["household_no"] == home.number


def test_没有令牌或乱写的令牌_401(client, users, home):
    url = DETAIL.format(home.number)
    assert_401(client.get(url))
    assert_401(client.get(url, HTTP_AUTHORIZATION="Bearer"))
    assert_401(client.get(url, HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz"))
    assert_401(client.get(url, **auth("garbage")))
    assert_401(client.get(url, **auth("ffp_" + "x" * 43)))
    assert_401(client.get(url, **auth("ffp_" + "x" * 500)))


def test_已登录网页的会话没有令牌也是401(client, users, home):
    client.force_login(users["village_clerk"])
    assert_401(client.get(DETAIL.format(home.number)))


def test_过期的令牌_401(client, users, home):
    raw = issue(users["village_clerk"], days=1)
    url = DETAIL.format(home.number)
    assert client.get(url, **auth(raw)).status_code == 200
    PersonalToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_401(client.get(url, **auth(raw)))
    assert_401(client.get(url, **auth(raw)))  # every use, not only the first


def test_吊销的令牌_401(client, users, home):
    clerk = users["village_clerk"]
    token, raw = personal_token_issue(actor=clerk, user=clerk)
    personal_token_revoke(actor=clerk, token=token)
    assert_401(client.get(DETAIL.format(home.number), **auth(raw)))
    assert_401(client.get(DETAIL.format(home.number), **auth(raw)))


def test_账号停用后令牌失效_401(client, users, home):
    clerk = users["village_clerk"]
    raw = issue(clerk)
    clerk.is_active = False
    clerk.save(update_fields=["is_active"])
    assert_401(client.get(DETAIL.format(home.number), **auth(raw)))


def test_改为管理员角色后令牌失效_401(client, users, home):
    clerk = users["village_clerk"]
    raw = issue(clerk)
    clerk.role = "sys_admin"
    clerk.save(update_fields=["role"])
    assert_401(client.get(DETAIL.format(home.number), **auth(raw)))


def test_部门令牌不能用于个人接口_个人令牌不能用于部门接口(client, users, home):
    _row, department_raw = token_issue(
        actor=users["town_station"], name="县医保局结算系统", source="medical", region_code=TOWN
    )
    assert_401(client.get(DETAIL.format(home.number), **auth(department_raw)))
    personal = issue(users["town_station"])
    response = client.post(
        "/api/v1/department/medical/batches",
        '{"rows": []}',
        content_type="application/json",
        **auth(personal),
    )
    assert_401(response)
    assert not PersonalToken.objects.filter(last_used_at__isnull=False).exists()


def test_角色无权查看农户_403(client, users, home):
    response = client.get(DETAIL.format(home.number), **auth(issue(users["department"])))
    assert response.status_code == 403
    assert "无权" in response.json()["detail"]
    # 403 whether or not the household exists: the role decides, not the object
    assert client.get(DETAIL.format("nothing"), **auth(issue(users["department"]))).status_code == 403


def test_辖区以外与不存在一样_404(client, users, home):
    raw = issue(users["neighbour_clerk"])
    outside = client.get(DETAIL.format(home.number), **auth(raw))
    missing = client.get(DETAIL.format("341523105201009999"), **auth(raw))
    assert outside.status_code == missing.status_code == 404
    assert "没有找到" in outside.json()["detail"]
    assert client.get(RISKS.format(home.number), **auth(raw)).status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("page=abc", "page"),
        ("page_size=501", "page_size"),
        ("page_size=0", "page_size"),
        ("page_size=1e9", "page_size"),
    ],
)
def test_分页参数有误_422中文说明(client, users, home, query, field):
    response = client.get(RISKS.format(home.number) + "?" + query, **auth(issue(users["village_clerk"])))
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["detail"].startswith("请求参数有误")
    assert [e["field"] for e in body["errors"]] == [field]
    assert any("\u4e00" <= c <= "\u9fff" for c in body["errors"][0]["message"])  # a Chinese reason


def test_列表分页(client, users, home):
    for n in range(3):
        RiskPoint.objects.create(
            household=home,
            region_code=VILLAGE,
            risk_type="illness",
            channel="cadre",
            found_on=date(2026, 3, 1 + n),
            deadline=date(2026, 6, 1),
            description=f"风险 {n}",
        )
    raw = issue(users["town_station"])
    page = client.get(RISKS.format(home.number) + "?page=2&page_size=2", **auth(raw)).json()
    assert page["count"] == 3
    assert [r["description"] for r in page["results"]] == ["风险 2"]
    beyond = client.get(RISKS.format(home.number) + "?page=9&page_size=2", **auth(raw)).json()
    assert beyond == {"count": 3, "results": []}


def test_令牌使用时间被记录(client, users, home):
    raw = issue(users["village_clerk"])
    client.get(DETAIL.format(home.number), **auth(raw))
    assert PersonalToken.objects.get().last_used_at is not None


def test_OpenAPI列出两种令牌和中文说明(client):
    schema = client.get("/api/v1/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert set(schemes) == {"DepartmentBearer", "PersonalBearer"}
    for path in ("/api/v1/households/{household_no}", "/api/v1/households/{household_no}/risks"):
        operation = schema["paths"][path]["get"]
        assert operation["security"] == [{"PersonalBearer": []}]
        assert any("\u4e00" <= c <= "\u9fff" for c in operation["summary"])
        assert {"200", "401", "403", "404", "422"} <= set(operation["responses"])
    assert schema["paths"]["/api/v1/department/{source}/batches"]["post"]["security"] == [
        {"DepartmentBearer": []}
    ]


def test_邻镇用户看不到本镇农户_看得到本镇的(client, users, home):
    neighbour_home = make_household("341523105201000101", NEIGHBOUR_VILLAGE)
    raw = issue(users["neighbour_station"])
    assert client.get(DETAIL.format(neighbour_home.number), **auth(raw)).status_code == 200
    assert client.get(DETAIL.format(home.number), **auth(raw)).status_code == 404
