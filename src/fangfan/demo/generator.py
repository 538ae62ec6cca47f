"""The synthetic town: a deterministic, realistic registry for demos and benchmarks (``fangfan demo``).

``demo_generate`` loads the demo region fixture (舒城县 with 桃溪镇 and 千人桥镇), adds villages and towns when
more households are asked for than the fixture's 13 villages hold at a realistic size, and fills them with
households and members whose ages, relations, ID numbers, names, schooling, health, work, income, insurance,
housing and water look like a county in central Anhui. The derived figures (家庭人口, 家庭纯收入, 年人均纯收入,
三保障 flags, the classification suggestion) come from ``registry.derive.derive`` with the region's policy
values — the same function the importer and the edit forms use — and the official statuses (脱贫户分类,
监测对象类型, 监测状态) are set the way a county's records look: mostly in line with the suggestion, not always.

Same seed, same data (within a school year: ages are counted on 1 September, as the registry counts them).
Rows go in through the database's fast path (``demo.bulk``): 250 000 households in a few minutes.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from fangfan.assistance.models import ContactRecord
from fangfan.core import audit
from fangfan.core.errors import DomainError
from fangfan.core.models import AuditEvent
from fangfan.core.scoping import unscoped_reads
from fangfan.regions.models import Region
from fangfan.regions.services import regions_import
from fangfan.registry.models import HelperAssignment, Household, Member

from . import bulk
from .accounts import DemoAccount, demo_users_create
from .assistance import demo_assistance
from .funds import demo_funds
from .households import Progress, _TownBuilder
from .villages import COUNTY_CODE, _plan_villages

if TYPE_CHECKING:
    from fangfan.accounts.models import User

DEFAULT_HOUSEHOLDS = 6000
DEFAULT_SEED = 2026
AUDIT_ACTION = "demo.generated"

FIXTURE = Path(__file__).resolve().parents[1] / "regions" / "fixtures" / "demo_regions.csv"

# A village of the demo holds about this many households; more households mean more villages.


@dataclass
class DemoSummary:
    """What was generated (or found): counts a person checks at a glance, and how long it took."""

    seed: int
    households: int
    members: int
    towns: int
    villages: int
    exited: int
    marginal: int
    monitoring: int
    below_line: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    accounts: list[DemoAccount] = field(default_factory=list)
    created: bool = True

    def as_dict(self) -> dict:
        return {
            "seed": self.seed,
            "households": self.households,
            "members": self.members,
            "towns": self.towns,
            "villages": self.villages,
            "exited": self.exited,
            "marginal": self.marginal,
            "monitoring": self.monitoring,
            "below_line": self.below_line,
            "seconds": round(self.seconds, 1),
            "timings": {k: round(v, 1) for k, v in self.timings.items()},
        }


def demo_existing() -> dict | None:
    """The record of the demo data already in the database (``demo.generated``), or None."""
    event = AuditEvent.objects.filter(action=AUDIT_ACTION).order_by("-id").only("after").first()
    return (event.after or {}) if event else None


@unscoped_reads()  # demo generation: the operator's system work
def demo_generate(
    *,
    households: int = DEFAULT_HOUSEHOLDS,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
    actor: User,
    today: date | None = None,
) -> DemoSummary:
    """Build the demo town: regions, ``households`` households with their members, and the demo accounts.

    All in one transaction; refuses to run on a database that already holds households (demo or real)."""
    if households < 1:
        raise DomainError("演示农户数应至少为 1")
    if demo_existing() is not None:
        raise DomainError("演示数据已存在")
    if Household.objects.exists():
        raise DomainError("数据库中已有农户数据，不能在其上生成演示数据；请使用新的数据目录或数据库")
    started = time.perf_counter()
    today = today or timezone.localdate()
    rng = random.Random(seed)
    report = progress or (lambda *args, **kwargs: None)
    with transaction.atomic():
        regions_import(path=FIXTURE, actor=actor, display_name="demo_regions.csv")
        villages = _plan_villages(households, rng, actor)
        builder = _TownBuilder(rng=rng, today=today)
        with bulk.indexes_deferred(Household, Member):
            stats = builder.build(villages, households, report)
            report(households, households, "建立索引")
        accounts = demo_users_create()
        _assign_helpers(accounts, rng, today)
        demo_assistance(rng=random.Random(seed * 7919 + 18), today=today)
        demo_funds(rng=random.Random(seed * 7919 + 20), today=today)
        summary = DemoSummary(
            seed=seed,
            households=stats["households"],
            members=stats["members"],
            towns=len({v.town_code for v in villages}),
            villages=len(villages),
            exited=stats["exited"],
            marginal=stats["marginal"],
            monitoring=stats["monitoring"],
            below_line=stats["below_line"],
            seconds=0.0,
            accounts=accounts,
            timings={"generate": stats["build_seconds"], "insert": stats["insert_seconds"]},
        )
        summary.seconds = time.perf_counter() - started
        audit.record(
            actor,
            AUDIT_ACTION,
            object_type="demo",
            object_label="演示数据",
            region_code=COUNTY_CODE,
            after=summary.as_dict(),
            note=f"生成演示数据：{summary.households} 户、{summary.members} 人",
        )
    committed = time.perf_counter()
    summary.timings["finish"] = committed - started - sum(summary.timings.values())
    report(stats["households"], households, "更新统计信息")
    bulk.analyze(Region, Household, Member, HelperAssignment)
    summary.seconds = time.perf_counter() - started
    summary.timings["analyze"] = summary.seconds - (committed - started)
    return summary


def _assign_helpers(accounts: list[DemoAccount], rng: random.Random, today: date) -> None:
    """Each demo 帮扶责任人/联系人 looks after the exited and at-risk households of their village, named over the
    last two years — all but about one in twenty, so that the town's panel shows some households still 未落实."""
    from fangfan.accounts.models import User
    from fangfan.accounts.roles import Role
    from fangfan.registry.filters import needs_helper_q

    helpers = User.objects.filter(
        username__in=[a.username for a in accounts if a.role == Role.HELPER], role=Role.HELPER
    )
    rows = []
    contacts: list[ContactRecord] = []
    for helper in helpers:
        needing = Household.objects.filter(region_id=helper.region_id, cancelled=False).filter(
            needs_helper_q()
        )
        for pk in needing.order_by("pk").values_list("pk", flat=True):
            if rng.random() < 0.05:
                continue
            started = today - timedelta(days=rng.randint(120, 730))
            rows.append(HelperAssignment(household_id=pk, helper=helper, started_on=started))
            contacts += _demo_contacts(pk, helper, rng, today)
    HelperAssignment.objects.bulk_create(rows, batch_size=2000)
    ContactRecord.objects.bulk_create(contacts, batch_size=2000)


