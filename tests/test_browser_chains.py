"""The approval chains end to end in Chromium (issue 19): one household carried from a department warning to 监测中
(纳入监测: 入户核查, 承诺授权 with the signed consent uploaded, 信息比对, 民主评议, 村内公示, 乡镇审核, 县级审定) and
another from 监测中 to 风险已消除 (村级填报, 镇审查, 市县审核, 省级备案), each step by the user its process names,
each opened from that user's 我的待办. One ``fangfan runserver`` on its own SQLite data directory for both journeys
(``browser_support``); the eliminable household is prepared through the ORM and the services before the browser
starts."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from browser_support import launch_browser, login, requires_chromium, screenshot, start_server

pytestmark = [pytest.mark.browser, requires_chromium]

TESTS = Path(__file__).resolve().parent
PASSWORD = "Shenpi-Liucheng-2026!"
USERS = {
    "village_clerk": ("dfc-clerk", "341523104201"),
    "town_station": ("tx-station", "341523104000"),
    "county_review": ("county-review", "341523000000"),
    "province_record": ("province-record", "340000000000"),
}
CONSENT_PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SETUP = """
import json, sys
from datetime import date
from pathlib import Path
sys.path.insert(0, {tests!r})
from monitoring_factory import make_warning
from registry_factory import make_household
from workflows_factory import eliminable
from fangfan.accounts.models import User
from fangfan.regions.services import regions_import
import fangfan.regions
regions_import(path=Path(fangfan.regions.__file__).parent / "fixtures/demo_regions.csv", actor=OPERATOR)
users = {{role: User.objects.create_user(username=name, password={password!r}, role=role, region_id=region,
                                        full_name=name)
         for role, (name, region) in {users!r}.items()}}
warned = make_household("DF-0001", "341523104201", household_type="exited", exited_class="enjoying",
                        members=[("赵铁柱", date(1975, 1, 1), "户主")])
make_warning(warned, source="medical", risk_type="illness")
stable = eliminable(users)
Path({out!r}).write_text(json.dumps({{"warned": [warned.pk, warned.number], "stable": [stable.pk, stable.number]}}))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("chains-browser")
    out = data_dir / "households.json"
    script = SETUP.format(tests=str(TESTS), password=PASSWORD, users=USERS, out=str(out))
    url, stop = start_server(data_dir, script)
    yield url, json.loads(out.read_text())
    stop()


@pytest.fixture(scope="module")
def pages(server):
    """One logged-in page per acting role (logging in once each: the password hash is slow on purpose)."""
    from playwright.sync_api import sync_playwright

    url, _ = server
    with sync_playwright() as p:
        browser = launch_browser(p)
        opened = {}
        for role, (username, _region) in USERS.items():
            page = browser.new_context(locale="zh-CN").new_page()
            login(page, url, username, PASSWORD)
            opened[role] = page
        yield opened
        browser.close()


def open_from_inbox(page, url: str, number: str, step: str) -> None:
    """我的待办 lists the case at ``step``; its household number opens the case."""
    page.goto(f"{url}/cases/")
    row = page.get_by_test_id("inbox-row").filter(has_text=number)
    assert row.count() == 1, f"{number} 不在待办中"
    assert step in row.inner_text()
    row.get_by_role("link", name=number).click()
    page.wait_for_load_state("domcontentloaded")
    assert f"办理：{step}" in page.get_by_test_id("act-form").inner_text()


def approve(page, fields: dict | None = None) -> None:
    for key, value in (fields or {}).items():
        if key == "agreed":
            page.select_option(f"#f-{key}", value)
        else:
            page.fill(f"#f-{key}", value)
    page.fill("#f-comment", "同意")
    page.get_by_test_id("approve").click()
    page.wait_for_load_state("domcontentloaded")
    errors = page.get_by_test_id("case-error")
    assert errors.count() == 0, errors.inner_text()


def official(page, url: str, pk: int) -> dict:
    page.goto(f"{url}/households/{pk}/")
    out = {}
    for label in ("监测对象类型", "监测状态"):
        dd = page.locator(f"dt:text-is('{label}') + dd")
        out[label] = dd.inner_text().strip() if dd.count() else ""
    return out


