"""The demo's approval cases (issue 19): households of 东风村 (and 桃溪镇) at several steps of every process, so that
each acting role's 我的待办 has work at first login — the village clerk (入户核查, 民主评议, 村内公示, 村级填报), the
town station (信息比对, 乡镇审核, 镇审查), the town leader (镇领导小组审核), the county (县级审定, 市县审核) and the
province (省级备案). The generated town has no 脱贫不稳定户 meeting every elimination condition, so one or two whose
only gaps are an open risk point or no measure carried out are made eligible as a town station would (a measure
carried out, the risk point closed) and their 风险消除 walked to 省级备案 / 市县审核. Written through the services, so
audited like real work; the same seed picks the same households."""

from __future__ import annotations

import random
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.utils import timezone

from fangfan.accounts.models import User
from fangfan.core.errors import DomainError
from fangfan.core.scoping import unscoped_reads
from fangfan.regions.codes import code_range
from fangfan.registry.models import Household
from fangfan.workflows import conditions, services
from fangfan.workflows.models import Case

from .accounts import DONGFENG, TAOXI

_CONSENT = b"%PDF-1.4\n% demo consent\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _data(case: Case) -> dict:
    today = timezone.localdate()
    visit = {"visited_on": today.isoformat(), "finding": "入户核实，情况属实"}
    meeting = {"meeting_on": today.isoformat(), "attendees": 11, "agreed": True}
    notice = {
        "notice_from": (today - timedelta(days=6)).isoformat(),
        "notice_to": today.isoformat(),
        "objections": "无",
    }
    return {
        "入户核查": visit,
        "民主评议": meeting,
        "村内公示": notice,
        "村级填报": {**visit, **meeting, **notice},
    }.get(case.current_step.data_schema, {})


def _walk(case: Case, users: dict, to: str) -> Case:
    while case.state == "open" and case.current_step.name != to:
        step = case.current_step
        actor = users[step.role]
        if step.data_schema == "承诺授权" and not case.attachments.exists():
            upload = SimpleUploadedFile("承诺授权书.pdf", _CONSENT, content_type="application/pdf")
            services.case_attach(case=case, actor=actor, kind="consent", upload=upload)
        case = services.case_act(case=case, actor=actor, action="approve", data=_data(case), comment="同意")
    return case


# What the demo can make true through the assistance services: close a household's risk points after carrying out
# a measure. A household failing anything else (income, 三保障, labour, months monitored) is not picked.
_FIXABLE = {conditions.risks_all_closed, conditions.measure_carried_out}


def _made_eligible(candidates: list[Household], station: User, today, *, wanted: int = 2) -> list[Household]:
    """Up to ``wanted`` households whose only unmet elimination conditions are open risk points or no measure
    carried out, made eligible as a town station would: a measure for each open risk point carried out, then the
    risk point closed (assistance's services, audited)."""
    from fangfan.assistance import services as assistance
    from fangfan.monitoring.models import RiskPoint

    made = []
    for hh in candidates:
        facts = conditions.elimination_facts(hh, today=today)
        if any(not check(facts).met for check in conditions.CONDITIONS if check not in _FIXABLE):
            continue
        risks = list(RiskPoint.objects.filter(household=hh, state__in=RiskPoint.UNRESOLVED).order_by("pk"))
        try:
            for risk in risks:
                if not risk.measures.filter(state="done").exists():
                    measure = assistance.measure_create(
                        household=hh, actor=station, measure="public_job", risk=risk, planned_on=today
                    )
                    assistance.measure_progress(measure=measure, actor=station, state="done", done_on=today)
                assistance.risk_close(
                    risk=risk, actor=station, closed_on=today, note="措施落实到位，收入稳定，风险已消除"
                )
            if not risks and not facts.measures_done:
                measure = assistance.measure_create(
                    household=hh, actor=station, measure="public_job", planned_on=today
                )
                assistance.measure_progress(measure=measure, actor=station, state="done", done_on=today)
        except DomainError:
            continue
        made.append(hh)
        if len(made) == wanted:
            break
    return made


def _village_clerks(lo: str, hi: str) -> dict[str, User]:
    """The town's demo village clerks by village (东风村's, 新河村's)."""
    clerks = User.objects.filter(role="village_clerk", is_active=True, region_id__gte=lo, region_id__lt=hi)
    return {u.region_id: u for u in clerks.order_by("pk")}


