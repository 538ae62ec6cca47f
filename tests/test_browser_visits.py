"""On a phone (Chromium at 390 px): a 联系人 logs a phone call that lowers 工资性收入 and sees the new suggestion at once
(plan M14); a town station adds a measure to a risk point, marks it 已落实 with a photo and closes the risk point
(issue 18). Runs ``fangfan runserver`` on its own SQLite data directory (``browser_support``)."""

from __future__ import annotations

import struct
import zlib
from datetime import date
from pathlib import Path

import pytest
from browser_support import launch_browser, login, requires_chromium, screenshot, start_server

pytestmark = [pytest.mark.browser, requires_chromium]

TESTS = Path(__file__).resolve().parent
PASSWORD = "Lianxi-Ren-2026!"
PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN", "is_mobile": True, "has_touch": True}
SETUP = f"""
import sys
from datetime import date, timedelta
from decimal import Decimal
sys.path.insert(0, {str(TESTS)!r})
from registry_factory import make_household
from fangfan.accounts.models import User
from fangfan.assistance.services import risk_register
from fangfan.regions.services import regions_import
from pathlib import Path
import fangfan.regions
regions_import(path=Path(fangfan.regions.__file__).parent / "fixtures/demo_regions.csv", actor=OPERATOR)
User.objects.create_user(username="dfc-helper", password={PASSWORD!r}, role="helper",
                         region_id="341523104201", full_name="联系人小王")
station = User.objects.create_user(username="tx-station", password={PASSWORD!r}, role="town_station",
                                   region_id="341523104000", full_name="李站长")
home = make_household("DF-0001", "341523104201", household_type="exited", exited_class="enjoying",
                      members=[("赵铁柱", date(1975, 1, 1), "户主"),
                               ("钱秀英", date(1977, 3, 3), "配偶", {{"health": "患有大病"}})],
                      income={{"wage_income": Decimal("20000")}})
other = make_household("DF-0002", "341523104201", household_type="exited", exited_class="enjoying",
                       members=[("孙大山", date(1960, 1, 1), "户主")])
risk_register(household=other, actor=station, risk_type="因病", channel="督查暗访反馈",
              found_on=date.today() - timedelta(days=3), description="户主住院，自付费用高")
print(home.pk, other.pk)
"""


def tiny_png() -> bytes:
    """A valid 1×1 white PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url, stop = start_server(tmp_path_factory.mktemp("visits-browser"), SETUP)
    yield url
    stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_browser(p)
        yield browser
        browser.close()


def household_url(page, server, pk: int) -> str:
    """The household's page (a fresh database: DF-0001 is household 1, DF-0002 household 2)."""
    page.goto(f"{server}/households/{pk}/")
    page.wait_for_load_state("networkidle")
    return page.url


def test_联系人手机上登记电话联系_工资收入下降_看到新的建议分类(server, browser):
    page = browser.new_page(**PHONE)
    login(page, server, "dfc-helper", PASSWORD)
    household_url(page, server, 1)
    assert "DF-0001" in page.content()
    page.get_by_test_id("add-contact").click()
    page.wait_for_load_state("networkidle")
    page.select_option("#id_way", "phone")
    page.fill("#id_living", "外出务工回乡，只打零工")
    page.locator("[data-testid=visit-changes] > summary").click()
    wage = page.locator("#id_chg-wage_income")
    assert wage.input_value() in ("20000.00", "20000")  # the value on record is shown
    wage.fill("3000")
    save = page.get_by_test_id("save")
    box = save.bounding_box()
    assert box and box["width"] >= 150 and box["height"] >= 40  # a thumb's target
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    save.click()
    page.wait_for_load_state("networkidle")
    result = page.get_by_test_id("visit-result").inner_text()
    assert "工资性收入" in result and "3000" in result
    assert "脱贫监测户" in page.get_by_test_id("visit-suggestion").inner_text()
    assert "年人均纯收入低于监测收入标准" in page.get_by_test_id("visit-warnings").inner_text()
    screenshot(page, "visit-phone-result")
    page.close()


def test_镇工作站手机上为风险点加措施_落实并上传照片_消除风险点(server, browser, tmp_path):
    page = browser.new_page(**PHONE)
    login(page, server, "tx-station", PASSWORD)
    home = household_url(page, server, 2)
    assert "DF-0002" in page.content()
    page.get_by_test_id("add-risk-measure").click()
    page.wait_for_load_state("networkidle")
    page.select_option("#id_measure", label="医疗救助（健康·兜底保障）")
    page.fill("#id_planned_on", date.today().isoformat())
    page.get_by_test_id("save").click()
    page.wait_for_load_state("networkidle")
    assert page.url.rstrip("/") == home.rstrip("/")
    page.get_by_test_id("risk-point").get_by_role("link", name="医疗救助").click()
    page.wait_for_load_state("networkidle")
    page.select_option("#id_state", "done")
    page.get_by_test_id("save-progress").click()
    page.wait_for_load_state("networkidle")
    photo = tmp_path / "落实照片.png"
    photo.write_bytes(tiny_png())
    page.set_input_files("[data-testid=evidence-form] input[type=file]", str(photo))
    page.get_by_test_id("upload").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_test_id("evidence-row").count() == 1
    page.goto(home)
    page.get_by_test_id("close-risk").click()
    page.wait_for_load_state("networkidle")
    page.fill("#id_note", "医疗救助已到位，自付费用已报销")
    page.get_by_test_id("save").click()
    page.wait_for_load_state("networkidle")
    assert "已消除" in page.get_by_test_id("risk-point").inner_text()
    screenshot(page, "measure-phone-closed")
    page.close()
