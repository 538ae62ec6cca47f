"""A month of the demo town's work behind its warnings: after the first screening, most verification tasks have
been handled — visited over the past weeks by the village's clerk (or its helper, or the town station), each
warning confirmed or excluded with a note — and a few dozen per town remain open, their deadlines spread, some
already past. Every 监测对象 whose risk is not eliminated carries an open risk point.

The visits are written in bulk with what ``monitoring.services.task_complete`` would write (task done with its visit,
each warning confirmed or excluded with its reason, a risk point per confirmed risk warning as ``risk_confirm``
records it) — a thousand calls of the service would triple the time ``fangfan demo`` takes — and the audit log
gets one ``demo.backlog`` event per person, naming what they are shown to have done. The dates the screening
stamped as "now" are moved to the weeks they stand for, keeping each row's order (opened ≤ visited ≤ done,
due = opened + 入户核查时限).

``demo_backlog(seed=...)``: same seed, same backlog (the registry and the screening are deterministic too).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from fangfan.core import audit
from fangfan.core.scoping import unscoped_reads
from fangfan.monitoring.choices import Channel, RiskType
from fangfan.monitoring.models import EarlyWarning, RiskPoint, Rule, VerificationTask
from fangfan.monitoring.services import VISIT_WAYS, _jsonable, policy_days
from fangfan.registry.choices import MonitoringState
from fangfan.registry.models import HelperAssignment, Household

# Open tasks left per town: "a few dozen" — what a station works through in a week or two.
OPEN_PER_TOWN = (25, 45)
CONFIRM_SHARE = 0.3  # of risk warnings; the rest were excluded at the visit
FINDINGS = (
    "入户走访，与户主面谈，查看了医疗票据和务工收入情况",
    "电话联系户主并核对部门数据，家庭成员情况与登记一致",
    "入户核查，查看住房和饮水情况，询问近期收支",
    "与村两委成员一同入户，核对家庭成员就业和就医情况",
    "微信视频联系在外务工的户主，核实近期收入",
)
EXCLUDE_REASONS = {
    RiskType.ILLNESS: "经核实，医疗费用经基本医保、大病保险和医疗救助报销后自付较少，家庭收入稳定",
    RiskType.DISABILITY: "经核实，已享受残疾人两项补贴，家庭有稳定务工收入",
    RiskType.SCHOOLING: "经核实，学生已返校就读，享受教育资助",
    RiskType.DISASTER: "经核实，受灾损失较小，已获保险理赔，生产生活正常",
    RiskType.EMPLOYMENT: "经核实，已在本地企业重新就业，收入稳定",
    RiskType.HOUSING: "经核实，已完成危房改造，现住房安全",
    RiskType.WATER: "经核实，已接通自来水，饮水安全有保障",
    RiskType.FAMILY: "经核实，家庭其他成员有稳定收入，基本生活无困难",
    RiskType.DOUBT: "经核实，车辆、房产等登记在已分户的子女名下，与本户无关",
}
DEFAULT_EXCLUDE = "经入户核实，家庭收入稳定，两不愁三保障均有保障，暂无返贫致贫风险"
MONITORED_RISKS = (
    RiskType.ILLNESS,
    RiskType.DISABILITY,
    RiskType.LABOUR,
    RiskType.INCOME,
    RiskType.EMPLOYMENT,
)


@dataclass
class BacklogSummary:
    completed: int = 0
    open: int = 0
    confirmed: int = 0
    excluded: int = 0
    risk_points: int = 0


def _aware(day: date, hour: int, minute: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _verifiers() -> dict[str, list]:
    """Who visits for each village: its clerks, then its helpers; for a town's villages, the town station."""
    User = get_user_model()
    by_region: dict[str, list] = {}
    for user in User.objects.filter(
        is_active=True, role__in=["village_clerk", "helper", "town_station"]
    ).order_by("role", "username"):
        by_region.setdefault(user.region_id, []).append(user)
    return by_region


def _actor_for(village: str, verifiers: dict[str, list], helped: dict[int, object], household_id: int):
    in_village = verifiers.get(village, [])
    helper = helped.get(household_id)
    clerks = [u for u in in_village if u.role == "village_clerk"]
    if helper is not None and helper in in_village:
        return helper  # the household's own 帮扶责任人 went
    if clerks:
        return clerks[0]
    stations = verifiers.get(village[:9] + "000", [])
    return stations[0] if stations else None


