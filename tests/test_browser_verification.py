"""The verification journey in Chromium (issue 4): a village clerk opens the warnings inbox, opens the household's
one verification task holding two warnings, confirms one and excludes the other with a reason, and finds the
confirmed risk on the risk-point list — on a desktop and on a 390 px phone. Screenshots go to test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import launch_browser, login, requires_chromium, screenshot, start_server, watch_requests

pytestmark = [pytest.mark.browser, requires_chromium]

TESTS = Path(__file__).resolve().parent
PASSWORD = "Cunwu-Hecha-2026!"
SETUP = f"""
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
sys.path.insert(0, {str(TESTS)!r})
from django.utils import timezone
from registry_factory import make_household
import fangfan.regions
from conftest import operator
from fangfan.accounts.models import User
from fangfan.monitoring.models import EarlyWarning, VerificationTask
from fangfan.monitoring.services import tasks_bundle
from fangfan.regions.services import regions_import

regions_import(path=Path(fangfan.regions.__file__).parent / "fixtures/demo_regions.csv", actor=OPERATOR)
User.objects.create_user(username="dfc-clerk", password={PASSWORD!r}, role="village_clerk",
                         region_id="341523104201", full_name="东风村经办")
homes = {{}}
for number, head, birth in [("DF-0101", "张三丰", date(1962, 3, 1)), ("DF-0102", "李四海", date(1958, 9, 9))]:
    homes[number] = make_household(number, "341523104201", members=[(head, birth, "户主", {{"health": "患有大病"}})],
        income={{"wage_income": Decimal("9000")}}, phone="13800001234")
n = 0
for number, hh in homes.items():
    for rule, risk, source, text in [
        ("MED_SELF_PAID", "illness", "medical", "户主住院个人自付 8 600 元，超过监测户阈值 6 000 元"),
        ("HOUSING_CD", "housing", "housing", "住建部门鉴定住房为 C 级（局部危房）"),
    ]:
        n += 1
        EarlyWarning.objects.create(household=hh, region_code=hh.region_id, rule_code=rule, risk_type=risk,
            channel="department", source=source, dedupe_key=f"b{{n}}", explanation=text,
            evidence={{"来源": source}}, created_at=timezone.now())
tasks_bundle(actor=operator(), household_ids=[h.pk for h in homes.values()])
# One task already late, for the overdue badge.
VerificationTask.objects.filter(household=homes["DF-0102"]).update(due_date=timezone.localdate() - timedelta(days=1))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url, stop = start_server(tmp_path_factory.mktemp("verification-browser"), SETUP)
    yield url
    stop()


def _verify(page, server: str, number: str, name: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server}/monitoring/")
    inbox = page.locator("[data-testid=inbox-tasks]")
    expect(inbox.locator("[data-testid=task-card]")).to_have_count(2)
    expect(inbox.locator("[data-testid=overdue-badge]")).to_have_count(1)
    screenshot(page, f"{name}-inbox")

    inbox.locator("[data-testid=task-link]", has_text=number).click()
    cards = page.locator("[data-testid=warning-card]")
    expect(cards).to_have_count(2)
    expect(page.locator("[data-testid=household-summary]")).to_be_visible()
    cards.nth(0).locator("[data-testid=choose-confirm]").click()
    cards.nth(1).locator("[data-testid=choose-exclude]").click()
    # Submitting without a reason is refused, and nothing is lost.
    page.fill("#id_finding", "入户核实：户主住院属实；住房已完成加固改造。")
    page.click("[data-testid=complete-task]")
    expect(page.locator(".invalid-feedback", has_text="排除预警必须填写排除理由")).to_be_visible()
    screenshot(page, f"{name}-refused")
    cards = page.locator("[data-testid=warning-card]")
    cards.nth(1).locator("textarea").fill("2024 年已完成危房改造，现为 B 级")
    cards.nth(0).locator("[data-testid=choose-confirm]").click()
    cards.nth(1).locator("[data-testid=choose-exclude]").click()
    page.locator("label", has_text="电话").click()
    screenshot(page, f"{name}-task-form")
    page.click("[data-testid=complete-task]")
    expect(page.locator(".alert-success")).to_contain_text("确认 1 条，排除 1 条")
    expect(page.locator("[data-testid=task-done]")).to_be_visible()
    expect(page.locator("[data-testid=visit-record]")).to_contain_text("电话")
    screenshot(page, f"{name}-task-done")

    page.goto(f"{server}/monitoring/risks/")
    row = page.locator("[data-testid=risk-row]", has_text=number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("因病")
    screenshot(page, f"{name}-risks")


def test_village_clerk_verifies_a_household_on_a_desktop_and_a_phone(server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = launch_browser(p)
        desktop = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        outside = watch_requests(desktop, server)
        login(desktop, server, "dfc-clerk", PASSWORD)
        _verify(desktop, server, "DF-0101", "verification-desktop")

        phone = browser.new_page(
            viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
        )
        outside += watch_requests(phone, server)
        login(phone, server, "dfc-clerk", PASSWORD)
        # One task is done: the inbox now holds the late one only, plus the risk from the desktop visit.
        phone.goto(f"{server}/monitoring/")
        expect(phone.locator("[data-testid=inbox-tasks] [data-testid=task-card]")).to_have_count(1)
        phone.locator("[data-testid=task-link]", has_text="DF-0102").click()
        cards = phone.locator("[data-testid=warning-card]")
        expect(cards).to_have_count(2)
        # Nothing on the form is wider than the phone.
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        cards.nth(0).locator("[data-testid=choose-confirm]").tap()
        cards.nth(1).locator("[data-testid=choose-exclude]").tap()
        cards.nth(1).locator("textarea").fill("饮用自来水，住房经鉴定为 B 级")
        phone.fill("#id_finding", "微信视频核实。")
        phone.locator("label", has_text="微信").tap()
        screenshot(phone, "verification-phone-task-form")
        phone.click("[data-testid=complete-task]")
        expect(phone.locator(".alert-success")).to_contain_text("确认 1 条，排除 1 条")
        screenshot(phone, "verification-phone-task-done")
        phone.goto(f"{server}/monitoring/risks/")
        expect(phone.locator("[data-testid=risk-row]")).to_have_count(2)
        screenshot(phone, "verification-phone-risks")
        phone.goto(f"{server}/monitoring/")
        expect(phone.locator("[data-testid=inbox-tasks] [data-testid=task-card]")).to_have_count(0)
        screenshot(phone, "verification-phone-inbox")
        browser.close()
    assert outside == []
