"""Warnings and verification (issue 4 items 4–5): lifecycle 待核查 → 核查中 → 已确认 / 已排除, one verification task
per household (M14: one visit settles every warning), deadlines from the policy table, overdue lists, risk points
with their 限期消除 date, and the manual channels with their source."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import NEIGHBOUR_VILLAGE, OTHER_VILLAGE, TOWN, VILLAGE, operator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from monitoring_factory import household, make_warning

from fangfan.core.errors import DomainError
from fangfan.core.models import AuditEvent
from fangfan.monitoring import selectors, services
from fangfan.monitoring.models import EarlyWarning, RiskPoint, Rule, VerificationTask
from fangfan.policy.services import policy_set, policy_values

pytestmark = pytest.mark.django_db
State = EarlyWarning.State


def _visit(task, actor, decisions, **kw):
    return services.task_complete(
        task=task,
        actor=actor,
        visited_on=kw.pop("visited_on", timezone.localdate()),
        visit_way=kw.pop("visit_way", "入户"),
        finding=kw.pop("finding", "入户了解，户主住院属实"),
        decisions=decisions,
    )


# --- bundling -------------------------------------------------------------------------------------------------


def test_three_warnings_of_one_household_make_one_task_and_one_visit_settles_them_all(users):
    """同一农户的三条预警归并为一个核查任务，一次入户全部办结（M14：不重复入户）。"""
    hh = household()
    w1 = make_warning(hh, risk_type="illness")
    w2 = make_warning(hh, risk_type="housing", source="housing")
    w3 = make_warning(hh, risk_type="employment", source="employment")
    attached = services.tasks_bundle(actor=operator(), household_ids=[hh.pk])
    assert attached == 3
    tasks = VerificationTask.objects.filter(household=hh)
    assert tasks.count() == 1
    task = tasks.get()
    assert task.state == "open" and task.region_code == VILLAGE
    assert set(task.warnings.values_list("state", flat=True)) == {State.VERIFYING}

    _visit(
        task,
        users["village_clerk"],
        {w1.pk: ("confirm", None), w2.pk: ("confirm", None), w3.pk: ("exclude", "已稳定就业，务工收入正常")},
    )
    task.refresh_from_db()
    assert task.state == "done" and task.visit_way == "入户" and task.done_by == users["village_clerk"]
    states = dict(EarlyWarning.objects.filter(household=hh).values_list("pk", "state"))
    assert states == {w1.pk: State.CONFIRMED, w2.pk: State.CONFIRMED, w3.pk: State.EXCLUDED}
    assert RiskPoint.objects.filter(household=hh).count() == 2
    assert EarlyWarning.objects.get(pk=w3.pk).exclude_reason == "已稳定就业，务工收入正常"
    (event,) = AuditEvent.objects.filter(action="task.verified")
    assert event.note == "***"  # the finding (入户了解，户主住院属实) stays with the task, not in the log


def test_a_new_warning_while_a_task_is_open_joins_it(users):
    """核查任务未办结时新产生的预警并入同一任务。"""
    hh = household()
    first = make_warning(hh)
    services.tasks_bundle(actor=operator(), household_ids=[hh.pk])
    task = VerificationTask.objects.get(household=hh)
    second = make_warning(hh, risk_type="disaster", source="disaster")
    services.tasks_bundle(actor=operator(), household_ids=[hh.pk])
    assert VerificationTask.objects.filter(household=hh).count() == 1
    second.refresh_from_db()
    assert second.task_id == task.pk and second.state == State.VERIFYING
    # The visit must decide both.
    with pytest.raises(DomainError, match="没有核查结论"):
        _visit(task, users["village_clerk"], {first.pk: ("confirm", None)})


def test_after_a_visit_a_new_warning_opens_a_new_task(users):
    hh = household()
    w = make_warning(hh)
    services.tasks_bundle(actor=operator(), household_ids=[hh.pk])
    task = VerificationTask.objects.get(household=hh)
    _visit(task, users["village_clerk"], {w.pk: ("exclude", "数据有误")})
    later = make_warning(hh)
    services.tasks_bundle(actor=operator(), household_ids=[hh.pk])
    later.refresh_from_db()
    assert later.task_id != task.pk
    assert VerificationTask.objects.filter(household=hh).count() == 2
    assert VerificationTask.objects.filter(household=hh, state="open").count() == 1


def test_bundle_by_region_and_untouched_elsewhere(users):
    mine = household()
    other = household(NEIGHBOUR_VILLAGE)
    make_warning(mine)
    w_other = make_warning(other)
    assert services.tasks_bundle(actor=operator(), region_code=TOWN) == 1
    w_other.refresh_from_db()
    assert w_other.state == State.PENDING and w_other.task_id is None
    assert services.tasks_bundle(actor=operator()) == 1  # everything
    assert services.tasks_bundle(actor=operator()) == 0  # idempotent


def test_bundle_is_set_based(users):
    """归并是集合操作：语句数不随农户数增长。"""
    small = [household(members=[("甲", date(1970, 1, 1), "户主")]) for _ in range(3)]
    large = [household(OTHER_VILLAGE, members=[("乙", date(1970, 1, 1), "户主")]) for _ in range(40)]
    for hh in small + large:
        make_warning(hh)
        make_warning(hh, risk_type="housing", source="housing")
    with CaptureQueriesContext(connection) as few:
        services.tasks_bundle(actor=operator(), household_ids=[h.pk for h in small])
    with CaptureQueriesContext(connection) as many:
        services.tasks_bundle(actor=operator(), household_ids=[h.pk for h in large])
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(many.captured_queries) <= 15
    assert VerificationTask.objects.filter(state="open").count() == 43
    assert EarlyWarning.objects.filter(state=State.VERIFYING, task__isnull=False).count() == 86


def test_bundle_chunks_a_long_id_list(users, monkeypatch):
    monkeypatch.setattr(services, "_CHUNK", 100)
    homes = [household(members=[("丙", date(1980, 1, 1), "户主")]) for _ in range(5)]
    for hh in homes:
        make_warning(hh)
    ids = [h.pk for h in homes] + list(range(10_000_000, 10_000_500))  # ids without warnings are harmless
    assert services.tasks_bundle(actor=operator(), household_ids=ids) == 5
    assert VerificationTask.objects.filter(household__in=homes).count() == 5


def _staged(rows):
    """The screening's temporary table of new warnings, holding ``rows`` (household, rule code, dedupe key)."""
    from fangfan.monitoring.rule_sql import STAGED, Dialect, staged_table_sql

    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {STAGED}")
        cur.execute(staged_table_sql(Dialect(connection.vendor)))
        for hh, rule, key in rows:
            cur.execute(
                f"INSERT INTO {STAGED} (household_id, region_code, rule_code, risk_type, kind, channel, source,"
                " record_id, dedupe_key, explanation, evidence) VALUES (%s, %s, %s, 'housing', 'risk',"
                " 'department', '', NULL, %s, '住房安全等级为 C 级（危房）', '{}')",
                [hh.pk, hh.region_id, rule, key],
            )
    return STAGED


