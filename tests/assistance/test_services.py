"""帮扶措施 services: M8's differentiated policy, measures' progress, closing risk points, the catalogue, evidence."""

from __future__ import annotations

import stat
from datetime import timedelta

import pytest
from assistance_factory import PDF, PNG, Upload, household, measure, risk
from conftest import NEIGHBOUR_VILLAGE, OTHER_VILLAGE, VILLAGE
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from fangfan.assistance import selectors, services
from fangfan.assistance.models import Measure, MeasureType, RiskClosure
from fangfan.core.errors import Conflict, ValidationFailed
from fangfan.core.models import AuditEvent
from fangfan.monitoring import selectors as monitoring_selectors
from fangfan.monitoring.models import RiskPoint

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


def _not_enjoying(**fields):
    return household(household_type="exited", exit_year=2018, exited_class="not_enjoying", **fields)


# --- M8: 实行差异化政策 ------------------------------------------------------------------------------------------


def test_m8_not_enjoying_household_gets_no_subsidy_measure_without_an_approved_exception(users):
    """不享受政策的脱贫户原则上不再享受补贴补助类政策: refused for every writer, the refusal names the rule."""
    hh = _not_enjoying()
    for who in ("village_clerk", "town_station"):
        with pytest.raises(ValidationFailed) as refused:
            measure(hh, users[who], code="industry_award")
        assert "不享受政策的脱贫户原则上不再享受补贴补助类政策" in refused.value.message
    assert not Measure.objects.filter(household=hh).exists()


def test_m8_not_enjoying_household_still_gets_development_and_safety_net_measures(users):
    hh = _not_enjoying()
    measure(hh, users["village_clerk"], code="skills_training")  # 开发式
    measure(hh, users["village_clerk"], code="dibao")  # 兜底保障
    assert Measure.objects.filter(household=hh).count() == 2


def test_m8_exception_for_disaster_or_family_change_is_approved_by_the_town_station_only(users):
    """重大灾害或家庭变故导致两不愁三保障或饮水安全问题、自身无力解决的: requested by the village, approved by the town."""
    hh = _not_enjoying()
    exc = services.exception_request(
        household=hh,
        actor=users["village_clerk"],
        cause="家庭变故",
        problem="饮水安全",
        reason="水源污染，无力打井",
    )
    with pytest.raises(ValidationFailed, match="待镇审批"):
        measure(hh, users["village_clerk"], code="water_safety")
    with pytest.raises(PermissionDenied):
        services.exception_decide(exception=exc, actor=users["village_clerk"], approve=True)
    services.exception_decide(exception=exc, actor=users["town_station"], approve=True, note="同意")
    m = measure(hh, users["village_clerk"], code="water_safety")
    assert m.exception_id == exc.pk
    assert AuditEvent.objects.filter(action="exception.approved", object_id=str(exc.pk)).exists()
    with pytest.raises(Conflict):
        services.exception_decide(exception=exc, actor=users["town_station"], approve=False, note="重复")


def test_m8_a_rejected_exception_still_refuses_and_a_rejection_needs_a_reason(users):
    hh = _not_enjoying()
    exc = services.exception_request(
        household=hh, actor=users["town_station"], cause="disaster", problem="housing", reason="房屋受损"
    )
    with pytest.raises(ValidationFailed, match="理由"):
        services.exception_decide(exception=exc, actor=users["town_station"], approve=False)
    services.exception_decide(
        exception=exc, actor=users["town_station"], approve=False, note="损失较小，可自行解决"
    )
    with pytest.raises(ValidationFailed, match="不享受政策"):
        measure(hh, users["town_station"], code="housing_renovation")


def test_m8_exception_only_for_not_enjoying_households(users):
    with pytest.raises(ValidationFailed, match="应享尽享"):
        services.exception_request(
            household=household(),
            actor=users["village_clerk"],
            cause="disaster",
            problem="housing",
            reason="x",
        )


