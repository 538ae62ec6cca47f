"""Households (read) over the API: the answer's fields as the contract writes them, and every endpoint walked for
every role and a neighbouring town's users, with the expected status written out per role (the API's operations
are unnamed, so tests/core/test_permission_matrix.py does not walk them)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from registry_factory import make_household

from fangfan.accounts.models import PersonalToken
from fangfan.accounts.tokens import personal_token_issue, token_hash
from fangfan.monitoring.models import RiskPoint

pytestmark = pytest.mark.django_db
VILLAGE_HOME = "341523104201000201"  # 东风村, 桃溪镇

# Who gets what on the household of 东风村 (the same on both endpoints).
EXPECTED = {
    "village_clerk": 200,
    "other_village_clerk": 404,  # 新河村: another village of the same town
    "helper": 200,
    "town_station": 200,
    "town_leader": 200,
    "department": 403,  # no household.view
    "county_review": 200,
    "province_record": 200,
    "neighbour_station": 404,
    "neighbour_clerk": 404,
}
ADMINS = ("sys_admin", "sec_admin", "audit_admin")
ENDPOINTS = ("/api/v1/households/{}", "/api/v1/households/{}/risks")


@pytest.fixture
def home(regions):
    household = make_household(
        VILLAGE_HOME,
        "341523104201",
        household_type="exited",
        exited_class="monitored",
        monitoring_type="unstable",
        monitoring_state="monitoring",
        identified_month="202403",
        members=[("张三", date(1970, 5, 1), "户主"), ("李四", date(1972, 8, 9), "配偶")],
        income={"wage_income": Decimal("9000.50")},
    )
    RiskPoint.objects.create(
        household=household,
        region_code=household.region_id,
        risk_type="illness",
        channel="inspection",
        found_on=date(2026, 3, 2),
        deadline=date(2026, 6, 30),
        description="住院自付费用高",
    )
    return household


def auth(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_每个接口每个角色(client, users, home):
    assert set(EXPECTED) | set(ADMINS) == set(users)
    failures = []
    for who, expected in EXPECTED.items():
        user = users[who]
        _token, raw = personal_token_issue(actor=user, user=user)
        for endpoint in ENDPOINTS:
            response = client.get(endpoint.format(home.number), **auth(raw))
            if response.status_code != expected:
                failures.append(f"{who} {endpoint} → {response.status_code}, expected {expected}")
            elif expected != 200:
                assert set(response.json()) == {"detail"}, response.content
    assert failures == []


def test_管理员即使有令牌行也被拒绝_401(client, users, home):
    """The three administrators get no token; a row written past the service still opens nothing."""
    for who in ADMINS:
        raw = f"ffp_forged-{who}"
        PersonalToken.objects.create(
            user=users[who], token_hash=token_hash(raw), expires_at=date(2099, 1, 1).isoformat() + "T00:00Z"
        )
        for endpoint in ENDPOINTS:
            assert client.get(endpoint.format(home.number), **auth(raw)).status_code == 401, who


def test_档案字段按约定(client, users, home):
    clerk = users["village_clerk"]
    _token, raw = personal_token_issue(actor=clerk, user=clerk)
    response = client.get(ENDPOINTS[0].format(home.number), **auth(raw))
    data = response.json()
    risk = RiskPoint.objects.get()
    assert data == {
        "household_no": VILLAGE_HOME,
        "region_code": "341523104201",
        "household_type": "脱贫户",
        "exited_year": 2019,
        "exited_class": "脱贫监测户",
        "monitoring_type": "脱贫不稳定户",
        "monitoring_state": "监测中",
        "identified_month": "2024-03",
        "eliminated_month": None,
        "size": 2,
        "per_capita_income": 4500.25,
        "suggestion": data["suggestion"],
        "suggestion_reason": data["suggestion_reason"],
        "cancelled": False,
        "risks": [
            {
                "id": risk.pk,
                "risk_type": "因病",
                "channel": "督查暗访反馈",
                "found_on": "2026-03-02",
                "deadline": "2026-06-30",
                "state": "未消除",
                "description": "住院自付费用高",
            }
        ],
    }
    assert data["suggestion"] is None or isinstance(data["suggestion"], str)
    # money as a JSON number, and no name or ID number anywhere in the answer
    assert '"per_capita_income": 4500.25' in response.content.decode()
    text = json.dumps(data, ensure_ascii=False)
    assert "张三" not in text and "李四" not in text
    for member in home.members.all():
        assert member.id_number not in text and member.id_masked not in text

    risks = client.get(ENDPOINTS[1].format(home.number), **auth(raw)).json()
    assert risks == {"count": 1, "results": data["risks"]}
