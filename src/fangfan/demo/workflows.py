"""The demo's approval cases (issue 19): households of 东风村 (and 桃溪镇) at several steps of every process, so that
each acting role's 我的待办 has work at first login — the village clerk (入户核查, 民主评议, 村内公示, 村级填报), the
town station (信息比对, 乡镇审核, 镇审查), the town leader (镇领导小组审核), the county (县级审定, 市县审核) and the
province (省级备案, where a household meets every elimination condition). Written through the services, so audited
like real work; the same seed picks the same households."""

from __future__ import annotations

import random
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.utils import timezone

from fangfan.accounts.models import User
from fangfan.core.errors import DomainError
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

    def start(hh, process: str, who: str = "village_clerk", **fields):
        nonlocal made
        try:
            case = services.case_start(
                household=hh, actor=users[who], process=process, reason="演示：入户走访发现", **fields
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
    unstable = [
        h for h in monitored if h.monitoring_type == "unstable" and h.region_id == DONGFENG and h not in met
    ]
    if unstable and (case := start(unstable[0], "eliminate")):
        pass  # 村级填报: the clerk's, with the conditions shown
    for hh, step in zip(met, ["省级备案", "市县审核"], strict=False):
        who = (
            "village_clerk"
            if hh.monitoring_type == "unstable" and hh.region_id == DONGFENG
            else "town_station"
        )
        if who == "village_clerk" or hh.monitoring_type != "unstable":
            case = start(hh, "eliminate", who=who)
            if case:
                _walk(case, users, step)
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