@unscoped_reads()  # demo generation: the operator's system work
def demo_backlog(*, seed: int, today: date | None = None) -> BacklogSummary:
    """Settle the demo's screening backlog as a month of work would have (see the module's docstring)."""
    today = today or timezone.localdate()
    rng = random.Random(seed * 104729 + 17)
    summary = BacklogSummary()
    verifiers = _verifiers()
    helped = {
        a.household_id: a.helper
        for a in HelperAssignment.objects.filter(ended_on__isnull=True).select_related("helper")
    }
    tasks = list(VerificationTask.objects.filter(state=VerificationTask.State.OPEN).order_by("pk"))
    days = policy_days({t.region_code for t in tasks})
    by_town: dict[str, list[VerificationTask]] = {}
    for task in tasks:
        by_town.setdefault(task.region_code[:9], []).append(task)
    keep: set[int] = set()
    for town_tasks in by_town.values():
        wanted = rng.randint(*OPEN_PER_TOWN)
        keep.update(t.pk for t in rng.sample(town_tasks, min(wanted, len(town_tasks))))
    warnings_of: dict[int, list[EarlyWarning]] = {}
    for w in EarlyWarning.objects.filter(
        task_id__in=[t.pk for t in tasks], state__in=EarlyWarning.OPEN_STATES
    ):
        warnings_of.setdefault(w.task_id, []).append(w)
    done_tasks, decided, risks = [], [], []
    work: dict[int, dict] = {}  # per verifier: what the audit event says they did
    for task in tasks:
        actor = _actor_for(task.region_code, verifiers, helped, task.household_id)
        if task.pk in keep or actor is None:
            keep.add(task.pk)
            continue
        limits = days[task.region_code]
        visited = today - timedelta(days=rng.randint(2, 35))
        opened = visited - timedelta(days=rng.randint(0, 3))
        task.opened_at = _aware(opened, rng.randint(8, 10), rng.randint(0, 59))
        task.due_date = opened + timedelta(days=limits["verify_days"])
        task.decide_by = opened + timedelta(days=limits["decide_days"])
        task.state, task.visited_on, task.done_by = VerificationTask.State.DONE, visited, actor
        task.visit_way = rng.choice(VISIT_WAYS[:2] * 3 + VISIT_WAYS[2:])
        task.finding = rng.choice(FINDINGS)
        done_day = min(visited + timedelta(days=rng.randint(0, 1)), today)
        task.done_at = _aware(done_day, rng.randint(14, 18), rng.randint(0, 59))
        done_tasks.append(task)
        tally = work.setdefault(
            actor.pk, {"actor": actor, "tasks": 0, "confirmed": 0, "excluded": 0, "risks": 0}
        )
        tally["tasks"] += 1
        for w in sorted(warnings_of.get(task.pk, []), key=lambda w: w.pk):
            w.created_at, w.decided_at, w.decided_by = task.opened_at, task.done_at, actor
            if w.kind == Rule.Kind.RISK and rng.random() < CONFIRM_SHARE:
                w.state, w.exclude_reason = EarlyWarning.State.CONFIRMED, ""
                tally["confirmed"] += 1
                risks.append(_risk_from(w, task, limits["risk_deadline_days"]))
                tally["risks"] += 1
            else:
                w.state = EarlyWarning.State.EXCLUDED
                w.exclude_reason = EXCLUDE_REASONS.get(w.risk_type, DEFAULT_EXCLUDE)
                tally["excluded"] += 1
            decided.append(w)
    with transaction.atomic():
        fields = ["state", "opened_at", "due_date", "decide_by", "visited_on", "visit_way", "finding", "done_by",
                  "done_at"]  # fmt: skip
        VerificationTask.objects.bulk_update(done_tasks, fields, 500)
        EarlyWarning.objects.bulk_update(
            decided, ["state", "exclude_reason", "created_at", "decided_at", "decided_by"], 500
        )
        RiskPoint.objects.bulk_create(risks, 500)
        _redate_open([t for t in tasks if t.pk in keep], days, today, rng)
        monitored = _monitored_risks(rng, today, verifiers)
        for tally in work.values():
            actor = tally.pop("actor")
            audit.record(
                actor,
                "demo.backlog",
                object_type="demo",
                object_label="演示数据",
                region_code=actor.region_id,
                after=tally,
                note=f"演示数据：模拟近一个月的入户核查 {tally['tasks']} 户（确认 {tally['confirmed']} 条、"
                f"排除 {tally['excluded']} 条预警）",
            )
        for actor, n in monitored.items():
            audit.record(
                actor,
                "demo.backlog",
                object_type="demo",
                object_label="演示数据",
                region_code=getattr(actor, "region_id", "") or "",
                after={"risks": n},
                note=f"演示数据：登记监测对象认定时的风险点 {n} 个",
            )
    summary.completed = len(done_tasks)
    summary.open = len(keep)
    summary.confirmed = sum(w.state == EarlyWarning.State.CONFIRMED for w in decided)
    summary.excluded = len(decided) - summary.confirmed
    summary.risk_points = len(risks) + sum(monitored.values())
    return summary


