"""The start page per role: places for working roles, cards with live counts for administrators."""

from __future__ import annotations

import pytest
from conftest import TOWN
from django.urls import reverse

from fangfan.accounts.models import User
from fangfan.core import audit

pytestmark = pytest.mark.django_db


def _home(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def _card_value(html: str, testid: str) -> int:
    return int(html.split(f'data-testid="{testid}-value">')[1].split("<")[0])


def _dashboard_rows(html: str) -> list[str]:
    return [part.split('"')[0] for part in html.split('data-testid="dashboard-row" data-code="')[1:]]


def test_town_user_sees_the_towns_villages_on_the_dashboard(client, users):
    html = _home(client, users["town_station"])
    rows = _dashboard_rows(html)
    assert len(rows) == 7 and all(code.startswith("341523104") for code in rows)
    assert "东风村" in html and "金桥村" in html and "复元村" not in html
    assert "工作台" in html and 'data-testid="card-tasks"' in html


def test_village_user_sees_their_village(client, users):
    html = _home(client, users["village_clerk"])
    assert _dashboard_rows(html) == [users["village_clerk"].region_id]
    assert "东风村" in html and "新河村" not in html


def test_county_user_sees_towns(client, users):
    html = _home(client, users["county_review"])
    assert _dashboard_rows(html) == ["341523104000", "341523105000"]


def test_a_role_without_the_dashboard_gets_the_list_of_places(client, users):
    html = _home(client, users["department"])
    assert "桃溪镇的村（社区）" in html and "registry-dashboard" not in html


def test_sys_admin_cards_count_the_jurisdiction(client, users, make_user):
    html = _home(client, users["sys_admin"])
    assert (
        _card_value(html, "card-users")
        == User.objects.filter(region_id__gte="341523000000", region_id__lt="341524000000").count()
    )
    assert _card_value(html, "card-regions") == 17
    town_admin = make_user("sys_admin", TOWN, username="town-admin")
    html = _home(client, town_admin)
    in_town = User.objects.filter(region_id__gte="341523104000", region_id__lt="341523105000").count()
    assert _card_value(html, "card-users") == in_town
    assert _card_value(html, "card-regions") == 8
    assert "card-audit" not in html and "card-locked" not in html


def test_security_admin_card_counts_locked_accounts(client, users):
    for _ in range(5):
        client.post(reverse("accounts:login"), {"username": users["village_clerk"].username, "password": "x"})
    html = _home(client, users["sec_admin"])
    assert _card_value(html, "card-locked") == 1
    assert "今日登录失败 5 次" in html
    assert "card-users" not in html


def test_audit_admin_card_counts_todays_events(client, users):
    audit.record(None, "test.today", region_code="341523104201")
    audit.record(None, "test.today", region_code="350000000000")  # another province
    html = _home(client, users["audit_admin"])
    # the test event in the county, the audit admin's own sign-in, and the fixture's region import (an event of
    # no region, which every auditor sees); not the other province's event
    assert _card_value(html, "card-audit") == 3
    assert "card-users" not in html