def _insert_staged(rows):
    from fangfan.monitoring.rule_sql import STAGED_COLUMNS

    try:
        return services.warnings_insert_bundled(
            staged=_staged(rows), columns=STAGED_COLUMNS, created_at=timezone.now(), actor=operator()
        )
    finally:
        with connection.cursor() as cur:
            cur.execute("DROP TABLE screening_new")


def test_staged_warnings_are_written_once_already_in_their_households_task(users):
    """筛查的新预警写入时即归入本户核查任务（新开或已有），每条只写一次；本户原有待核查预警一并归入。"""
    fresh, busy = household(), household(OTHER_VILLAGE)
    task = VerificationTask.objects.create(
        household=busy, region_code=OTHER_VILLAGE, due_date=date(2030, 1, 1), decide_by=date(2030, 1, 2)
    )
    left = make_warning(busy, risk_type="illness")  # pending, not yet in a task
    written = _insert_staged(
        [
            (fresh, "housing_unsafe", "2026:C"),
            (fresh, "water_unsafe", "2026:否"),
            (busy, "housing_unsafe", "2026:D"),
        ]
    )
    assert written == 3
    new_task = VerificationTask.objects.get(household=fresh)
    assert new_task.due_date == timezone.localdate() + timedelta(days=3)
    assert {(w.state, w.task_id) for w in EarlyWarning.objects.filter(household=fresh)} == {
        (State.VERIFYING, new_task.pk)
    }
    assert {(w.state, w.task_id) for w in EarlyWarning.objects.filter(household=busy)} == {
        (State.VERIFYING, task.pk)
    }
    left.refresh_from_db()
    assert left.task_id == task.pk
    assert VerificationTask.objects.count() == 2
    warning = EarlyWarning.objects.get(household=fresh, rule_code="water_unsafe")
    assert (
        warning.rule_id == "water_unsafe"
        and warning.channel == "department"
        and warning.created_by == operator()
    )
    event = AuditEvent.objects.filter(action="warning.bundled").latest("id")
    assert event.after["warnings"] == 3 and event.after["tasks_created"] == 1


