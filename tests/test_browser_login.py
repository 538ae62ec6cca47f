"""A town user signs in with Chromium and sees the Chinese navigation; nothing is loaded from outside.

Runs ``fangfan runserver`` on its own SQLite data directory (see ``browser_support``); screenshots are kept in
``test-artifacts/`` at the repository root.
"""

from __future__ import annotations

import pytest
from browser_support import launch_browser, login, requires_chromium, screenshot, start_server, watch_requests

pytestmark = [pytest.mark.browser, requires_chromium]

USERNAME = "taoxi-zhan"
PASSWORD = "Taoxi-Station-2026!"

SETUP = f"""
from pathlib import Path
import fangfan
from fangfan.accounts.models import User
from fangfan.regions.services import regions_import

regions_import(path=Path(fangfan.__file__).parent / "regions/fixtures/demo_regions.csv", actor=OPERATOR)
User.objects.create_user(
    username={USERNAME!r}, password={PASSWORD!r}, role="town_station", region_id="341523104000", full_name="李站长"
)
"""


def watch_failed_responses(page) -> list[str]:
    """Responses that failed (a missing stylesheet leaves the page unstyled and the menu unfolded)."""
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return failed


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("browser-login")
    url, stop = start_server(data_dir, SETUP)
    yield url
    stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_browser(p)
        yield browser
        browser.close()


def test_town_user_logs_in_and_sees_chinese_navigation(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    outside = watch_requests(page, server)
    failed = watch_failed_responses(page)
    login(page, server, USERNAME, PASSWORD)
    assert page.url.rstrip("/") == server  # landed on the start page
    assert failed == [], "有请求失败（静态文件未能提供？）"
    nav = page.get_by_test_id("main-nav")
    assert nav.is_visible()
    assert "工作台" in nav.inner_text()
    whoami = page.get_by_test_id("whoami").inner_text()
    assert "桃溪镇" in whoami and "镇扶贫工作站" in whoami and "李站长" in whoami
    places = page.get_by_test_id("dashboard-table").inner_text()
    assert "东风村" in places and "复元村" not in places
    screenshot(page, "login-town")
    assert outside == []
    page.close()


def test_phone_width_layout(server, browser):
    page = browser.new_page(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
    )
    outside = watch_requests(page, server)
    failed = watch_failed_responses(page)
    login(page, server, USERNAME, PASSWORD)
    assert failed == [], "有请求失败（静态文件未能提供？）"
    # the page does not scroll sideways on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert "东风村" in page.get_by_test_id("dashboard-table").inner_text()
    screenshot(page, "login-town-phone")
    # the menu folds behind the toggler and opens on tap
    assert not page.get_by_test_id("main-nav").is_visible()
    page.click(".navbar-toggler")
    page.wait_for_selector("#navbar-menu.show:not(.collapsing)")
    assert "工作台" in page.get_by_test_id("main-nav").inner_text()
    screenshot(page, "login-town-phone-menu")
    assert outside == []
    page.close()


def test_wrong_password_shows_chinese_error(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    login(page, server, USERNAME, "Wrong-Password-1")
    assert "账号或密码不正确" in page.content()
    screenshot(page, "login-error")
    page.close()
