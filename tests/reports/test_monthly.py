"""The monthly report's figures equal counts over the registry, the monthly history, risk points, measures, contacts
and tasks for the same month, counted here independently; the 公开版 has no cell under 5; PDF and .xlsx hold the
same figures; the page draws its charts and drills down."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from conftest import COUNTY, TOWN, VILLAGE, operator
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from ledger_factory import build

from fangfan.assistance.models import ContactRecord, Measure
from fangfan.monitoring.models import RiskPoint, VerificationTask
from fangfan.regions.codes import code_range
from fangfan.registry.history import history_snapshot
from fangfan.registry.models import Household, HouseholdMonth
from fangfan.reports.monthly import month_back, monthly_report
from fangfan.reports.monthly_files import tables

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(users):
    made = build(users)
    today = timezone.localdate()
    first = today.replace(day=1)
    previous = month_back(first, 1)
    history_snapshot(actor=operator(), month=previous, today=today)
    # last month differs from now: one marginal household was not monitored yet
    changed = made["households"][0]
    HouseholdMonth.objects.filter(household=changed, month=previous).update(
        monitoring_type="", monitoring_state=""
    )
    history_snapshot(actor=operator(), today=today)
    hh = made["households"][2]
    VerificationTask.objects.create(
        household=hh,
        region_code=hh.region_id,
        due_date=first,
        decide_by=first,
        state="done",
        visited_on=first,
    )
    late = made["households"][3]
    VerificationTask.objects.create(
        household=late, region_code=late.region_id, due_date=first, decide_by=first, state="open"
    )
    return made


def _inside(code, place):
    lo, hi = code_range(place)
    return lo <= code < hi


def _section(report, key):
    section = next(s for s in report.sections if s.key == key)
    return {label: [c.value for c in cells] for label, cells in section.rows}


def test_figures_equal_the_records(world, users):
    today = timezone.localdate()
    first = today.replace(day=1)
    previous = month_back(first, 1)
    report = monthly_report(users["town_station"], region=TOWN, first=first)
    assert not report.live
    living = [h for h in Household.objects.all() if _inside(h.region_id, TOWN) and not h.cancelled]
    history = [m for m in HouseholdMonth.objects.all() if _inside(m.region_code, TOWN)]

    hh = _section(report, "households")
    for label, mtype in (
        ("边缘易致贫户", "marginal"),
        ("突发严重困难户", "sudden"),
        ("脱贫不稳定户", "unstable"),
    ):
        monitoring = [h for h in living if h.monitoring_type == mtype and h.monitoring_state == "monitoring"]
        prev = [
            m
            for m in history
            if m.month == previous and m.monitoring_type == mtype and m.monitoring_state == "monitoring"
        ]
        assert hh[label][0] == len(monitoring)
        assert hh[label][1] == sum(h.size for h in monitoring)
        assert hh[label][3] == len([h for h in living if h.monitoring_type == mtype])
        assert hh[label][4] == len(prev)
    assert hh["边缘易致贫户"][4] == hh["边缘易致贫户"][0] - 1  # the one changed last month

    changes = _section(report, "changes")
    key = f"{first:%Y%m}"
    assert changes["新识别监测对象"][0] == len([h for h in living if h.identified_month == key])
    assert changes["风险消除"][2] == len([h for h in living if h.eliminated_month == f"{previous:%Y%m}"])

    risks = _section(report, "risks")
    open_now = [
        r for r in RiskPoint.objects.all() if _inside(r.region_code, TOWN) and r.state != "eliminated"
    ]
    assert risks["合计"][0] == len(open_now) > 0
    assert risks["因病"][0] == len([r for r in open_now if r.risk_type == "illness"])

    measures = _section(report, "measures")
    mine = [m for m in Measure.objects.all() if _inside(m.region_code, TOWN)]
    assert measures["合计"][0] == len(mine)
    assert measures["合计"][1] == len([m for m in mine if m.done_on])

    contacts = _section(report, "contacts")
    due = [
        h
        for h in living
        if h.household_type == "exited" or (h.monitoring_type and h.monitoring_state != "eliminated")
    ]
    contacted = {c.household_id for c in ContactRecord.objects.filter(contacted_on__gte=first)}
    assert contacts["本月"][0] == len(due)
    assert contacts["本月"][1] == len([h for h in due if h.pk in contacted]) > 0

    tasks = _section(report, "tasks")
    assert tasks["本月"][:2] == [2, 1] and tasks["本月"][2] == pytest.approx(50.0)

    # drill-down rows add up to the total
    assert {c.name for c in report.children} >= {"东风村", "新河村"}
    assert sum(c.monitored for c in report.children) == hh["合计"][0]
    assert sum(c.open_risks for c in report.children) == risks["合计"][0]
    assert report.trend["series"]["边缘易致贫户"][-1] == hh["边缘易致贫户"][0]
    funds = _section(report, "funds")  # no fund in this town: nothing moved, nothing left
    assert [float(v) for v in funds["本月"]] == [0, 0, 0]


def test_this_month_without_a_snapshot_counts_the_registry(users):
    build(users)
    first = timezone.localdate().replace(day=1)
    report = monthly_report(users["county_review"], region=COUNTY, first=first)
    assert report.live
    living = [h for h in Household.objects.all() if not h.cancelled and h.monitoring_type]
    assert _section(report, "households")["合计"][3] == len(living)


def _numbers_in(rows):
    return [int(cell) for row in rows for cell in row[1:] if re.fullmatch(r"\d+", cell)]


@pytest.mark.parametrize("place", [TOWN, COUNTY])
def test_public_version_has_no_cell_under_five(world, users, place):
    first = timezone.localdate().replace(day=1)
    report = monthly_report(users["county_review"], region=place, first=first, public=True)
    # 帮扶资金收支 is money (元), not a count of households: nothing of it identifies a family.
    shown = [t for t in tables(report) if "资金" not in t[0]]
    numbers = [n for _title, _cols, rows in shown for n in _numbers_in(rows)]
    assert numbers == [] or min(numbers) >= 5
    texts = [cell for _t, _c, rows in shown for row in rows for cell in row]
    assert "<5" in texts
    internal = tables(monthly_report(users["county_review"], region=place, first=first))
    assert any(0 < n < 5 for _t, _c, rows in internal for n in _numbers_in(rows))


def test_pdf_and_xlsx_hold_the_figures(world, users, tmp_path):
    from pypdf import PdfReader
    from python_calamine import CalamineWorkbook

    pdf = tmp_path / "m.pdf"
    call_command("report", "monthly", "-o", str(pdf), "--region", TOWN, "--public")
    text = "".join(page.extract_text() for page in PdfReader(str(pdf)).pages)
    assert "桃溪镇防返贫动态监测月报" in text and "公开版" in text and "<5" in text
    assert "东风村" in text
    xlsx = tmp_path / "m.xlsx"
    call_command("report", "monthly", "-o", str(xlsx), "--region", TOWN)
    rows = CalamineWorkbook.from_path(str(xlsx)).get_sheet_by_index(0).to_python()
    assert rows[0][0].startswith("桃溪镇防返贫动态监测月报")
    first = timezone.localdate().replace(day=1)
    report = monthly_report(users["town_station"], region=TOWN, first=first)
    total = _section(report, "households")["合计"][0]
    flat = [r for r in rows if r and r[0] == "合计"]
    assert flat[0][1] == total


def test_monthly_page_drills_down_and_refuses_outside(world, client, users):
    client.force_login(users["county_review"])
    response = client.get(reverse("reports:monthly"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-chart="monthly-trend"' in body and "桃溪镇" in body
    town = client.get(reverse("reports:monthly") + f"?region={TOWN}")
    assert town.status_code == 200 and "东风村" in town.content.decode()
    assert client.get(reverse("reports:monthly_export") + f"?region={TOWN}&format=pdf").status_code == 200
    client.force_login(users["village_clerk"])
    assert client.get(reverse("reports:monthly") + f"?region={TOWN}").status_code == 404
    assert client.get(reverse("reports:monthly")).status_code == 200  # the village's own


def test_ledger_pages(
    world, client, users, monkeypatch, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(users["town_station"])
    assert client.get(reverse("reports:ledger_index")).status_code == 200
    page = client.get(reverse("reports:ledger", args=["monitored"]))
    assert page.status_code == 200 and page.content.decode().count('data-testid="ledger-row"') > 0
    assert client.get(reverse("reports:ledger", args=["funds"])).status_code == 200
    assert client.get(reverse("reports:ledger", args=["monitored"]) + f"?place={COUNTY}").status_code == 404
    inline = client.post(reverse("reports:ledger_export", args=["monitored"]), {"place": VILLAGE})
    assert inline.status_code == 200
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(inline.streaming_content))).get_sheet_by_index(
        0
    )
    rows = rows.to_python()
    assert "东风村" in rows[0][0] and all("*" in r[5] for r in rows[2:])
    monkeypatch.setattr("fangfan.reports.ledger_views.INLINE_LIMIT", 1)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(reverse("reports:ledger_export", args=["monitored"]), {"reveal_ids": "1"})
    assert started.status_code == 302
    job_page = client.get(started["Location"])
    assert job_page.status_code == 200 and "下载 Excel" in job_page.content.decode()
    pk = int(started["Location"].rstrip("/").split("/")[-1])
    assert client.get(reverse("reports:ledger_job_download", args=[pk])).status_code == 200
    client.force_login(users["town_leader"])  # may export, may not see whole ID numbers: not this job
    assert client.get(reverse("reports:ledger_job", args=[pk])).status_code == 404


def test_previous_month_tasks(world, users):
    first = timezone.localdate().replace(day=1)
    last = first - timedelta(days=1)
    report = monthly_report(users["town_station"], region=TOWN, first=month_back(first, 1))
    assert _section(report, "tasks")["上月"][0] == 0
    assert report.first.month == last.month


def test_the_printed_report_renders_as_pages_a_person_can_read(world, users, tmp_path):
    """The PDF as printed: every page rendered to PNG (test-artifacts/monthly-report-N.png, to be looked at), A4
    with ink on it — a title at the top, the tables below it, nothing running off the right edge."""
    import pypdfium2
    from browser_support import ARTIFACTS

    pdf = tmp_path / "m.pdf"
    call_command("report", "monthly", "-o", str(pdf), "--region", TOWN)
    document = pypdfium2.PdfDocument(str(pdf))
    assert len(document) >= 1
    ARTIFACTS.mkdir(exist_ok=True)
    for n, page in enumerate(document, start=1):
        width, height = page.get_size()  # points
        assert sorted((round(width), round(height))) == [595, 842]  # A4
        image = page.render(scale=1.5).to_pil().convert("L")
        image.save(ARTIFACTS / f"monthly-report-{n}.png")
        w, h = image.size
        inked = [x for x in image.getdata() if x < 128]
        assert len(inked) > w * h * 0.001, f"page {n} is blank"
        if n == 1:
            top = image.crop((0, 0, w, h // 8))
            assert min(top.getdata()) < 128, "no title at the top of the first page"
        margin = image.crop(
            (w - w // 40, 0, w, h)
        )  # the outer 2.5 % on the right: the page margin stays white
        assert min(margin.getdata()) > 200, f"page {n}: something runs off the right edge"
    # every section heading is on the page of its table: none is the last thing on a page
    from pypdf import PdfReader

    for page in PdfReader(str(pdf)).pages:
        lines = [
            line for line in page.extract_text().splitlines() if line.strip() and not line.startswith("第")
        ]
        assert not lines[-1].startswith(("一、", "二、", "三、", "四、", "五、", "六、", "七、", "附：")), (
            lines[-1]
        )
