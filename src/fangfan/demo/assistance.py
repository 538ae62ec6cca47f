"""The demo's 帮扶措施: risk points of 桃溪镇's monitored households (东风村's first), registered as an inspection or a cadre found
them, with measures in every state (计划, 落实中, 已落实, 未落实), one risk point closed by the town station, one
waiting for its confirmation, and a 不享受政策 household's approved exception (M8). Written through the services
(so audited like real work), from the generator's seeded random numbers: the same seed gives the same data."""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db.models import Case, Q, When

from fangfan.accounts.models import User
from fangfan.assistance import services
from fangfan.core.scoping import unscoped_reads
from fangfan.monitoring.choices import Channel
from fangfan.regions.codes import code_range
from fangfan.registry.choices import ExitedClass, MonitoringState
from fangfan.registry.models import Household

from .accounts import DONGFENG, TAOXI

# risk type → the measures that suit it (catalogue codes), the first one carried out first.
_PLANS = {
    "illness": ("medical_aid", "insurance_subsidy", "charity_fund"),
    "employment": ("labour_export", "skills_training", "public_job"),
    "schooling": ("yulu_plan", "education_aid"),
    "labour": ("public_job", "dibao"),
    "disability": ("disability_subsidy", "public_job"),
    "accident": ("temporary_aid", "emergency_fund"),
}
_CHANNELS = (Channel.CADRE, Channel.INSPECTION, Channel.CITY, Channel.SELF_REPORT)
_DESCRIPTIONS = {
    "illness": "家庭成员患大病住院，自付医疗费用较高",
    "employment": "主要劳动力返乡，务工收入中断",
    "schooling": "子女上高中、大学，教育支出增加",
    "labour": "家中主要劳动力年老体弱，缺劳动力",
    "disability": "家庭成员新办残疾证，劳动能力下降",
    "accident": "户主意外受伤，暂时无法务工",
}


@unscoped_reads()  # demo generation: the operator's system work
def demo_assistance(*, rng: random.Random, today: date, households: int = 12) -> dict[str, int]:
    """Risk points and measures for up to ``households`` monitored households of 桃溪镇; returns what was made."""
    station = User.objects.filter(username="taoxi_station").first()
    village_clerk = User.objects.filter(username="dongfeng_clerk").first()
    if station is None or village_clerk is None:
        return {}
    made = {"risks": 0, "measures": 0, "closed": 0, "exceptions": 0}
    lo, hi = code_range(TAOXI)
    monitored = list(
        Household.objects.filter(region_id__gte=lo, region_id__lt=hi, cancelled=False)
        .filter(Q(monitoring_state=MonitoringState.MONITORING) | Q(exited_class=ExitedClass.MONITORED))
        .exclude(exited_class=ExitedClass.NOT_ENJOYING)
        .order_by(Case(When(region_id=DONGFENG, then=0), default=1), "pk")[:households]
    )
    kinds = list(_PLANS)
    requested = False
    for n, household in enumerate(monitored):
        # The village clerk works in 东风村 only; elsewhere the town station records for the village.
        clerk = village_clerk if household.region_id == DONGFENG else station
        risk_type = kinds[n % len(kinds)]
        found = today - timedelta(days=rng.randint(35, 150))
        risk = services.risk_register(
            household=household,
            actor=clerk if n % 2 else station,
            risk_type=risk_type,
            channel=_CHANNELS[n % len(_CHANNELS)],
            found_on=found,
            description=_DESCRIPTIONS[risk_type],
        )
        made["risks"] += 1
        if n == len(monitored) - 1:
            continue  # one risk point a month old with no measure yet: the doubt shows it
        for k, code in enumerate(_PLANS[risk_type]):
            planned = found + timedelta(days=rng.randint(7, 40) + 15 * k)
            measure = services.measure_create(
                household=household,
                actor=clerk,
                measure=code,
                risk=risk,
                planned_on=planned,
                amount=rng.choice((None, 500, 1200, 3000)) if k else None,
                responsible=clerk.full_name,
            )
            made["measures"] += 1
            # The first measure of most households is carried out; the others are on their way, or failed.
            step = (n + k) % 5 if k else (0 if n % 4 else 3)
            if step == 0 and planned <= today:
                services.measure_progress(
                    measure=measure, actor=station, state="done", done_on=min(planned, today)
                )
            elif step == 1:
                services.measure_progress(measure=measure, actor=clerk, state="in_progress", note="正在办理")
            elif step == 2:
                services.measure_progress(
                    measure=measure, actor=clerk, state="failed", note="农户暂不愿外出，改为就近安排"
                )
        carried_out = risk.measures.filter(state="done").exists()
        if carried_out and not requested and clerk == village_clerk:
            # The village asks the town to close it (待镇确认).
            services.risk_close(
                risk=risk, actor=clerk, closed_on=today - timedelta(days=1), note="收入恢复稳定，申请消除"
            )
            requested = True
        elif carried_out and n % 3 == 1:
            services.risk_close(
                risk=risk, actor=station, closed_on=today - timedelta(days=3), note="措施落实到位，风险已消除"
            )
            made["closed"] += 1
    # M8: a 不享受政策 household hit by a disaster, its exception approved by the town station, then a subsidy.
    clerk = village_clerk
    rich = (
        Household.objects.filter(region_id=DONGFENG, cancelled=False, exited_class=ExitedClass.NOT_ENJOYING)
        .order_by("pk")
        .first()
    )
    if rich is not None:
        exception = services.exception_request(
            household=rich,
            actor=clerk,
            cause="disaster",
            problem="housing",
            reason="暴雨致房屋倒塌，家庭无力自行重建",
        )
        services.exception_decide(exception=exception, actor=station, approve=True, note="经核实，同意")
        services.measure_create(
            household=rich,
            actor=clerk,
            measure="housing_renovation",
            planned_on=today + timedelta(days=30),
            amount=20000,
            exception=exception,
        )
        made["exceptions"] += 1
        made["measures"] += 1
    return made