def test_m8_monitored_households_come_first_in_every_list_of_measures(users):
    """监测对象 and 脱贫监测户 are the priority of every policy and measure: first in the list, whatever the dates."""
    clerk = users["village_clerk"]
    today = timezone.localdate()
    plain = household()
    watched = household(monitoring_type="marginal", monitoring_state="monitoring")
    exited_watched = household(household_type="exited", exit_year=2019, exited_class="monitored")
    measure(plain, clerk, code="social_help", planned_on=today - timedelta(days=30))
    measure(watched, clerk, code="social_help", planned_on=today)
    measure(exited_watched, clerk, code="social_help", planned_on=today - timedelta(days=1))
    rows = list(selectors.measure_list(users["town_station"], selectors.MeasureFilters()))
    assert [m.household_id for m in rows] == [exited_watched.pk, watched.pk, plain.pk]


# --- 疑点 (national doubts), set-based ----------------------------------------------------------------------------


def test_doubt_labour_capacity_with_only_safety_net_measures(users, django_assert_num_queries):
    """有劳动能力但仅有兜底保障类措施 (one query over the jurisdiction; the three doubts in one statement)."""
    clerk = users["village_clerk"]
    only_dibao = household()
    measure(only_dibao, clerk, code="dibao")
    mixed = household()
    measure(mixed, clerk, code="dibao")
    measure(mixed, clerk, code="public_job")
    no_labour = household()
    type(no_labour).objects.filter(pk=no_labour.pk).update(has_labour=False)  # 整户无劳动能力
    measure(no_labour, clerk, code="tekun")
    with django_assert_num_queries(1):
        counts = selectors.doubt_counts(users["town_station"])
    assert counts["safety_net_only"] == 1
    listed = selectors.measure_list(users["town_station"], selectors.MeasureFilters(doubt="safety_net_only"))
    assert {m.household_id for m in listed} == {only_dibao.pk}


def test_doubt_risk_point_without_measure_a_month_after_it_was_found(users):
    """风险点发现一个月后仍无帮扶措施."""
    station = users["town_station"]
    today = timezone.localdate()
    old = risk(household(), station, found_on=today - timedelta(days=40))
    risk(household(), station, found_on=today - timedelta(days=10))  # not a month yet
    covered = risk(household(), station, found_on=today - timedelta(days=40))
    measure(covered.household, station, risk_point=covered)
    assert selectors.doubt_counts(station)["risk_without_measure"] == 1
    assert list(selectors.risks_without_measure(station)) == [old]


def test_doubt_measure_carried_out_without_evidence(users):
    """措施已落实但无佐证材料."""
    station = users["town_station"]
    bare = measure(household(), station, state="done")
    proven = measure(household(), station, state="done")
    services.measure_evidence_add(measure=proven, actor=station, upload=Upload(PNG))
    measure(household(), station, state="in_progress")
    assert selectors.doubt_counts(station)["done_without_evidence"] == 1
    listed = selectors.measure_list(station, selectors.MeasureFilters(doubt="done_without_evidence"))
    assert [m.pk for m in listed] == [bare.pk]


def _safety_net_only_simple(user) -> set[int]:
    """The doubt as DOMAIN.md words it, written plainly: the households of the jurisdiction's 兜底保障 measures (未落实
    aside) with labour capacity, not cancelled, none of whose measures (未落实 aside) is of another kind."""
    found = set()
    for m in selectors.measures_for_user(user).select_related("household", "measure_type"):
        if m.state == "failed" or m.measure_type.kind != "safety_net":
            continue
        if not m.household.has_labour or m.household.cancelled:
            continue
        others = Measure.objects.unscoped().filter(household=m.household).exclude(state="failed")
        if all(o.measure_type.kind == "safety_net" for o in others):
            found.add(m.household_id)
    return found


def test_doubt_safety_net_only_count_and_list_equal_the_plain_rule(users):
    """The set-based count (households probed only from the jurisdiction's 兜底保障 measures) gives what the rule
    says, case by case: a failed other measure does not count, a failed 兜底保障 measure is no measure, a cancelled
    household is not counted, another town's household is not seen."""
    clerk, station = users["village_clerk"], users["town_station"]
    only_dibao = household()
    measure(only_dibao, clerk, code="dibao")
    measure(only_dibao, clerk, code="tekun")
    other_failed = household()
    measure(other_failed, clerk, code="dibao")
    measure(other_failed, clerk, code="public_job", state="failed")
    dibao_failed = household()
    measure(dibao_failed, clerk, code="dibao", state="failed")
    mixed = household()
    measure(mixed, clerk, code="dibao")
    measure(mixed, clerk, code="public_job")
    cancelled = household()
    measure(cancelled, clerk, code="dibao")
    type(cancelled).objects.filter(pk=cancelled.pk).update(cancelled=True)
    elsewhere = household(NEIGHBOUR_VILLAGE)
    measure(elsewhere, users["neighbour_clerk"], code="dibao")
    expected = _safety_net_only_simple(station)
    assert expected == {only_dibao.pk, other_failed.pk}
    assert selectors.doubt_counts(station)["safety_net_only"] == len(expected)
    listed = selectors.measure_list(station, selectors.MeasureFilters(doubt="safety_net_only"))
    assert {m.household_id for m in listed} == expected


