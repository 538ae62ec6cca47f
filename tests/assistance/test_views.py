"""帮扶措施 pages: the household page's section, the 措施落实 list and its ledger, a department's 待落实措施, closing a
risk point from the page, evidence downloads, and 404 for a neighbouring town on every measure and risk URL."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from assistance_factory import PNG, Upload, household, measure, risk
from conftest import NEIGHBOUR_VILLAGE
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from fangfan.assistance import services
from fangfan.assistance.exporting import HEADERS
from fangfan.monitoring.models import RiskPoint

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


def test_household_page_shows_risk_points_with_their_measures_and_actions(client, users):
    station = users["town_station"]
    r = risk(household(), station)
    measure(r.household, station, risk_point=r, code="medical_aid", state="done")
    client.force_login(station)
    page = client.get(reverse("registry:household_detail", args=[r.household.pk])).content.decode()
    assert 'data-testid="assistance"' in page
    assert "医疗救助" in page and "已落实" in page and "无佐证" in page
    assert reverse("assistance:risk_close", args=[r.pk]) in page
    assert reverse("assistance:measure_add", args=[r.household.pk]) in page


def test_close_from_the_page_refused_without_a_done_measure_then_village_request_town_confirm(client, users):
    clerk, station = users["village_clerk"], users["town_station"]
    r = risk(household(), clerk)
    url = reverse("assistance:risk_close", args=[r.pk])
    today = timezone.localdate().isoformat()
    client.force_login(clerk)
    response = client.post(url, {"closed_on": today, "note": "已消除"})
    assert response.status_code == 422
    assert "至少有一项帮扶措施“已落实”后方可消除风险点" in response.content.decode()
    measure(r.household, clerk, risk_point=r, state="done")
    assert client.post(url, {"closed_on": today, "note": "收入稳定"}).status_code == 302
    r.refresh_from_db()
    assert r.state == "closing"
    client.force_login(station)
    page = client.get(reverse("registry:household_detail", args=[r.household.pk])).content.decode()
    assert 'data-testid="confirm-close"' in page
    client.post(reverse("assistance:risk_decide", args=[r.pk]), {"decision": "approve", "note": ""})
    r.refresh_from_db()
    assert r.state == RiskPoint.State.ELIMINATED


def test_measure_added_from_the_form_m8_refusal_shown(client, users):
    hh = household(household_type="exited", exit_year=2018, exited_class="not_enjoying")
    client.force_login(users["village_clerk"])
    url = reverse("assistance:measure_add", args=[hh.pk])
    from fangfan.assistance.models import MeasureType

    subsidy = MeasureType.objects.get(code="industry_award")
    response = client.post(url, {"measure": subsidy.pk, "planned_on": timezone.localdate().isoformat()})
    assert response.status_code == 422
    assert "不享受政策的脱贫户原则上不再享受补贴补助类政策" in response.content.decode()
    develop = MeasureType.objects.get(code="skills_training")
    response = client.post(url, {"measure": develop.pk, "planned_on": timezone.localdate().isoformat()})
    assert response.status_code == 302
    assert hh.measures.get().department == "employment"


def test_department_todo_page_lists_only_its_departments_measures(client, users):
    station = users["town_station"]
    hh = household()
    mine = measure(hh, station, code="medical_aid")
    theirs = measure(hh, station, code="dibao")
    measure(household(), station, code="insurance_subsidy", state="done")  # 医保, but done: not 待落实
    client.force_login(users["department"])
    page = client.get(reverse("assistance:measure_todo")).content.decode()
    assert reverse("assistance:measure_detail", args=[mine.pk]) in page
    assert reverse("assistance:measure_detail", args=[theirs.pk]) not in page
    assert page.count('data-testid="measure-row"') == 1
    assert client.get(reverse("assistance:measure_detail", args=[theirs.pk])).status_code == 404
    detail = client.get(reverse("assistance:measure_detail", args=[mine.pk])).content.decode()
    # What it needs to act, nothing else of the household: no link to its page, no ID number.
    assert hh.number in detail and reverse("registry:household_detail", args=[hh.pk]) not in detail
    assert hh.members.first().id_masked not in detail
    response = client.post(reverse("assistance:measure_progress", args=[mine.pk]), {"state": "in_progress"})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.state == "in_progress"
    assert client.get(reverse("registry:household_detail", args=[hh.pk])).status_code == 403


def test_neighbouring_town_gets_404_for_every_measure_and_risk_url(client, users):
    station = users["town_station"]
    r = risk(household(), station)
    m = measure(r.household, station, risk_point=r, department="medical")
    ev = services.measure_evidence_add(measure=m, actor=station, upload=Upload(PNG))
    urls = [
        ("get", reverse("assistance:measure_detail", args=[m.pk])),
        ("post", reverse("assistance:measure_progress", args=[m.pk])),
        ("post", reverse("assistance:measure_evidence", args=[m.pk])),
        ("get", reverse("assistance:evidence_file", args=[ev.pk])),
        ("get", reverse("assistance:measure_add", args=[r.household.pk])),
        ("get", reverse("assistance:risk_add", args=[r.household.pk])),
        ("get", reverse("assistance:risk_close", args=[r.pk])),
        ("post", reverse("assistance:risk_decide", args=[r.pk])),
    ]
    for who in ("neighbour_station", "neighbour_clerk"):
        client.force_login(users[who])
        for method, url in urls:
            status = getattr(client, method)(url, {"state": "done", "decision": "approve"}).status_code
            assert status in (403, 404), (who, url, status)
            if users[who].can(_perm(url)):
                assert status == 404, (who, url, status)
    m.refresh_from_db()
    r.refresh_from_db()
    assert (m.state, r.state) == ("planned", "open")


def _perm(url: str) -> str:
    from django.urls import resolve

    from fangfan.core.permissions import declared_permission

    return declared_permission(resolve(url).func)


def test_evidence_served_only_to_those_who_see_the_measure_without_names_in_the_address(client, users):
    station = users["town_station"]
    hh = household()
    m = measure(hh, station, code="dibao")  # 民政
    ev = services.measure_evidence_add(measure=m, actor=station, upload=Upload(PNG, "户主张三.png"))
    url = reverse("assistance:evidence_file", args=[ev.pk])
    assert "张三" not in url and hh.number not in url
    client.force_login(station)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png" and "no-store" in response["Cache-Control"]
    assert "张三" not in response.get("Content-Disposition", "")
    client.force_login(users["department"])  # 医保: not its measure
    assert client.get(url).status_code == 404


def test_measure_list_query_count_does_not_grow_with_rows(client, users):
    station = users["town_station"]
    for _ in range(3):
        measure(household(), station, state="done")
    client.force_login(station)
    url = reverse("assistance:measure_list")
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(12):
        r = risk(household(), station)
        measure(r.household, station, risk_point=r)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url).content.decode()
    assert page.count('data-testid="measure-row"') == 15
    assert len(many) == len(few) <= 15  # the page: its ids, then those rows


def test_measure_list_filters_overdue_and_doubt(client, users):
    station = users["town_station"]
    late = measure(household(), station, planned_on=timezone.localdate() - timedelta(days=3))
    measure(household(), station, planned_on=timezone.localdate() + timedelta(days=3))
    measure(household(), station, planned_on=timezone.localdate() - timedelta(days=3), state="done")
    client.force_login(station)
    page = client.get(reverse("assistance:measure_list"), {"overdue": "on"}).content.decode()
    assert page.count('data-testid="measure-row"') == 1
    assert reverse("assistance:measure_detail", args=[late.pk]) in page
    page = client.get(reverse("assistance:measure_list"), {"doubt": "done_without_evidence"}).content.decode()
    assert page.count('data-testid="measure-row"') == 1
    assert "措施已落实但无佐证材料" in page


def test_measures_ledger_export_has_the_fixed_columns_monitored_first(client, users):
    station = users["town_station"]
    measure(household(), station, code="social_help", amount="300.5")
    watched = household(monitoring_type="marginal", monitoring_state="monitoring")
    measure(watched, station, code="dibao")
    measure(household(NEIGHBOUR_VILLAGE), users["neighbour_station"])
    client.force_login(station)
    response = client.get(reverse("assistance:measure_export"))
    assert response.status_code == 200
    rows = CalamineWorkbook.from_filelike(
        io.BytesIO(b"".join(response.streaming_content))
    ).get_sheet_by_index(0)
    rows = rows.to_python()
    assert "帮扶措施落实台账" in rows[0][0]
    assert rows[1] == HEADERS
    assert len(rows) == 4  # title, header, two measures of the town
    assert rows[2][2] == watched.number and rows[2][5] == "低保" and rows[2][7] == "兜底保障"
    assert rows[3][12] == 300.5 and rows[3][4] == "整户"
    from fangfan.core.models import AuditEvent

    assert AuditEvent.objects.filter(action="measure.ledger_exported").exists()


def test_catalogue_page_county_retires_a_measure(client, users):
    from fangfan.assistance.models import MeasureType

    mt = MeasureType.objects.get(code="consumption")
    client.force_login(users["county_review"])
    assert client.get(reverse("assistance:catalogue")).status_code == 200
    assert client.post(reverse("assistance:catalogue_toggle", args=[mt.pk])).status_code == 302
    mt.refresh_from_db()
    assert not mt.active
    client.force_login(users["village_clerk"])
    page = client.get(reverse("assistance:measure_add", args=[household().pk])).content.decode()
    assert f'<option value="{mt.pk}"' not in page
    assert client.post(reverse("assistance:catalogue_toggle", args=[mt.pk])).status_code == 403


def test_town_start_page_counts_doubts_opening_the_list(client, users):
    station = users["town_station"]
    measure(household(), station, state="done")
    client.force_login(station)
    page = client.get(reverse("home")).content.decode()
    assert 'data-testid="card-doubt-done_without_evidence"' in page
    assert reverse("assistance:measure_list") + "?doubt=done_without_evidence" in page