def _risk_from(warning: EarlyWarning, task: VerificationTask, deadline_days: int) -> RiskPoint:
    """The risk point ``services.risk_confirm`` records for a confirmed warning, found at the visit."""
    evidence = dict(warning.evidence or {})
    evidence.setdefault("核查情况", task.finding)
    return RiskPoint(
        household_id=warning.household_id,
        region_code=warning.region_code,
        warning=warning,
        risk_type=warning.risk_type,
        channel=warning.channel,
        found_on=task.visited_on,
        deadline=task.visited_on + timedelta(days=deadline_days),
        evidence=_jsonable(evidence),
        description=warning.explanation[:500],
        created_by=task.done_by,
    )


def _redate_open(open_tasks: list[VerificationTask], days: dict, today: date, rng: random.Random) -> None:
    """The open tasks came in over the last week or so: most are still within their time limit, some are late."""
    warnings = []
    by_task: dict[int, list[EarlyWarning]] = {}
    for w in EarlyWarning.objects.filter(task_id__in=[t.pk for t in open_tasks]):
        by_task.setdefault(w.task_id, []).append(w)
    for task in open_tasks:
        limits = days[task.region_code]
        opened = today - timedelta(days=rng.choices(range(0, 9), [6, 6, 5, 4, 2, 1, 1, 1, 0])[0])
        task.opened_at = _aware(opened, rng.randint(8, 11), rng.randint(0, 59))
        task.due_date = opened + timedelta(days=limits["verify_days"])
        task.decide_by = opened + timedelta(days=limits["decide_days"])
        for w in by_task.get(task.pk, []):
            w.created_at = task.opened_at
            warnings.append(w)
    VerificationTask.objects.bulk_update(open_tasks, ["opened_at", "due_date", "decide_by"], 500)
    EarlyWarning.objects.bulk_update(warnings, ["created_at"], 500)


def _monitored_risks(rng: random.Random, today: date, verifiers: dict[str, list]) -> dict:
    """Each 监测对象 whose risk is not eliminated and that has no open risk point gets the one it was identified
    for, recorded by its village's clerk (or the town station); returns how many each of them recorded."""
    with_risk = RiskPoint.objects.filter(state=RiskPoint.State.OPEN).values("household_id")
    households = list(
        Household.objects.filter(cancelled=False)
        .exclude(monitoring_type="")
        .exclude(monitoring_state=MonitoringState.ELIMINATED)
        .exclude(pk__in=with_risk)
        .order_by("pk")
        .values_list("pk", "region_id", "identified_month")
    )
    rows, counts = [], {}
    for pk, village, month in households:
        clerks = [u for u in verifiers.get(village, []) if u.role == "village_clerk"]
        actor = (clerks or verifiers.get(village[:9] + "000", []) or [None])[0]
        month = month or f"{today:%Y%m}"
        found = date(int(month[:4]), int(month[4:6]), rng.randint(1, 28))
        found = min(found, today - timedelta(days=rng.randint(20, 60)))
        deadline = max(today + timedelta(days=rng.randint(-10, 120)), found + timedelta(days=30))
        risk_type = rng.choice(MONITORED_RISKS)
        rows.append(
            RiskPoint(
                household_id=pk,
                region_code=village,
                risk_type=risk_type,
                channel=Channel.CADRE,
                found_on=found,
                deadline=deadline,
                description=f"认定为监测对象时登记的风险（{RiskType(risk_type).label}），帮扶措施落实中",
                created_by=actor,
            )
        )
        counts[actor] = counts.get(actor, 0) + 1
    RiskPoint.objects.bulk_create(rows, 500)
    return counts