def test_measure_list_paged_by_ids_equals_the_plain_list_page_by_page(users, django_assert_num_queries):
    """The 措施落实 page reads its ids first, then those rows: the same measures in the same order (monitored first,
    then the planned date) on every page, and the columns the page shows read without another query."""
    from django.core.paginator import Paginator

    station = users["town_station"]
    today = timezone.localdate()
    homes = [
        household(),
        household(monitoring_type="marginal", monitoring_state="monitoring"),
        household(monitoring_type="marginal", monitoring_state="eliminated"),
        household(household_type="exited", exit_year=2019, exited_class="monitored"),
        household(OTHER_VILLAGE),
    ]
    for n, hh in enumerate(homes * 3):
        point = risk(hh, station) if n % 4 == 0 else None
        measure(
            hh,
            station,
            code=("dibao", "public_job", "medical_aid")[n % 3],
            risk_point=point,
            planned_on=today - timedelta(days=(n * 7) % 5),
        )
    for filters in (selectors.MeasureFilters(), selectors.MeasureFilters(pending=True)):
        plain = list(selectors.measure_list(station, filters))
        assert len(plain) > 4
        paged = Paginator(
            selectors.PagedByIds(selectors.measure_list(station, filters), only=selectors.LIST_ONLY), 4
        )
        assert paged.count == len(plain)
        for number in paged.page_range:
            rows = list(paged.page(number).object_list)
            assert [m.pk for m in rows] == [m.pk for m in plain[(number - 1) * 4 : number * 4]]
            with django_assert_num_queries(0):
                for m in rows:
                    (
                        m.household.number,
                        m.household.head_name,
                        m.household.monitoring_type,
                        m.household.monitoring_state,
                        m.household.exited_class,
                        m.measure_type.name,
                        m.measure_type.get_kind_display(),
                        m.get_department_display(),
                        m.planned_on,
                        m.state,
                        m.risk and m.risk.get_risk_type_display(),
                        m.region_code,
                    )


# --- measures -----------------------------------------------------------------------------------------------------


def test_measure_takes_the_catalogue_department_and_is_audited(users):
    m = measure(household(), users["village_clerk"], code="低保")  # by name, as the API may give it
    assert m.department == "civil"
    assert m.region_code == VILLAGE
    assert AuditEvent.objects.filter(action="measure.created", object_id=str(m.pk)).exists()


def test_measure_for_another_households_risk_or_an_eliminated_risk_is_refused(users):
    station = users["town_station"]
    r = risk(household(), station)
    with pytest.raises(ValidationFailed, match="不属于"):
        measure(household(), station, risk_point=r)
    measure(r.household, station, risk_point=r, state="done")
    services.risk_close(risk=r, actor=station, closed_on=timezone.localdate(), note="已消除")
    with pytest.raises(Conflict, match="已消除"):
        measure(r.household, station, risk_point=r)


def test_measure_outside_the_jurisdiction_is_refused(users):
    with pytest.raises(PermissionDenied):
        measure(household(NEIGHBOUR_VILLAGE), users["village_clerk"])
    with pytest.raises(PermissionDenied):
        measure(household(OTHER_VILLAGE), users["village_clerk"])


def test_measure_progress_failed_needs_a_reason_and_done_is_final(users):
    clerk = users["village_clerk"]
    m = measure(household(), clerk)
    with pytest.raises(ValidationFailed, match="原因"):
        services.measure_progress(measure=m, actor=clerk, state="未落实")
    services.measure_progress(measure=m, actor=clerk, state="未落实", note="农户外出，无法联系")
    services.measure_progress(measure=m, actor=clerk, state="已落实")
    m.refresh_from_db()
    assert (m.state, m.done_on) == ("done", timezone.localdate())
    with pytest.raises(Conflict, match="已落实"):
        services.measure_progress(measure=m, actor=clerk, state="落实中")
    with pytest.raises(ValidationFailed, match="晚于今天"):
        services.measure_progress(
            measure=measure(household(), clerk),
            actor=clerk,
            state="done",
            done_on=timezone.localdate() + timedelta(days=1),
        )


