"""The registry's acceptance journey in Chromium (issue 3): a village clerk finds households of their village only,
opens one, edits an income item, and sees the per-capita income, the suggestion and the audit entry change.
Screenshots go to test-artifacts/ (desktop and a 390 px phone)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_support import launch_browser, login, requires_chromium, screenshot, start_server, watch_requests

pytestmark = [pytest.mark.browser, requires_chromium]

TESTS = Path(__file__).resolve().parent
PASSWORD = "Cunwu-Jingban-2026!"
SETUP = f"""
import sys
from datetime import date
from decimal import Decimal
sys.path.insert(0, {str(TESTS)!r})
from registry_factory import make_household
from fangfan.accounts.models import User
from fangfan.regions.services import regions_import
from fangfan.regions.models import Region
from pathlib import Path
import fangfan.regions
regions_import(path=Path(fangfan.regions.__file__).parent / "fixtures/demo_regions.csv", actor=OPERATOR)
User.objects.create_user(username="dfc-clerk", password={PASSWORD!r}, role="village_clerk",
                         region_id="341523104201", full_name="东风村经办")
ill = {{"health": "患有大病"}}
make_household("DF-0001", "341523104201", members=[
    ("张三丰", date(1962, 3, 1), "户主", ill), ("李秀英", date(1964, 7, 9), "配偶", {{"female": True}})],
    income={{"wage_income": Decimal("12000"), "transfer_income": Decimal("2000")}}, phone="13800001234")
make_household("DF-0002", "341523104201", members=[("王大力", date(1955, 1, 2), "户主")],
    household_type="exited", exited_class="enjoying", income={{"wage_income": Decimal("15000")}},
    food_clothing_secure=True, housing_grade="B", water_safe=True)
for i in range(3, 8):
    make_household(f"DF-{{i:04d}}", "341523104201", members=[(f"刘{{i}}号", date(1970 + i, 1, 1), "户主")],
                   income={{"wage_income": Decimal(9000 + 1000 * i)}})
User.objects.create_user(username="county-review", password={PASSWORD!r}, role="county_review",
                         region_id="341523000000", full_name="县审核")
User.objects.create_user(username="dfc-helper", password={PASSWORD!r}, role="helper",
                         region_id="341523104201", full_name="东风村联系人")
make_household("XH-0001", "341523104202", members=[("张山", date(1980, 1, 1), "户主")])
make_household("FY-0001", "341523105201", members=[("张珊", date(1981, 1, 1), "户主")])
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url, stop = start_server(tmp_path_factory.mktemp("registry-browser"), SETUP)
    yield url
    stop()


def _numbers(page) -> list[str]:
    return page.locator("[data-testid=household-row] td a.font-monospace").all_inner_texts()


def _signed_in(p, server: str, username: str):
    """A desktop-sized page signed in as ``username``, and the list of requests leaving the test server."""
    browser = launch_browser(p)
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    outside = watch_requests(page, server)
    login(page, server, username, PASSWORD)
    return browser, page, outside


