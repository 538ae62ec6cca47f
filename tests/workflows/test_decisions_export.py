"""The decisions export for the national system (issue 19, point 6; docs/data-formats.md §6): a period's cases ended
已办结, one row each, compared with the cases built here independently; the decision's own new values; ID numbers
whole only for a role that may see them and asks; the county sees its county, the station its town."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from conftest import NEIGHBOUR_VILLAGE, VILLAGE
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook
from workflows_factory import eliminable, household, start, walk

from fangfan.core.models import AuditEvent
from fangfan.registry.models import Household, Member
from fangfan.workflows import services
from fangfan.workflows.decisions import HEADERS, Period, decisions_export
from fangfan.workflows.models import Case

pytestmark = pytest.mark.django_db


def _rows(target) -> list[dict]:
    data = target.getvalue() if isinstance(target, io.BytesIO) else target
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert sheet[0] == HEADERS
    return [dict(zip(HEADERS, row, strict=True)) for row in sheet[1:]]


def _export(actor, period, **kwargs) -> list[dict]:
    out = io.BytesIO()
    count = decisions_export(actor=actor, path=out, period=period, **kwargs)
    rows = _rows(out)
    assert count == len(rows)
    return rows


@pytest.fixture
def decided(users):
    """Cases of every ending in 东风村 (and one decided in the neighbouring town), some outside the period."""
    today = timezone.localdate()
    identified = walk(
        start(household(household_type="exited", exit_year=2019, exited_class="enjoying"), users), users
    )
    reclassified = walk(
        start(
            household(household_type="exited", exit_year=2018, exited_class="enjoying"), users, "reclassify"
        ),
        users,
    )
    eliminated = walk(start(eliminable(users), users, "eliminate"), users)
    rejected = start(household(), users)
    services.case_act(case=rejected, actor=users["village_clerk"], action="reject", comment="不符合条件")
    still_open = start(household(), users)
    old = walk(start(household(household_type="exited", exit_year=2019), users), users)
    Case.objects.unscoped().filter(pk=old.pk).update(ended_at=timezone.now() - timedelta(days=40))
    neighbours = {
        **users,
        "village_clerk": users["neighbour_clerk"],
        "town_station": users["neighbour_station"],
    }
    elsewhere = walk(start(household(NEIGHBOUR_VILLAGE), neighbours), neighbours)
    # A later change of the identified household does not rewrite the decision's row.
    Household.objects.unscoped().filter(pk=identified.household_id).update(monitoring_state="eliminated")
    return {
        "identified": identified,
        "reclassified": reclassified,
        "eliminated": eliminated,
        "rejected": rejected,
        "open": still_open,
        "old": old,
        "elsewhere": elsewhere,
        "period": Period(today - timedelta(days=7), today),
    }


def _expected(period: Period, lo: str, hi: str) -> set[tuple]:
    """(审批编号, 户编号, 决定类型, 决定日期) of the cases ended 已办结 in the period, inside [lo, hi), from the cases."""
    labels = {"identify": "纳入监测", "eliminate": "风险消除", "reclassify": "分类调整", "revert": "回退"}
    out = set()
    for case in Case.objects.unscoped().select_related("household"):
        if case.state != "done" or not (lo <= case.region_code < hi):
            continue
        day = timezone.localtime(case.ended_at).date()
        if period.start <= day <= period.end:
            out.add((str(case.pk), case.household.number, labels[case.kind], f"{day:%Y-%m-%d}"))
    return out


def _keys(rows) -> set[tuple]:
    return {(r["审批编号"], r["户编号"], r["决定类型"], r["决定日期"]) for r in rows}


def test_rows_are_the_cases_ended_in_the_period(users, decided):
    period = decided["period"]
    station_rows = _export(users["town_station"], period)
    assert _keys(station_rows) == _expected(period, "341523104000", "341523105000")
    assert len(station_rows) == 3 and [r["序号"] for r in station_rows] == ["1", "2", "3"]
    county_rows = _export(users["county_review"], period)
    assert _keys(county_rows) == _expected(period, "341523000000", "341524000000")
    assert str(decided["elsewhere"].pk) in {r["审批编号"] for r in county_rows}
    by_case = {r["审批编号"]: r for r in county_rows}
    for gone in ("rejected", "open", "old"):
        assert str(decided[gone].pk) not in by_case


def test_the_decision_s_new_values(users, decided):
    rows = {r["审批编号"]: r for r in _export(users["county_review"], decided["period"])}
    month = f"{timezone.localdate():%Y%m}"
    identified = rows[str(decided["identified"].pk)]
    assert (
        identified["监测对象类型"] == "脱贫不稳定户" and identified["监测状态"] == "监测中"
    )  # not today's 风险已消除
    assert identified["识别监测时间"] == month and identified["风险类型"] == "因病"
    assert identified["审定层级"] == "县" and identified["审定环节"] == "县级审定"
    assert (
        identified["行政区划代码"] == VILLAGE
        and identified["乡镇"] == "桃溪镇"
        and identified["村"] == "东风村"
    )
    reclassified = rows[str(decided["reclassified"].pk)]
    assert reclassified["脱贫户分类"] == "脱贫监测户" and reclassified["决定类型"] == "分类调整"
    eliminated = rows[str(decided["eliminated"].pk)]
    assert eliminated["监测状态"] == "风险已消除" and eliminated["风险消除时间"] == month
    assert eliminated["消除方式"] in ("帮扶消除", "自然消除") and eliminated["审定层级"] == "省"


def test_id_numbers_whole_only_for_view_id_and_asked(users, decided):
    period = decided["period"]
    head = Member.objects.unscoped().get(household_id=decided["identified"].household_id, is_head=True)
    case = str(decided["identified"].pk)

    def head_id(rows):
        return next(r["户主证件号码"] for r in rows if r["审批编号"] == case)

    county = _export(users["county_review"], period)  # no household.view_id
    assert head_id(county) == head.id_masked and head.id_number not in str(county)
    assert head_id(_export(users["town_station"], period)) == head.id_masked
    assert head_id(_export(users["town_station"], period, reveal_ids=True)) == head.id_number
    with pytest.raises(PermissionDenied):
        decisions_export(actor=users["county_review"], path=io.BytesIO(), period=period, reveal_ids=True)
    event = AuditEvent.objects.filter(action="decision.exported").latest("id")
    assert event.after["reveal_ids"] is True and event.after["rows"] == 3


@pytest.mark.parametrize("role", ["village_clerk", "helper", "town_leader", "province_record"])
def test_other_roles_may_not_export(users, role):
    today = timezone.localdate()
    with pytest.raises(PermissionDenied):
        decisions_export(actor=users[role], path=io.BytesIO(), period=Period(today, today))


def test_web_download_and_form(client, users, decided):
    client.force_login(users["town_station"])
    page = client.get(reverse("workflows:decisions_export"))
    assert page.status_code == 200 and "完整的户主证件号码" in page.content.decode()
    period = decided["period"]
    response = client.get(
        reverse("workflows:decisions_export"),
        {"download": "1", "from": f"{period.start}", "to": f"{period.end}"},
    )
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    assert _keys(_rows(response.content)) == _expected(period, "341523104000", "341523105000")
    bad = client.get(reverse("workflows:decisions_export"), {"download": "1", "from": "2026-13-01"})
    assert bad.status_code == 400 and "起始日期" in bad.content.decode()
    client.force_login(users["county_review"])
    assert "完整的户主证件号码" not in client.get(reverse("workflows:decisions_export")).content.decode()
    link = client.get(reverse("workflows:case_list")).content.decode()
    assert reverse("workflows:decisions_export") in link
    response = client.get(reverse("workflows:decisions_export"), {"download": "1", "reveal": "1"})
    assert response.status_code == 403


def test_command(tmp_path, users, decided):
    period = decided["period"]
    out = tmp_path / "decisions.xlsx"
    text = io.StringIO()
    call_command(
        "export",
        "decisions",
        "-o",
        str(out),
        "--from",
        f"{period.start}",
        "--to",
        f"{period.end}",
        stdout=text,
    )
    assert "审批决定" in text.getvalue()
    assert _keys(_rows(out.read_bytes())) == _expected(period, "0", "9")