_LIVING = (
    "家中一切正常，务工收入稳定",
    "子女在外务工，老人在家种植水稻",
    "户主在县城打零工，收入尚可",
    "今年茶叶收成较好",
    "老人身体尚可，低保按月发放",
    "孩子在镇中学就读，享受教育资助",
)
_NEEDS = ("", "", "", "希望介绍就近务工岗位", "咨询大病医疗报销政策", "希望帮助销售农产品")
_WAYS = ("visit", "phone", "phone", "wechat", "visit", "video", "sms")


def _demo_contacts(household_pk: int, helper, rng: random.Random, today: date) -> list[ContactRecord]:
    """The contact's monthly contacts over the last three months, and this month's for about half of them."""
    out = []
    first = today.replace(day=1)
    for back in (3, 2, 1, 0):
        month = first
        for _ in range(back):
            month = (month - timedelta(days=1)).replace(day=1)
        last_day = (today - month).days if back == 0 else 27
        if rng.random() > (0.5 if back == 0 else 0.92) or last_day < 0:
            continue
        out.append(
            ContactRecord(
                household_id=household_pk,
                contacted_on=month + timedelta(days=rng.randint(0, max(0, last_day))),
                way=rng.choice(_WAYS),
                living=rng.choice(_LIVING),
                risks="未发现新的风险",
                needs=rng.choice(_NEEDS),
                recorded_by=helper,
            )
        )
    return out
