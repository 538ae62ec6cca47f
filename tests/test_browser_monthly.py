"""The monthly report in Chromium (issue 20 item 4): a county reviewer opens 月报, sees the trend chart drawn (a
canvas), drills down from the county to a town and on to a village, and switches to the 公开版."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import launch_browser, login, requires_chromium, screenshot, start_server, watch_requests

pytestmark = [pytest.mark.browser, requires_chromium]

TESTS = Path(__file__).resolve().parent
PASSWORD = "Xian-Yuebao-2026!"
SETUP = f"""
import sys
from pathlib import Path
sys.path.insert(0, {str(TESTS)!r})
from registry_factory import make_household
import fangfan.regions
from fangfan.accounts.models import User
from fangfan.regions.services import regions_import
from fangfan.registry.history import history_snapshot

regions_import(path=Path(fangfan.regions.__file__).parent / "fixtures/demo_regions.csv", actor=OPERATOR)
User.objects.create_user(username="county-review", password={PASSWORD!r}, role="county_review",
                         region_id="341523000000", full_name="县审核")
for n in range(8):
    make_household(f"3415231042010{{n:05d}}", "341523104201", monitoring_type="marginal",
                   monitoring_state="monitoring", identified_month="202501")
history_snapshot(actor=OPERATOR)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url, stop = start_server(tmp_path_factory.mktemp("monthly-browser"), SETUP)
    yield url
    stop()


def test_county_reviewer_reads_the_monthly_report_and_drills_down(server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = launch_browser(p)
        page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        outside = watch_requests(page, server)
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        login(page, server, "county-review", PASSWORD)
        page.goto(f"{server}/reports/monthly/")
        expect(page.locator("h2, .page-title").first).to_contain_text("舒城县")
        page.wait_for_load_state("networkidle")
        expect(page.locator("[data-testid=monthly-trend] canvas")).to_have_count(1)
        page.locator("[data-testid=monthly-child] a", has_text="桃溪镇").click()
        expect(page.locator(".page-title, h2").first).to_contain_text("桃溪镇")
        expect(page.locator("[data-testid=monthly-trend] canvas")).to_have_count(1)
        page.locator("[data-testid=monthly-child] a", has_text="东风村").click()
        expect(page.locator(".page-title, h2").first).to_contain_text("东风村")
        screenshot(page, "monthly-village")
        page.locator("[data-testid=monthly-path] a", has_text="舒城县").click()
        page.locator("[data-testid=monthly-public]").click()
        expect(page.locator(".page-title, h2").first).to_contain_text("公开版")
        screenshot(page, "monthly-county-public")
        browser.close()
    assert outside == [] and errors == []