def test_department_user_progresses_only_its_departments_measures(users, make_user):
    medical = users["department"]  # 医保, 桃溪镇
    hh = household()
    own = measure(hh, users["town_station"], code="medical_aid")
    other = measure(hh, users["town_station"], code="dibao")  # 民政
    services.measure_progress(measure=own, actor=medical, state="in_progress")
    with pytest.raises(PermissionDenied):
        services.measure_progress(measure=other, actor=medical, state="in_progress")
    with pytest.raises(PermissionDenied):
        measure(hh, medical)  # a department carries measures out, it does not plan them


def test_department_user_sees_only_its_department_measures_in_its_region(users, make_user):
    station = users["town_station"]
    mine = measure(household(), station, code="medical_aid")
    measure(household(), station, code="dibao")
    far = measure(household(NEIGHBOUR_VILLAGE), users["neighbour_station"], code="medical_aid")
    seen = set(selectors.measures_for_user(users["department"]).values_list("pk", flat=True))
    assert seen == {mine.pk}
    assert far.pk not in seen


# --- evidence ---------------------------------------------------------------------------------------------------


def test_evidence_is_checked_by_its_content_stored_0600_outside_media_root(users, data_dir, settings):
    station = users["town_station"]
    m = measure(household(), station)
    png = services.measure_evidence_add(measure=m, actor=station, upload=Upload(PNG, "张三家.png"))
    pdf = services.measure_evidence_add(measure=m, actor=station, upload=Upload(PDF, "a.pdf"))
    path = services.evidence_path(png)
    assert path.read_bytes() == PNG
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert str(settings.MEDIA_ROOT) not in str(path) and "张三" not in png.stored_name
    assert (png.content_type, pdf.content_type) == ("image/png", "application/pdf")
    with pytest.raises(ValidationFailed, match="JPG、PNG"):
        services.measure_evidence_add(
            measure=m, actor=station, upload=Upload(b"MZ\x90\x00 not an image", "x.png")
        )
    big = Upload(PNG)
    big.size = services.EVIDENCE_MAX_BYTES + 1
    with pytest.raises(ValidationFailed, match="10 MB"):
        services.measure_evidence_add(measure=m, actor=station, upload=big)
    assert m.evidence.count() == 2
    assert len(list((data_dir / "evidence").rglob("*.*"))) == 2  # nothing half-written


# --- risk points --------------------------------------------------------------------------------------------------


def test_risk_point_registered_directly_by_inspection(users):
    r = risk(household(), users["village_clerk"])
    assert (r.channel, r.state, r.warning_id) == ("inspection", "open", None)
    assert r.deadline > r.found_on
    with pytest.raises(ValidationFailed):
        services.risk_register(
            household=r.household,
            actor=users["village_clerk"],
            risk_type="illness",
            channel="department",  # 部门筛查预警 comes only from screening
            found_on=timezone.localdate(),
            description="x",
        )
    with pytest.raises(PermissionDenied):
        risk(household(), users["helper"])


def test_risk_point_close_refused_without_a_measure_carried_out(users):
    """至少一项帮扶措施落实后方可消除风险点: the refusal (409) says what there is."""
    station = users["town_station"]
    r = risk(household(), station)
    today = timezone.localdate()
    with pytest.raises(Conflict, match="还没有登记帮扶措施"):
        services.risk_close(risk=r, actor=station, closed_on=today, note="已消除")
    measure(r.household, station, risk_point=r, state="in_progress")
    measure(r.household, station, risk_point=r)
    with pytest.raises(Conflict) as refused:
        services.risk_close(risk=r, actor=station, closed_on=today, note="已消除")
    assert "计划 1 项" in refused.value.message and "落实中 1 项" in refused.value.message
    r.refresh_from_db()
    assert r.state == "open"