def test_village_clerk_edits_income_and_sees_figures_change(server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser, page, outside = _signed_in(p, server, "dfc-clerk")

        # The list: households of 东风村 only.
        page.goto(f"{server}/households/")
        expect(page.locator("[data-testid=household-count]")).to_contain_text("共 7 户")
        numbers = _numbers(page)
        assert numbers[:2] == ["DF-0001", "DF-0002"] and len(numbers) == 7
        assert not any(n.startswith(("XH", "FY")) for n in numbers)
        screenshot(page, "registry-list")

        # Search by pinyin initials: the table alone is swapped, and the URL follows.
        page.fill("#id_q", "zsf")
        page.click("#household-filter button[type=submit]")
        expect(page.locator("[data-testid=household-count]")).to_contain_text("共 1 户")
        # Only the filters in force, and the search as a token: a name never stands in an address.
        expect(page).to_have_url(re.compile(r"/households/\?s=[\w-]+$"))
        assert _numbers(page) == ["DF-0001"]
        searched = page.url
        # 张山 and 张珊 (other villages) are not found by 张 either.
        page.fill("#id_q", "张")
        page.click("#household-filter button[type=submit]")
        # the same count as before: wait for this search's own address, or "back" may leave before it is pushed
        expect(page).not_to_have_url(searched)
        expect(page.locator("[data-testid=household-count]")).to_contain_text("共 1 户")
        screenshot(page, "registry-list-search")
        # Back: the page comes from the server again (htmx keeps no copies of pages, which hold names, in the
        # browser's storage), so the search box shows the search of that address.
        page.go_back()
        expect(page.locator("#id_q")).to_have_value("zsf")
        expect(page.locator("[data-testid=household-count]")).to_contain_text("共 1 户")
        assert "张" not in page.evaluate("JSON.stringify(sessionStorage) + JSON.stringify(localStorage)")

        # Sort by income, descending, on the server.
        page.fill("#id_q", "")
        page.click("#household-filter button[type=submit]")
        expect(page.locator("[data-testid=household-count]")).to_contain_text("共 7 户")
        page.wait_for_load_state("networkidle")
        page.click("[data-testid=sort-per_capita_income]")
        expect(page.locator("[data-testid=sort-per_capita_income]")).to_have_class(re.compile(r"\basc\b"))
        expect(page).to_have_url(re.compile(r"sort=per_capita_income"))
        page.click("[data-testid=sort-per_capita_income]")
        expect(page).to_have_url(re.compile(r"sort=-per_capita_income"))
        expect(page.locator("[data-testid=household-row] td a.font-monospace").first).to_have_text("DF-0007")

        # Open the household.
        page.goto(f"{server}/households/")
        page.click("text=DF-0001")
        expect(page.locator("[data-testid=household-number]")).to_have_text("DF-0001")
        expect(page.locator("[data-testid=per-capita-income]")).to_have_text("7,000.00")
        expect(page.locator("[data-testid=suggestion-card]")).to_contain_text("无（一般农户，无监测建议）")
        body = page.content()
        assert "138****1234" in body and "13800001234" not in body
        assert "查看完整证件号" not in body  # a village clerk may not see IDs whole
        history_before = page.locator("[data-testid=history-row]").count()
        screenshot(page, "registry-detail-before")

        # Edit an income item.
        page.click("[data-testid=edit-household] >> visible=true")
        page.fill("#id_wage_income", "abc")
        page.click("[data-testid=save]")
        expect(page.locator(".invalid-feedback")).to_contain_text("请输入金额")
        page.fill("#id_wage_income", "6000")
        # The form works the figures out as the clerk types (the server's, on save, are what count).
        preview = page.locator("[data-testid=income-preview]")
        expect(preview).to_contain_text(
            "家庭纯收入 8,000.00 元，年人均纯收入 4,000.00 元，低于监测收入标准 5000 元"
        )
        page.fill("#id_wage_income", "20000")
        expect(preview).to_contain_text("年人均纯收入 11,000.00 元")
        expect(preview.locator("[data-below]")).to_be_hidden()
        page.fill("#id_wage_income", "6000")
        page.fill("#id_note", "入户核实：务工收入减少")
        screenshot(page, "registry-edit-form")
        page.click("[data-testid=save]")

        # Per-capita income, suggestion and the audit entry changed.
        expect(page.locator("[data-testid=per-capita-income]")).to_have_text("4,000.00")
        expect(page.locator(".alert-success")).to_contain_text("已保存")
        expect(page.locator("[data-testid=suggestion-card]")).to_contain_text("边缘易致贫户")
        expect(page.locator("[data-testid=suggestion-reason]")).to_contain_text("低于监测收入标准 5,000 元")
        expect(page.locator("[data-testid=income-formula]")).to_contain_text("8,000.00 ÷ 2 = 4,000.00")
        assert page.locator("[data-testid=history-row]").count() == history_before + 1
        newest = page.locator("[data-testid=history-row]").first
        expect(newest).to_contain_text("修改农户信息")
        expect(newest).to_contain_text("工资性收入")
        expect(newest).to_contain_text("12,000.00 → 6,000.00")
        expect(newest).to_contain_text("dfc-clerk")
        expect(newest).to_contain_text("入户核实：务工收入减少")
        screenshot(page, "registry-detail-after")

        # A household of another village is not found by name either.
        page.goto(f"{server}/households/?q=张山")
        expect(page.locator("[data-testid=household-count]")).to_contain_text("共 0 户")
        assert outside == []

        # The same pages on a phone.
        phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
        login(phone, server, "dfc-clerk", PASSWORD)
        phone.goto(f"{server}/households/")
        expect(phone.locator("[data-testid=household-count]")).to_contain_text("共 7 户")
        screenshot(phone, "registry-list-phone")
        phone.click("text=DF-0001")
        screenshot(phone, "registry-detail-phone")
        # Each member's 修改 is reachable without scrolling the member table sideways.
        for link in phone.locator("[data-testid=member-row] a:has-text('修改') >> visible=true").all():
            box = link.bounding_box()
            assert box and box["x"] + box["width"] <= 390, f"a member's 修改 is off the screen ({box})"
        assert phone.locator("[data-testid=member-row] a:has-text('修改') >> visible=true").count() == 2
        phone.click("[data-testid=edit-household] >> visible=true")
        screenshot(phone, "registry-edit-phone")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the edit form scrolls sideways on a phone ({width}px)"
        browser.close()


def test_county_user_opens_a_dashboard_figure_and_narrows_it(server):
    """A county user's start page counts households per town and category; a figure opens the list of exactly
    those households, which names the dashboard's filters, keeps them when a select changes, and drops one by its
    ×."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser, page, outside = _signed_in(p, server, "county-review")
        page.goto(f"{server}/")
        row = page.locator("[data-testid=dashboard-row][data-code='341523104000']")  # 桃溪镇
        figure = row.locator("a[href*='category=general']")
        count = figure.inner_text()
        assert int(count) >= 6
        screenshot(page, "county-dashboard")
        # A bar of the chart opens its households: 桃溪镇's 享受政策脱贫户 (the second series), DF-0002.
        # Clicked relative to the chart (Playwright scrolls it into view: it sits below the level panel's cards).
        chart = page.locator("[data-chart='registry-dashboard-chart']")
        page.wait_for_timeout(600)  # the bars' entry animation
        x, y = page.evaluate(
            """() => {
              const el = document.querySelector("[data-chart='registry-dashboard-chart']");
              return window.echarts.getInstanceByDom(el).convertToPixel({seriesIndex: 1}, [0, 0.5]);
            }"""
        )
        chart.click(position={"x": x, "y": y})
        page.wait_for_url("**category=enjoying**")
        expect(page.locator("[data-testid=household-count]")).to_contain_text("共 1 户")
        assert _numbers(page) == ["DF-0002"]
        page.go_back()
        page.wait_for_load_state("networkidle")
        figure.click()
        page.wait_for_load_state("networkidle")
        expect(page.locator("[data-testid=household-count]")).to_contain_text(f"共 {count} 户")
        expect(page.locator("[data-testid=extra-filter-area]")).to_contain_text("范围：桃溪镇")
        expect(page.locator("[data-testid=extra-filter-category]")).to_contain_text("统计分类：一般农户")
        assert "FY-0001" not in _numbers(page)  # 千人桥镇's household is not in 桃溪镇
        screenshot(page, "county-dashboard-figure-list")

        # A select changed: the dashboard's filters stay (一般农户 are no 脱贫户: nothing left).
        page.select_option("#id_household_type", "exited")
        expect(page.locator("[data-testid=household-count]")).to_contain_text("共 0 户")
        expect(page.locator("[data-testid=extra-filter-category]")).to_be_visible()
        # Its × drops the category and keeps the rest: 桃溪镇's 脱贫户.
        page.locator("[data-testid=extra-filter-category] a").click()
        page.wait_for_load_state("networkidle")
        assert "category=" not in page.url and "household_type=exited" in page.url and "area=" in page.url
        expect(page.locator("[data-testid=household-count]")).to_contain_text("共 1 户")
        assert _numbers(page) == ["DF-0002"]

        # A town's name opens the panel for that town: its villages, and the way back to the county.
        page.goto(f"{server}/")
        page.click("[data-testid=dashboard-row][data-code='341523104000'] [data-testid=place-link]")
        expect(page.locator("[data-testid=dashboard-path]")).to_contain_text("舒城县")
        expect(page.locator("[data-testid=registry-dashboard] .card-title")).to_contain_text(
            "桃溪镇各村（社区）"
        )
        village = page.locator("[data-testid=dashboard-row][data-code='341523104201']")
        count = village.locator("a[href*='category=general']").inner_text()
        village.locator("a[href*='category=general']").click()
        expect(page.locator("[data-testid=household-count]")).to_contain_text(f"共 {count} 户")
        page.go_back()
        page.locator("[data-testid=dashboard-path] a").click()
        expect(page.locator("[data-testid=dashboard-path]")).to_have_count(0)
        assert not outside, outside
        browser.close()


def test_village_clerk_names_a_helper_for_the_households_lacking_one(server):
    """Plan 四(一)3: every exited household has a 帮扶责任人. The clerk's panel counts those lacking one; the count
    opens them, the clerk ticks them all and names one; the helper then finds them on their own panel."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser, page, outside = _signed_in(p, server, "dfc-clerk")
        page.goto(f"{server}/")
        badge = page.locator("[data-testid=helper-badge]")
        expect(badge).to_contain_text("未落实帮扶责任人/联系人 1 户")  # DF-0002, the exited household
        badge.click()
        page.wait_for_load_state("networkidle")
        assert _numbers(page) == ["DF-0002"]
        submit = page.locator("[data-testid=helper-bulk-submit]")
        expect(submit).to_be_disabled()
        page.click("[data-testid=check-all]")
        expect(page.locator("[data-checked-count]")).to_have_text("1")
        expect(submit).to_be_enabled()
        submit.click()
        page.wait_for_load_state("networkidle")
        expect(page.locator("[data-testid=selected-households]")).to_contain_text("DF-0002")
        page.select_option("select[name=helper]", label="东风村联系人（dfc-helper，东风村）")
        screenshot(page, "helper-bulk-assign")
        page.click("[data-testid=save]")
        page.wait_for_load_state("networkidle")
        expect(page.locator(".alert-success")).to_contain_text(
            "已指定 东风村联系人 为 1 户的帮扶责任人/联系人"
        )
        expect(page.locator("[data-testid=household-count]")).to_contain_text("共 0 户")
        page.goto(f"{server}/")
        expect(page.locator("[data-testid=helper-badge]")).to_contain_text("未落实帮扶责任人/联系人 0 户")
        assert not outside, outside
        browser.close()

        browser, page, outside = _signed_in(p, server, "dfc-helper")
        page.goto(f"{server}/")
        page.click("[data-testid=card-my-households]")
        page.wait_for_load_state("networkidle")
        expect(page.locator("[data-testid=extra-filter-helper]")).to_contain_text("帮扶责任人/联系人：我")
        assert _numbers(page) == ["DF-0002"]
        page.locator("[data-testid=household-row] a").first.click()
        expect(page.locator("[data-testid=helper]")).to_contain_text("东风村联系人")
        expect(page.locator("[data-testid=helper-edit]")).to_have_count(0)  # a helper does not name helpers

        # The monthly contact (plan 四(二)2): a phone call, what was learned; the ledger counts it.
        page.goto(f"{server}/")
        expect(page.locator("[data-testid=card-my-missing-value]")).to_have_text("1")
        page.click("[data-testid=card-my-missing]")
        expect(page.locator("[data-testid=ledger-missing]")).to_have_text("1 户")
        page.locator("[data-testid=ledger-row] a.btn").click()
        page.select_option("select[name=way]", label="电话")
        page.fill("textarea[name=living]", "老人身体尚可，务工收入稳定")
        screenshot(page, "contact-form")
        page.click("[data-testid=save]")
        expect(page.locator("[data-testid=contact-row]")).to_contain_text("老人身体尚可，务工收入稳定")
        expect(page.locator("[data-testid=contact-row]")).to_contain_text("电话")
        page.goto(f"{server}/households/contacts/")
        expect(page.locator("[data-testid=ledger-missing]")).to_have_text("0 户")
        expect(page.locator("[data-testid=ledger-row]")).to_contain_text("1 次")
        screenshot(page, "contact-ledger")
        assert not outside, outside
        browser.close()
