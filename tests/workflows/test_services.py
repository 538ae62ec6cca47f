"""The engine: each process walked to its end by the right users; wrong role, wrong place, skipped steps, double
actions, withdraw; the official fields change only when a case ends 已办结; every action audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import NEIGHBOUR_VILLAGE, OTHER_VILLAGE
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone
from workflows_factory import approve, eliminable, household, monitored, start, step_data, walk

from fangfan.core.errors import Conflict, ValidationFailed
from fangfan.core.models import AuditEvent
from fangfan.monitoring.models import RiskPoint
from fangfan.registry.models import HouseholdSnapshot
from fangfan.workflows import services
from fangfan.workflows.models import Case

pytestmark = pytest.mark.django_db

OFFICIAL = ["exited_class", "monitoring_type", "monitoring_state", "identified_month", "eliminated_month"]


def official(hh):
    hh.refresh_from_db()
    return {f: getattr(hh, f) for f in OFFICIAL}


def test_identify_walks_seven_steps_and_decides_only_at_the_end(users):
    hh = household(household_type="exited", exit_year=2019, exited_class="enjoying")
    case = start(hh, users, risk_types=["illness", "disaster"], source="warning")
    assert case.current_step.name == "入户核查"
    assert case.due_on == timezone.localdate() + timedelta(days=15)
    seen = []
    before = official(hh)
    while case.state == "open":
        seen.append(case.current_step.name)
        assert official(hh) == before  # nothing official moves before the decision
        case = approve(case, users)
    assert seen == ["入户核查", "承诺授权", "信息比对", "民主评议", "村内公示", "乡镇审核", "县级审定"]
    assert case.state == "done" and case.current_step is None
    now = official(hh)
    assert now["monitoring_type"] == "unstable" and now["monitoring_state"] == "monitoring"
    assert now["identified_month"] == f"{timezone.localdate():%Y%m}"
    risks = set(RiskPoint.objects.filter(household=hh).values_list("risk_type", flat=True))
    assert risks == {"illness", "disaster"}
    snap = HouseholdSnapshot.objects.get(household=hh)
    assert snap.reason == "纳入监测" and snap.data["members"][0]["age"] > 0
    assert "name" not in snap.data["members"][0] and "id_number" not in str(snap.data)
    actions = list(
        AuditEvent.objects.filter(object_type="workflows.case", object_id=str(case.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions.count("case.approved") == 7 and actions[0] == "case.started"
    assert AuditEvent.objects.filter(action="household.status_decided", object_id=str(hh.pk)).exists()


def test_identify_edge_goes_through_the_town_leader(users):
    hh = household()
    case = start(hh, users, process="identify_edge", monitoring_type="边缘易致贫户")
    names = []
    while case.state == "open":
        names.append((case.current_step.name, case.current_step.role))
        case = approve(case, users)
    assert [r for _, r in names] == ["village_clerk", "town_leader", "town_station", "county_review"]
    assert official(hh)["monitoring_type"] == "marginal"


def test_reclassify_changes_the_class_at_the_town(users):
    hh = household(household_type="exited", exit_year=2019, exited_class="enjoying")
    case = start(hh, users, process="reclassify", exited_class="不享受政策")
    assert [s.name for s in services.enabled_steps(case.process)] == ["村级核实上报", "镇审核"]
    case = walk(case, users)
    assert case.state == "done" and official(hh)["exited_class"] == "not_enjoying"


def test_eliminate_unstable_goes_up_to_the_province(users):
    hh = eliminable(users)
    case = start(hh, users, process="eliminate", elimination_way="帮扶消除")
    assert case.process.code == "eliminate_unstable"
    roles = []
    while case.state == "open":
        roles.append(case.current_step.role)
        case = approve(case, users)
    assert roles == ["village_clerk", "town_station", "county_review", "province_record"]
    now = official(hh)
    assert (
        now["monitoring_state"] == "eliminated" and now["eliminated_month"] == f"{timezone.localdate():%Y%m}"
    )
    assert HouseholdSnapshot.objects.get(household=hh).reason == "风险消除"
    assert case.elimination_way == "assisted"


def test_eliminate_edge_starts_at_the_town(users):
    hh = eliminable(users, monitoring_type="marginal")
    with pytest.raises(PermissionDenied):
        services.case_start(household=hh, actor=users["village_clerk"], process="eliminate", reason="x")
    case = start(hh, users, process="eliminate")
    assert case.process.code == "eliminate_edge"
    case = walk(case, users)
    assert case.state == "done" and official(hh)["monitoring_state"] == "eliminated"
    assert case.elimination_way == "assisted"  # derived: a measure was carried out


def test_revert_brings_an_eliminated_household_back_keeping_its_history(users):
    hh = monitored(monitoring_type="marginal")
    hh.monitoring_state, hh.eliminated_month = "eliminated", "202501"
    hh.save()
    case = walk(start(hh, users, process="revert"), users)
    assert case.state == "done"
    now = official(hh)
    assert now["monitoring_state"] == "monitoring" and now["eliminated_month"] == ""
    assert case.before["eliminated_month"] == "202501"


def test_wrong_role_is_403_and_a_later_steps_role_out_of_order_is_409(users):
    case = start(household(), users)
    for who in ("helper", "town_leader", "department"):
        with pytest.raises(PermissionDenied):
            services.case_act(case=case, actor=users[who], action="approve")
    for who in ("town_station", "county_review"):  # their step comes later: no skipping
        with pytest.raises(Conflict):
            services.case_act(case=case, actor=users[who], action="approve")
    case = approve(case, users)  # 入户核查 done, 承诺授权 is the village's too
    assert case.current_step.name == "承诺授权"


def test_another_village_or_town_cannot_act(users):
    case = start(household(), users)
    for who in ("other_village_clerk", "neighbour_clerk", "neighbour_station"):
        with pytest.raises(PermissionDenied):
            services.case_act(case=case, actor=users[who], action="approve", data=step_data(case))
    assert not Case.objects.for_user(users["neighbour_station"], "case.view").filter(pk=case.pk).exists()
    assert not Case.objects.for_user(users["other_village_clerk"], "case.view").filter(pk=case.pk).exists()


def test_creator_must_hold_the_first_steps_role(users):
    hh = household()
    for who in ("town_station", "county_review", "helper"):
        with pytest.raises(PermissionDenied):
            services.case_start(
                household=hh,
                actor=users[who],
                process="identify",
                reason="x",
                monitoring_type="marginal",
                risk_types=["illness"],
            )
    other = household(OTHER_VILLAGE)
    with pytest.raises(PermissionDenied):
        start(other, users)  # 东风村's clerk, 新河村's household
    far = household(NEIGHBOUR_VILLAGE)
    with pytest.raises(PermissionDenied):
        services.case_start(household=far, actor=users["village_clerk"], process="identify", reason="x")


def test_double_action_with_a_stale_version_is_a_conflict(users):
    case = start(household(), users)
    seen = case.version
    approve(case, users, expected_version=seen)
    with pytest.raises(Conflict):
        services.case_act(
            case=case,
            actor=users["village_clerk"],
            action="approve",
            data=step_data(case),
            expected_version=seen,
        )


def test_withdraw_only_by_its_creator_before_anyone_else_acted(users):
    case = start(household(), users)
    case = approve(case, users)  # the creator's own step: withdraw still allowed
    with pytest.raises(PermissionDenied):
        services.case_act(case=case, actor=users["town_station"], action="withdraw")
    done = services.case_act(case=case, actor=users["village_clerk"], action="withdraw")
    assert done.state == "withdrawn"
    with pytest.raises(Conflict):
        services.case_act(case=done, actor=users["village_clerk"], action="withdraw")

    case = walk(start(household(), users), users, to="民主评议")  # the town acted at 信息比对
    with pytest.raises(Conflict):
        services.case_act(case=case, actor=users["village_clerk"], action="withdraw")


def test_return_goes_back_one_step_and_reject_ends_the_case(users):
    hh = household()
    case = walk(start(hh, users), users, to="信息比对")
    with pytest.raises(ValidationFailed):
        services.case_act(case=case, actor=users["town_station"], action="return")  # needs a comment
    case = services.case_act(case=case, actor=users["town_station"], action="return", comment="授权书不清楚")
    assert case.current_step.name == "承诺授权"
    case = walk(case, users, to="乡镇审核")
    case = services.case_act(case=case, actor=users["town_station"], action="reject", comment="收入高于标准")
    assert case.state == "rejected" and official(hh)["monitoring_state"] == ""
    with pytest.raises(Conflict):
        services.case_act(case=case, actor=users["town_station"], action="approve")


def test_first_step_cannot_be_returned(users):
    case = start(household(), users)
    with pytest.raises(Conflict):
        services.case_act(case=case, actor=users["village_clerk"], action="return", comment="x")


def test_a_notice_of_four_days_is_refused(users):
    case = walk(start(household(), users), users, to="村内公示")
    today = timezone.localdate()
    short = {
        "notice_from": (today - timedelta(days=3)).isoformat(),
        "notice_to": today.isoformat(),
        "objections": "无",
    }
    with pytest.raises(ValidationFailed, match="4 天"):
        services.case_act(case=case, actor=users["village_clerk"], action="approve", data=short)
    future = {**short, "notice_from": today.isoformat(), "notice_to": (today + timedelta(days=5)).isoformat()}
    with pytest.raises(ValidationFailed, match="尚未结束"):
        services.case_act(case=case, actor=users["village_clerk"], action="approve", data=future)


def test_consent_must_be_attached(users):
    case = walk(start(household(), users), users, to="承诺授权")
    with pytest.raises(ValidationFailed, match="承诺授权书"):
        services.case_act(case=case, actor=users["village_clerk"], action="approve")


def test_one_open_case_per_household_and_decision(users):
    hh = household()
    start(hh, users)
    with pytest.raises(Conflict):
        start(hh, users)


def test_state_must_allow_the_decision(users):
    with pytest.raises(Conflict):
        start(monitored(), users)  # already monitored
    with pytest.raises(Conflict):
        start(household(), users, process="eliminate")
    with pytest.raises(Conflict):
        start(monitored(), users, process="revert")
    with pytest.raises(Conflict):
        start(household(), users, process="reclassify")  # a general household


def test_new_process_version_applies_to_new_cases_only(users):
    from fangfan.accounts.models import User
    from fangfan.workflows.models import Process

    old = start(household(), users)
    operator = User.objects.create(username="ops", role="system")
    steps = [
        {"name": "入户核查", "role": "village_clerk", "level": "village", "data_schema": "入户核查"},
        {"name": "县级审定", "role": "county_review", "level": "county"},
    ]
    v2 = services.process_new_version(actor=operator, code="identify", steps=steps)
    assert v2.version == 2 and not Process.objects.get(code="identify", version=1).active
    new = start(household(), users)
    assert new.process == v2
    old.refresh_from_db()
    assert old.process.version == 1
    assert walk(old, users).state == "done"
    assert walk(new, users).state == "done"


def test_the_callers_case_is_the_saved_one_without_reading_it_again(users, django_assert_num_queries):
    """case_act hands back (and updates) the caller's object as saved, its household no longer cached (the decision
    may have changed it); an approve on a step needing no attachment reads none."""
    case = walk(start(household(household_type="exited"), users), users, to="乡镇审核")
    household_before = case.household
    # 12 before: an attachments query, the case read again; PostgreSQL takes the audit chain's advisory lock too.
    with django_assert_num_queries(10 + (1 if connection.vendor == "postgresql" else 0)):
        same = services.case_act(case=case, actor=users["town_station"], action="approve")
    assert same is case and case.current_step.name == "县级审定" and case.version == 7
    done = services.case_act(case=case, actor=users["county_review"], action="approve")
    assert (done.state, done.current_step) == ("done", None)
    assert done.household is not household_before and done.household.monitoring_state == "monitoring"
    assert Case.objects.get(pk=case.pk).version == done.version