def test_staged_warnings_already_written_are_skipped(users):
    """同一证据或同一规则的未办结预警已存在（并发的另一次筛查刚写入）时跳过，不报错、不重复。"""
    hh = household()
    assert _insert_staged([(hh, "housing_unsafe", "2026:C")]) == 1
    assert _insert_staged([(hh, "housing_unsafe", "2026:C"), (hh, "housing_unsafe", "2026:D")]) == 0
    assert EarlyWarning.objects.filter(household=hh).count() == 1
    assert VerificationTask.objects.filter(household=hh).count() == 1


def _schema(tables=("monitoring_earlywarning", "monitoring_verificationtask")):
    """The indexes (name, unique, columns; PostgreSQL may spell a rebuilt predicate differently) and constraints."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT indexname, split_part(indexdef, ' WHERE ', 1) FROM pg_indexes WHERE tablename = ANY(%s)"
            " ORDER BY indexname",
            [list(tables)],
        )
        indexes = cur.fetchall()
        cur.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s)"
            " ORDER BY conname",
            [list(tables)],
        )
        return indexes, cur.fetchall()


def test_a_first_screening_on_postgresql_rebuilds_the_indexes_and_checks_every_row(users, monkeypatch):
    """首次筛查（预警表至少翻倍）在 PostgreSQL 上先删索引与外键、写入后重建：结果相同，索引与约束都在，重复的跳过。"""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    monkeypatch.setattr(services, "_BULK_MIN", 1)
    before = _schema()
    busy = household(OTHER_VILLAGE)
    make_warning(busy, risk_type="illness")
    services.tasks_bundle(
        actor=operator(), household_ids=[busy.pk]
    )  # writes of this transaction with checks still pending
    fresh = household()
    staged = [
        (fresh, "housing_unsafe", "2026:C"),
        (fresh, "water_unsafe", "2026:否"),
        (busy, "housing_unsafe", "2026:D"),
    ]
    assert _insert_staged(staged) == 3
    assert _schema() == before
    (task,) = VerificationTask.objects.filter(household=busy)
    assert set(EarlyWarning.objects.filter(household=busy).values_list("state", "task_id")) == {
        (State.VERIFYING, task.pk)
    }
    new_task = VerificationTask.objects.get(household=fresh)
    assert set(EarlyWarning.objects.filter(household=fresh).values_list("task_id", flat=True)) == {
        new_task.pk
    }
    # Again (the table no longer doubles with one row, so make it): duplicates skipped by NOT EXISTS.
    monkeypatch.setattr(services, "_bulk_applies", lambda cur, incoming: True)
    assert _insert_staged([*staged, (fresh, "income_below_line", "2026:4000")]) == 1
    assert VerificationTask.objects.count() == 2 and EarlyWarning.objects.count() == 5
    assert _schema() == before
    with connection.cursor() as cur:
        cur.execute("SHOW enable_nestloop")
        assert cur.fetchone()[0] == "on"


# --- lifecycle ---------------------------------------------------------------------------------------------------


def test_lifecycle_pending_verifying_confirmed(users):
    """待核查 → 核查中 → 已确认：确认的预警登记为风险点。"""
    hh = household()
    w = make_warning(
        hh, explanation="住院个人自付 8000 元，超过 6000 元", evidence={"个人自付金额": "8000.00"}
    )
    assert w.state == State.PENDING
    services.tasks_bundle(actor=operator(), household_ids=[hh.pk])
    w.refresh_from_db()
    assert w.state == State.VERIFYING
    visit_day = timezone.localdate() - timedelta(days=1)
    _visit(w.task, users["helper"], {w.pk: ("confirm", None)}, visited_on=visit_day, visit_way="电话")
    w.refresh_from_db()
    assert w.state == State.CONFIRMED and w.decided_by == users["helper"] and w.decided_at
    risk = RiskPoint.objects.get(warning=w)
    assert risk.household == hh and risk.risk_type == "illness" and risk.channel == "department"
    assert risk.found_on == visit_day
    assert risk.deadline == timezone.localdate() + timedelta(days=90)
    assert risk.description == "住院个人自付 8000 元，超过 6000 元"
    assert risk.evidence["个人自付金额"] == "8000.00"
    assert risk.state == "open"
    assert AuditEvent.objects.filter(action="risk.created", object_id=str(risk.pk)).exists()
    assert AuditEvent.objects.filter(action="task.verified").exists()


def test_exclusion_without_a_reason_is_refused(users):
    """排除预警必须填写理由。"""
    hh = household()
    w = make_warning(hh)
    services.tasks_bundle(actor=operator(), household_ids=[hh.pk])
    w.refresh_from_db()
    for reason in (None, "", "   "):
        with pytest.raises(DomainError, match="排除理由"):
            _visit(w.task, users["village_clerk"], {w.pk: ("exclude", reason)})
    w.refresh_from_db()
    assert w.state == State.VERIFYING
    assert VerificationTask.objects.get(pk=w.task_id).state == "open"
    _visit(w.task, users["village_clerk"], {w.pk: ("exclude", "已出院，医保报销后自付很少")})
    w.refresh_from_db()
    assert w.state == State.EXCLUDED and not RiskPoint.objects.filter(warning=w).exists()


def test_visit_input_is_checked(users):
    hh = household()
    w = make_warning(hh)
    services.tasks_bundle(actor=operator(), household_ids=[hh.pk])
    w.refresh_from_db()
    clerk = users["village_clerk"]
    with pytest.raises(DomainError, match="核查方式"):
        _visit(w.task, clerk, {w.pk: ("confirm", None)}, visit_way="上门")
    with pytest.raises(DomainError, match="晚于今天"):
        _visit(w.task, clerk, {w.pk: ("confirm", None)}, visited_on=timezone.localdate() + timedelta(days=1))
    with pytest.raises(DomainError, match="核查情况"):
        _visit(w.task, clerk, {w.pk: ("confirm", None)}, finding=" ")
    with pytest.raises(DomainError, match="不属于本任务"):
        _visit(w.task, clerk, {w.pk: ("confirm", None), 999999: ("confirm", None)})
    with pytest.raises(DomainError, match="确认"):
        _visit(w.task, clerk, {w.pk: ("maybe", None)})
    _visit(w.task, clerk, {w.pk: ("confirm", None)})
    with pytest.raises(DomainError, match="已经完成"):
        _visit(w.task, clerk, {w.pk: ("confirm", None)})


def test_a_confirmed_data_doubt_is_not_a_poverty_risk(users):
    """数据疑点核实属实，记为已确认，但不登记为返贫致贫风险点。"""
    hh = household()
    doubt = make_warning(hh, risk_type="doubt", kind="doubt", source="exclusion")
    services.tasks_bundle(actor=operator(), household_ids=[hh.pk])
    doubt.refresh_from_db()
    _visit(doubt.task, users["village_clerk"], {doubt.pk: ("confirm", None)})
    doubt.refresh_from_db()
    assert doubt.state == State.CONFIRMED
    assert not RiskPoint.objects.filter(household=hh).exists()


# --- who may verify -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("village_clerk", True),
        ("helper", True),
        ("town_station", True),
        ("other_village_clerk", False),
        ("neighbour_clerk", False),
        ("neighbour_station", False),
        ("department", False),
        ("sys_admin", False),
    ],
)
def test_who_may_complete_a_task(users, who, allowed):
    """核查由本村村级经办、帮扶责任人或本镇扶贫工作站完成；其他人不能。"""
    hh = household()
    w = make_warning(hh)
    services.tasks_bundle(actor=operator(), household_ids=[hh.pk])
    w.refresh_from_db()
    if allowed:
        _visit(w.task, users[who], {w.pk: ("confirm", None)})
        assert VerificationTask.objects.get(pk=w.task_id).state == "done"
    else:
        with pytest.raises(DomainError):
            _visit(w.task, users[who], {w.pk: ("confirm", None)})
        assert VerificationTask.objects.get(pk=w.task_id).state == "open"


# --- deadlines from the policy --------------------------------------------------------------------------------------


def test_deadlines_come_from_the_policy_and_follow_its_changes(users):
    """入户核查 3 天、线索到认定 15 天、风险点限期消除取自政策参数；修改参数后新任务随之变化。"""
    today = timezone.localdate()
    hh = household()
    make_warning(hh)
    services.tasks_bundle(actor=operator(), household_ids=[hh.pk])
    task = VerificationTask.objects.get(household=hh)
    assert task.due_date == today + timedelta(days=3)
    assert task.decide_by == today + timedelta(days=15)

    station = users["town_station"]
    policy_set(actor=station, key="verify_days", region_code=TOWN, year=today.year, value=5)
    policy_set(actor=station, key="decide_days", region_code=TOWN, year=today.year, value=20)
    policy_set(actor=station, key="risk_deadline_days", region_code=TOWN, year=today.year, value=60)
    hh2 = household()
    w2 = make_warning(hh2)
    services.tasks_bundle(actor=operator(), household_ids=[hh2.pk])
    task2 = VerificationTask.objects.get(household=hh2)
    assert task2.due_date == today + timedelta(days=5)
    assert task2.decide_by == today + timedelta(days=20)
    _visit(task2, users["village_clerk"], {w2.pk: ("confirm", None)})
    assert RiskPoint.objects.get(warning=w2).deadline == today + timedelta(days=60)


def test_a_village_policy_applies_to_that_village_only(users):
    today = timezone.localdate()
    policy_set(
        actor=users["town_station"], key="verify_days", region_code=OTHER_VILLAGE, year=today.year, value=7
    )
    here, there = household(), household(OTHER_VILLAGE)
    make_warning(here)
    make_warning(there)
    services.tasks_bundle(actor=operator(), household_ids=[here.pk, there.pk])
    assert VerificationTask.objects.get(household=here).due_date == today + timedelta(days=3)
    assert VerificationTask.objects.get(household=there).due_date == today + timedelta(days=7)


def test_policy_days_agrees_with_policy_values(users):
    year = timezone.localdate().year
    station = users["town_station"]
    policy_set(actor=station, key="verify_days", region_code=TOWN, year=year - 1, value=4)
    policy_set(actor=station, key="verify_days", region_code=VILLAGE, year=year - 3, value=6)
    policy_set(actor=station, key="decide_days", region_code=TOWN, year=year, value=12)
    days = services.policy_days([VILLAGE, OTHER_VILLAGE, NEIGHBOUR_VILLAGE])
    for code in (VILLAGE, OTHER_VILLAGE, NEIGHBOUR_VILLAGE):
        values = policy_values(region_code=code)
        for key in services.DEADLINE_KEYS:
            assert days[code][key] == int(values[key]), (code, key)


# --- overdue ------------------------------------------------------------------------------------------------------------


def test_overdue_lists(users):
    """逾期清单：核查超过 3 天、预警超过 15 天未认定、风险点超过限期。"""
    clerk = users["village_clerk"]
    today = timezone.localdate()
    late_hh, fresh_hh = household(), household()
    old = make_warning(late_hh, created_at=timezone.now() - timedelta(days=16))
    fresh = make_warning(fresh_hh, created_at=timezone.now() - timedelta(days=14))
    services.tasks_bundle(actor=operator(), household_ids=[late_hh.pk, fresh_hh.pk])
    VerificationTask.objects.filter(household=late_hh).update(due_date=today - timedelta(days=1))

    assert list(selectors.tasks_overdue(clerk)) == [VerificationTask.objects.get(household=late_hh)]
    assert list(selectors.warnings_overdue(clerk)) == [old]
    assert fresh not in selectors.warnings_overdue(clerk)
    # A longer policy deadline makes the old warning timely again.
    policy_set(actor=users["town_station"], key="decide_days", region_code=TOWN, year=today.year, value=20)
    assert list(selectors.warnings_overdue(clerk)) == []
    # Decided warnings are never overdue.
    policy_set(actor=users["town_station"], key="decide_days", region_code=TOWN, year=today.year, value=15)
    old.refresh_from_db()
    _visit(old.task, clerk, {old.pk: ("confirm", None)})
    assert list(selectors.warnings_overdue(clerk)) == []
    assert list(selectors.tasks_overdue(clerk)) == []
    # Risk points past their deadline.
    risk = RiskPoint.objects.get(warning=old)
    assert list(selectors.risks_overdue(clerk)) == []
    RiskPoint.objects.filter(pk=risk.pk).update(deadline=today - timedelta(days=1))
    assert list(selectors.risks_overdue(clerk)) == [risk]
    # Neighbours see none of it.
    assert not selectors.risks_overdue(users["neighbour_station"]).exists()


def test_overdue_with_different_village_policies(users):
    today = timezone.localdate()
    policy_set(
        actor=users["town_station"], key="decide_days", region_code=OTHER_VILLAGE, year=today.year, value=30
    )
    here, there = household(), household(OTHER_VILLAGE)
    a = make_warning(here, created_at=timezone.now() - timedelta(days=20))
    make_warning(there, created_at=timezone.now() - timedelta(days=20))
    assert list(selectors.warnings_overdue(users["town_station"])) == [a]


# --- manual channels ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "label"),
    [
        ("self_report", "农户自主申报"),
        ("cadre", "基层干部排查"),
        ("inspection", "督查暗访反馈"),
        ("city", "市级反馈预警"),
    ],
)
def test_manual_channels_keep_their_source(users, channel, label):
    """人工登记的预警保留来源：农户自主申报、基层干部排查、督查暗访反馈、市级反馈预警。"""
    hh = household()
    w = services.warning_report(
        household=hh,
        actor=users["village_clerk"],
        channel=channel,
        risk_type="illness",
        description="户主突发脑梗住院",
    )
    assert w.channel == channel and w.get_channel_display() == label
    assert (
        w.rule_code == "" and w.created_by == users["village_clerk"] and w.explanation == "户主突发脑梗住院"
    )
    assert w.state == State.VERIFYING and w.task is not None
    # Several manual warnings on one household are allowed (no rule code to collide) and share the task.
    again = services.warning_report(
        household=hh,
        actor=users["town_station"],
        channel=channel,
        risk_type="illness",
        description="再次反映",
    )
    assert again.task_id == w.task_id


def test_manual_report_is_checked(users):
    hh = household()
    clerk = users["village_clerk"]
    with pytest.raises(DomainError, match="来源"):
        services.warning_report(
            household=hh, actor=clerk, channel="department", risk_type="illness", description="x"
        )
    with pytest.raises(DomainError, match="风险类型"):
        services.warning_report(
            household=hh, actor=clerk, channel="cadre", risk_type="doubt", description="x"
        )
    with pytest.raises(DomainError, match="情况说明"):
        services.warning_report(
            household=hh, actor=clerk, channel="cadre", risk_type="illness", description=" "
        )
    with pytest.raises(DomainError, match="管辖"):
        services.warning_report(
            household=hh,
            actor=users["neighbour_clerk"],
            channel="cadre",
            risk_type="illness",
            description="x",
        )
    for reader in ("department", "town_leader", "county_review"):  # issue 17: reading roles record no warning
        with pytest.raises(DomainError, match="无权"):
            services.warning_report(
                household=hh, actor=users[reader], channel="inspection", risk_type="illness", description="x"
            )
    assert not EarlyWarning.objects.filter(household=hh).exists()


# --- clues ------------------------------------------------------------------------------------------------------------------


def test_clue_link_and_close(users):
    from fangfan.monitoring.models import Clue

    station = users["town_station"]
    clue = services.clue_submit_public(
        village_code=VILLAGE, name="李四", id_number="", phone="13800000000", description="家里老人住院"
    )
    assert clue.state == "new" and clue.warning is None
    hh = household()
    for reader in ("village_clerk", "town_leader", "county_review"):  # issue 17: reading roles handle no clue
        with pytest.raises(DomainError, match="乡镇扶贫工作站"):
            services.clue_link(clue=clue, household=hh, actor=users[reader])
        with pytest.raises(DomainError, match="乡镇扶贫工作站"):
            services.clue_close(clue=clue, actor=users[reader], reason="不属实")
    with pytest.raises(DomainError, match="管辖"):
        services.clue_link(clue=clue, household=hh, actor=users["neighbour_station"])
    w = services.clue_link(clue=clue, household=hh, actor=station, risk_type="illness")
    clue.refresh_from_db()
    assert clue.state == "linked" and clue.household == hh and clue.warning == w
    assert w.channel == "self_report" and w.risk_type == "illness" and w.state == State.VERIFYING
    with pytest.raises(DomainError, match="已经处理"):
        services.clue_close(clue=clue, actor=station, reason="重复")

    other = Clue.objects.create(
        channel="self_report", region_code=VILLAGE, name="某人", description="外地人员"
    )
    with pytest.raises(DomainError, match="办结说明"):
        services.clue_close(clue=other, actor=station, reason="")
    services.clue_close(clue=other, actor=station, reason="非本镇农户，已转交户籍地")
    other.refresh_from_db()
    assert other.state == "closed" and other.close_reason == "非本镇农户，已转交户籍地"
    assert AuditEvent.objects.get(action="clue.closed", object_id=str(other.pk)).note == "***"
    assert not selectors.clues_open(station).exists()


# --- the household's timeline ----------------------------------------------------------------------------------------------


def test_household_timeline(users):
    hh = household()
    w1 = make_warning(hh, risk_type="illness")
    w2 = make_warning(hh, risk_type="housing", source="housing")
    services.tasks_bundle(actor=operator(), household_ids=[hh.pk])
    w1.refresh_from_db()
    _visit(w1.task, users["village_clerk"], {w1.pk: ("confirm", None), w2.pk: ("exclude", "已完成危房改造")})
    entries = selectors.household_timeline(hh)
    kinds = [e["kind"] for e in entries]
    assert kinds.count("warning") == 2 and kinds.count("task") == 1 and kinds.count("visit") == 1
    assert kinds.count("risk") == 1
    assert any("已完成危房改造" in e["detail"] for e in entries)
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)
    assert selectors.household_timeline(household()) == []


def test_household_timeline_names_a_warnings_rule_in_chinese(users):
    """A warning from a catalogue rule shows the rule's Chinese name, not its code (as the warnings list does)."""
    hh = household()
    rule = Rule.objects.create(
        code="MED_UNINSURED_T", name="成员未参加基本医疗保险", risk_type="other", template="…"
    )
    EarlyWarning.objects.filter(pk=make_warning(hh, rule_code=rule.code).pk).update(rule=rule)
    make_warning(hh, rule_code="", channel="cadre")
    metas = [e["meta"] for e in selectors.household_timeline(hh) if e["kind"] == "warning"]
    assert sorted(metas) == ["基层干部排查", "部门筛查预警 · 成员未参加基本医疗保险"]
    assert not any("MED_UNINSURED_T" in m for m in metas)


@pytest.mark.parametrize("who", ["town_leader", "county_review", "province_record", "department"])
def test_a_reviewing_role_cannot_complete_a_visit_in_the_service_either(users, who):
    """Issue 16 point 4: the service refuses, not only the page (``warning.visit``)."""
    hh = household()
    w = make_warning(hh)
    services.tasks_bundle(actor=operator(), household_ids=[hh.pk])
    task = VerificationTask.objects.get(household=hh)
    with pytest.raises(DomainError, match="无权完成入户核查"):
        _visit(task, users[who], {w.pk: ("exclude", "已有稳定收入")})
    task.refresh_from_db()
    assert task.state == "open"
    assert EarlyWarning.objects.get(pk=w.pk).state == State.VERIFYING


def test_the_town_station_completes_a_visit(users):
    hh = household()
    w = make_warning(hh)
    services.tasks_bundle(actor=operator(), household_ids=[hh.pk])
    task = VerificationTask.objects.get(household=hh)
    _visit(task, users["town_station"], {w.pk: ("confirm", None)})
    task.refresh_from_db()
    assert task.state == "done" and task.done_by == users["town_station"]