def _village_clerk(region_code: str, lo: str, hi: str) -> User:
    """The village's demo clerk, or — for a village the demo has no account for — a clerk account nobody can log
    in to (no usable password), so that the village's step of a chain is done by the village, as the process says."""
    clerk = _village_clerks(lo, hi).get(region_code)
    if clerk is None:
        clerk = User.objects.create_user(
            username=f"clerk_{region_code}",
            password=None,
            role="village_clerk",
            region_id=region_code,
            full_name="村级经办（演示）",
        )
    return clerk


@unscoped_reads()  # demo generation: the operator's system work
def demo_workflows(*, seed: int) -> str:
    names = {
        "village_clerk": "dongfeng_clerk",
        "town_station": "taoxi_station",
        "town_leader": "taoxi_leader",
        "county_review": "county_review",
        "province_record": "province_record",
    }
    users = {role: User.objects.filter(username=u).first() for role, u in names.items()}
    if any(u is None for u in users.values()) or Case.objects.exists():
        return ""
    rng = random.Random(seed * 104729 + 19)
    lo, hi = code_range(TAOXI)
    town = Household.objects.filter(region_id__gte=lo, region_id__lt=hi, cancelled=False)
    village = town.filter(region_id=DONGFENG)
    free = list(village.filter(monitoring_type="").order_by("pk")[:40])
    rng.shuffle(free)
    made = 0

    def start(hh, process: str, who: str = "village_clerk", actor: User | None = None, **fields):
        nonlocal made
        try:
            case = services.case_start(
                household=hh,
                actor=actor or users[who],
                process=process,
                reason="演示：入户走访发现",
                **fields,
            )
        except DomainError:
            return None
        made += 1
        return case

    identify_at = ["入户核查", "信息比对", "民主评议", "村内公示", "村内公示", "乡镇审核", "县级审定"]
    for hh, step in zip(free, identify_at, strict=False):
        mtype = "unstable" if hh.household_type == "exited" else "marginal"
        case = start(
            hh, "identify", monitoring_type=mtype, risk_types=[rng.choice(["illness", "employment"])]
        )
        if case:
            _walk(case, users, step)
    general = [h for h in free[len(identify_at) :] if h.household_type == "general"]
    if general and (
        case := start(general[0], "identify_edge", monitoring_type="marginal", risk_types=["income"])
    ):
        _walk(case, users, "镇领导小组审核")
    monitored = list(
        town.filter(monitoring_state="monitoring").exclude(monitoring_type="").order_by("pk")[:300]
    )
    today = timezone.localdate()
    met = [
        h
        for h in monitored
        if all(c.met for c in conditions.evaluate(conditions.elimination_facts(h, today=today)))
    ]
    if not any(h.monitoring_type == "unstable" for h in met):
        # The province's 省级备案 needs a 脱贫不稳定户 meeting every condition: make one (or two) so, in a village
        # with a demo clerk first.
        clerks = _village_clerks(lo, hi)
        candidates = sorted(
            (h for h in monitored if h.monitoring_type == "unstable"),
            key=lambda h: (h.region_id not in clerks, h.pk),
        )
        met = _made_eligible(candidates, users["town_station"], today) + met
    unstable = [
        h for h in monitored if h.monitoring_type == "unstable" and h.region_id == DONGFENG and h not in met
    ]
    if unstable and (case := start(unstable[0], "eliminate")):
        pass  # 村级填报: the clerk's, with the conditions shown
    for hh, step in zip(met, ["省级备案", "市县审核"], strict=False):
        acting, first = users, users["town_station"]
        if hh.monitoring_type == "unstable":  # 村级填报: the household's village clerk
            first = _village_clerk(hh.region_id, lo, hi)
            acting = {**users, "village_clerk": first}
        if case := start(hh, "eliminate", actor=first):
            _walk(case, acting, step)
    edge = [h for h in monitored if h.monitoring_type != "unstable" and h not in met]
    if edge:
        start(edge[0], "eliminate", who="town_station")  # 镇审查并汇总填报
    exited = village.filter(household_type="exited").filter(~Q(exited_class="not_enjoying")).order_by("pk")
    for hh in exited[:1]:
        if case := start(hh, "reclassify", exited_class="not_enjoying"):
            _walk(case, users, "镇审核")
    for hh in village.filter(monitoring_state="eliminated").order_by("pk")[:1]:
        start(hh, "revert")
    return f"已生成审批事项 {made} 件（纳入监测、边缘户核查、风险消除、分类调整、回退，处在不同环节）。"