def test_risk_point_closed_by_the_town_station(users):
    station = users["town_station"]
    r = risk(household(), station)
    measure(r.household, station, risk_point=r, state="done")
    today = timezone.localdate()
    services.risk_close(risk=r, actor=station, closed_on=today, note="医疗救助到位，风险消除")
    r.refresh_from_db()
    assert (r.state, r.eliminated_on) == ("eliminated", today)
    assert RiskClosure.objects.get(risk=r).step == "closed"
    assert AuditEvent.objects.filter(action="risk.closed", object_id=str(r.pk)).exists()
    with pytest.raises(Conflict, match="已消除"):
        services.risk_close(risk=r, actor=station, closed_on=today, note="again")


def test_risk_point_village_request_then_town_confirm(users):
    """村级申请消除 → 待镇确认 → 镇扶贫工作站确认 (or 退回)."""
    clerk, station = users["village_clerk"], users["town_station"]
    r = risk(household(), clerk)
    measure(r.household, clerk, risk_point=r, state="done")
    asked_on = timezone.localdate() - timedelta(days=1)
    services.risk_close(risk=r, actor=clerk, closed_on=asked_on, note="收入恢复")
    r.refresh_from_db()
    assert r.state == "closing"
    with pytest.raises(Conflict, match="等待镇扶贫工作站确认"):
        services.risk_close(risk=r, actor=clerk, closed_on=asked_on, note="再次申请")
    with pytest.raises(PermissionDenied):
        services.risk_close_confirm(risk=r, actor=clerk, approve=True)
    # Still unresolved while it waits: the overdue lists and counts keep it.
    assert r in monitoring_selectors.risks_open(station)
    services.risk_close_confirm(risk=r, actor=station, approve=False, note="请补充佐证材料")
    r.refresh_from_db()
    assert r.state == "open"
    services.risk_close(risk=r, actor=clerk, closed_on=asked_on, note="已补充材料")
    services.risk_close_confirm(risk=r, actor=station, approve=True)
    r.refresh_from_db()
    assert (r.state, r.eliminated_on) == ("eliminated", asked_on)
    assert list(RiskClosure.objects.filter(risk=r).values_list("step", flat=True)) == [
        "requested",
        "returned",
        "requested",
        "confirmed",
    ]


def test_overdue_lists_show_only_unresolved_risk_points(users):
    station = users["town_station"]
    today = timezone.localdate()
    late = risk(household(), station, found_on=today - timedelta(days=90))
    done = risk(household(), station, found_on=today - timedelta(days=90))
    RiskPoint.objects.filter(pk__in=[late.pk, done.pk]).update(deadline=today - timedelta(days=5))
    measure(done.household, station, risk_point=done, state="done")
    services.risk_close(risk=done, actor=station, closed_on=today, note="已消除")
    assert list(monitoring_selectors.risks_overdue(station)) == [late]
    counts = monitoring_selectors.inbox_counts(station)
    assert (counts["risks_open"], counts["risks_overdue"]) == (1, 1)


# --- the catalogue ----------------------------------------------------------------------------------------------


def test_catalogue_defaults_loaded_with_their_kinds():
    kinds = dict(MeasureType.objects.values_list("name", "kind"))
    assert (
        kinds["低保"] == "safety_net"
        and kinds["雨露计划"] == "subsidy"
        and kinds["劳务输出"] == "development"
    )
    assert MeasureType.objects.get(name="特困供养").department == "civil"


def test_catalogue_county_adds_and_retires_never_deletes(users):
    county = users["county_review"]
    with pytest.raises(PermissionDenied):
        services.catalogue_add(
            actor=users["town_station"], code="x", name="x", category="产业", kind="开发式"
        )
    mt = services.catalogue_add(
        actor=county,
        code="town_patch",
        name="政策补丁",
        category="综合保障",
        kind="补贴式",
        risk_types=["因病"],
    )
    assert (mt.category, mt.kind, mt.risk_types) == ("safety_net", "subsidy", ["illness"])
    m = measure(household(), users["village_clerk"], code="town_patch")
    services.catalogue_set_active(actor=county, measure_type=mt, active=False)
    with pytest.raises(ValidationFailed, match="已停用"):
        measure(household(), users["village_clerk"], code="town_patch")
    m.refresh_from_db()
    assert m.measure_type_id == mt.pk  # the old measure keeps it
    assert AuditEvent.objects.filter(action="catalogue.retired").exists()