def step_data(today) -> dict:
    visit = {"visited_on": today.isoformat(), "finding": "入户核实：户主住院，自付费用高"}
    meeting = {"meeting_on": today.isoformat(), "attendees": "13", "agreed": "true"}
    notice = {
        "notice_from": (today - timedelta(days=5)).isoformat(),
        "notice_to": today.isoformat(),
        "objections": "无",
    }
    return {"visit": visit, "meeting": meeting, "notice": notice}


def test_预警户经各环节纳入监测_监测户经各环节风险消除(server, pages, tmp_path):
    from datetime import date

    url, households = server
    today = date.today()
    data = step_data(today)
    clerk, station, county, province = (pages[r] for r in USERS)

    # --- 纳入监测, from the department warning --------------------------------------------------------------
    pk, number = households["warned"]
    clerk.goto(f"{url}/households/{pk}/")
    clerk.get_by_test_id("start-case").click()
    clerk.wait_for_load_state("domcontentloaded")
    clerk.select_option("#id_process", "identify")
    clerk.fill("#id_reason", "医保部门预警：住院个人自付 8000 元")
    clerk.select_option("#id_monitoring_type", "unstable")
    clerk.check("input[name=risk_types][value=illness]")
    clerk.select_option("#id_source", "warning")
    clerk.get_by_test_id("save").click()
    clerk.wait_for_load_state("domcontentloaded")

    open_from_inbox(clerk, url, number, "入户核查")
    approve(clerk, data["visit"])
    open_from_inbox(clerk, url, number, "承诺授权")
    consent = tmp_path / "承诺授权书.pdf"
    consent.write_bytes(CONSENT_PDF)
    clerk.select_option("#id_kind", "consent")
    clerk.set_input_files("#id_file", str(consent))
    clerk.get_by_test_id("upload").click()
    clerk.wait_for_load_state("domcontentloaded")
    assert "承诺授权书" in clerk.get_by_test_id("attachments").inner_text()
    approve(clerk)
    open_from_inbox(station, url, number, "信息比对")
    assert station.get_by_test_id("department-records").count() == 1
    approve(station)
    open_from_inbox(clerk, url, number, "民主评议")
    approve(clerk, data["meeting"])
    open_from_inbox(clerk, url, number, "村内公示")
    approve(clerk, data["notice"])
    open_from_inbox(station, url, number, "乡镇审核")
    approve(station)
    open_from_inbox(county, url, number, "县级审定")
    approve(county)
    assert "已办结" in county.content()
    assert official(county, url, pk) == {"监测对象类型": "脱贫不稳定户", "监测状态": "监测中"}

    # --- 风险消除, every condition met ---------------------------------------------------------------------
    pk, number = households["stable"]
    clerk.goto(f"{url}/households/{pk}/")
    clerk.get_by_test_id("start-case").click()
    clerk.wait_for_load_state("domcontentloaded")
    clerk.select_option("#id_process", "eliminate")
    clerk.fill("#id_reason", "收入稳定高于监测标准，风险点均已消除")
    clerk.get_by_test_id("save").click()
    clerk.wait_for_load_state("domcontentloaded")

    open_from_inbox(clerk, url, number, "村级填报")
    conditions = clerk.get_by_test_id("condition")
    assert conditions.count() == 6 and "✗" not in clerk.get_by_test_id("conditions").inner_text()
    approve(clerk, {**data["visit"], **data["meeting"], **data["notice"]})
    open_from_inbox(station, url, number, "镇审查")
    approve(station)
    open_from_inbox(county, url, number, "市县审核")
    approve(county)
    open_from_inbox(province, url, number, "省级备案")
    approve(province)
    assert "已办结" in province.content()
    screenshot(province, "chain-eliminated")
    assert official(province, url, pk)["监测状态"] == "风险已消除"
    # Nothing left in anyone's inbox.
    for page in pages.values():
        page.goto(f"{url}/cases/")
        assert page.get_by_test_id("inbox-row").count() == 0
