"""The Content-Security-Policy without 'unsafe-inline' in Chromium (issue 21.8): the start page, the household list,
a household, the contact form (phone layout) and the monthly report's charts report no violation, and the second
factor's enrolment (its QR code drawn by our own view) works under the same policy. Screenshots go to
test-artifacts/ (csp-*.png)."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import launch_browser, login, requires_chromium, screenshot, start_server, watch_requests

pytestmark = [pytest.mark.browser, requires_chromium]

TESTS = Path(__file__).resolve().parent
PASSWORD = "Csp-Zhengce-2026!"
SETUP = f"""
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
sys.path.insert(0, {str(TESTS)!r})
from registry_factory import make_household
import fangfan.regions
from fangfan.accounts.models import User
from fangfan.regions.services import regions_import
from fangfan.registry.history import history_snapshot

regions_import(path=Path(fangfan.regions.__file__).parent / "fixtures/demo_regions.csv", actor=OPERATOR)
User.objects.create_user(username="tx-station", password={PASSWORD!r}, role="town_station",
                         region_id="341523104000", full_name="桃溪镇工作站")
User.objects.create_user(username="county-review", password={PASSWORD!r}, role="county_review",
                         region_id="341523000000", full_name="县审核")
for n in range(6):
    make_household(f"3415231042010{{n:05d}}", "341523104201", members=[(f"刘{{n}}号", date(1970 + n, 1, 1), "户主")],
                   monitoring_type="marginal", monitoring_state="monitoring", identified_month="202501",
                   income={{"wage_income": Decimal(9000 + 1000 * n)}}, phone="13800001234")
history_snapshot(actor=OPERATOR)
"""

# Recorded in the page before any of its scripts run (an init script is not subject to the page's policy).
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || "") + ":" +
                    e.lineNumber);
});
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url, stop = start_server(tmp_path_factory.mktemp("csp-browser"), SETUP)
    yield url
    stop()


def _open(page, url: str) -> list[str]:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return page.evaluate("window.__csp")


def test_pages_keep_to_the_policy(server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = launch_browser(p)
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        context.add_init_script(WATCH_CSP)
        page = context.new_page()
        outside = watch_requests(page, server)
        console: list[str] = []
        page.on("console", lambda m: console.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: console.append(str(e)))
        violations: dict[str, list[str]] = {}

        login(page, server, "tx-station", PASSWORD)
        violations["start"] = page.evaluate("window.__csp")
        screenshot(page, "csp-start")
        violations["households"] = _open(page, f"{server}/households/")
        rows = page.locator("[data-testid=household-row] td a.font-monospace")
        expect(rows.first).to_be_visible()
        screenshot(page, "csp-households")
        rows.first.click()
        page.wait_for_load_state("networkidle")
        violations["household"] = page.evaluate("window.__csp")
        screenshot(page, "csp-household")
        page.locator("[data-testid=add-contact]").click()
        page.wait_for_load_state("networkidle")
        violations["contact"] = page.evaluate("window.__csp")
        # The finger-sized targets are still finger-sized (their size now comes from app.css).
        box = page.locator("[data-testid=save]").bounding_box()
        assert box is not None and box["height"] >= 44
        screenshot(page, "csp-contact")
        context.close()

        # A county account: the second factor's enrolment, then the monthly report's charts.
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        context.add_init_script(WATCH_CSP)
        page = context.new_page()
        outside += watch_requests(page, server)
        page.on("console", lambda m: console.append(m.text) if m.type in ("error", "warning") else None)
        page.goto(f"{server}/accounts/login/")
        page.fill("#id_username", "county-review")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert "/accounts/2fa/enrol/" in page.url
        violations["enrol"] = page.evaluate("window.__csp")
        qr = page.locator("[data-testid=otp-qr]")
        assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
        assert (qr.bounding_box() or {}).get("width", 0) >= 150
        screenshot(page, "csp-otp-enrol")
        from browser_support import pass_second_factor

        pass_second_factor(page, server, "county-review")
        violations["monthly"] = _open(page, f"{server}/reports/monthly/")
        expect(page.locator("[data-testid=monthly-trend] canvas")).to_have_count(1)
        # A tooltip (drawn in the canvas: ECharts' HTML tooltips would carry style attributes).
        page.locator("[data-testid=monthly-trend]").hover()
        page.mouse.move(700, 300)
        page.wait_for_timeout(500)
        violations["monthly"] = page.evaluate("window.__csp")
        screenshot(page, "csp-monthly")
        browser.close()

    assert {name: v for name, v in violations.items() if v} == {}
    assert [m for m in console if "Content Security Policy" in m or "Content-Security-Policy" in m] == []
    assert outside == []
