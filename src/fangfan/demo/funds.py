"""The demo's 资金 and 消费帮扶 for 桃溪镇: a 镇慈善关爱基金 and a 救急难基金 with receipts, paid and pending requests
(one approved and waiting for payment, one waiting for the 镇领导小组), one reversal (冲正), a 先行救助 for a household
not yet identified; and products and sales over the last months for a dozen households. Written through the
services (audited like real work), from the generator's seeded random numbers: the same seed, the same data."""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db.models import Q

from fangfan.accounts.models import User
from fangfan.assistance import consumption, funds
from fangfan.assistance.choices import ProductCategory, SalesChannel
from fangfan.assistance.models import Measure
from fangfan.core.scoping import unscoped_reads
from fangfan.regions.codes import code_range
from fangfan.registry.choices import ExitedClass, HouseholdType
from fangfan.registry.models import Household

from .accounts import DONGFENG, TAOXI

_DONORS = ("县慈善总会", "舒城县某茶业有限公司捐赠", "县财政拨付", "在外乡贤捐赠")
_PRODUCTS = (
    (ProductCategory.TEA, "舒城小兰花", "斤", "4—5月", (300, 600)),
    (ProductCategory.RICE, "高山大米", "斤", "10—11月", (4, 6)),
    (ProductCategory.EGGS, "土鸡蛋", "枚", "全年", (1, 2)),
    (ProductCategory.POULTRY, "散养土鸡", "只", "全年", (80, 120)),
    (ProductCategory.VEGETABLES, "有机蔬菜", "斤", "全年", (3, 6)),
    (ProductCategory.MOUNTAIN, "山核桃", "斤", "9—10月", (30, 45)),
)
_BUYERS = {
    SalesChannel.CANTEEN: ("县人民医院食堂", "县政府机关食堂", "桃溪中学食堂"),
    SalesChannel.ONLINE: ("832 平台", "本地电商服务站"),
    SalesChannel.FAIR: ("县消费帮扶展销会",),
    SalesChannel.WORKSHOP: ("桃溪镇帮扶车间",),
    SalesChannel.SUPERMARKET: ("县城某超市",),
    SalesChannel.OTHER: ("个人订购",),
}


@unscoped_reads()  # demo generation: the operator's system work
def demo_funds(*, rng: random.Random, today: date) -> dict[str, int]:
    """Funds, requests and sales for 桃溪镇; returns what was made (nothing without the demo's accounts)."""
    station = User.objects.filter(username="taoxi_station").first()
    leader = User.objects.filter(username="taoxi_leader").first()
    clerk = User.objects.filter(username="dongfeng_clerk").first()
    if station is None or leader is None or clerk is None:
        return {}
    made = {"funds": 0, "entries": 0, "requests": 0, "sales": 0}
    charity = funds.fund_create(actor=station, name="桃溪镇慈善关爱基金", kind="charity", region_code=TAOXI)
    emergency = funds.fund_create(actor=station, name="桃溪镇救急难基金", kind="emergency", region_code=TAOXI)
    made["funds"] = 2
    for fund, amounts in ((charity, (50000, 20000, 8000)), (emergency, (30000, 10000))):
        for k, amount in enumerate(amounts):
            funds.fund_receive(
                actor=station,
                fund=fund,
                amount=amount,
                day=today - timedelta(days=150 - 40 * k),
                voucher=f"收{today.year}-{fund.pk:02d}{k + 1:03d}",
                source=_DONORS[(k + fund.pk) % len(_DONORS)],
            )
            made["entries"] += 1
    lo, hi = code_range(TAOXI)
    town = Household.objects.filter(region_id__gte=lo, region_id__lt=hi, cancelled=False)
    # Requests for the measures of 慈善关爱基金 / 救急难基金 the demo recorded, else for identified households.
    measures = list(
        Measure.objects.filter(measure_type__category__in=("charity", "emergency"), region_code__gte=lo)
        .filter(region_code__lt=hi)
        .exclude(state="failed")
        .exclude(household__exited_class=ExitedClass.NOT_ENJOYING)
        .select_related("household", "measure_type")
        .order_by("pk")[:6]
    )
    identified = list(
        town.filter(Q(household_type=HouseholdType.EXITED) | ~Q(monitoring_type=""))
        .exclude(exited_class=ExitedClass.NOT_ENJOYING)
        .order_by("pk")[:8]
    )
    cases = [(m.household, m) for m in measures] + [(h, None) for h in identified]
    paid = []
    cases = cases[:8]
    last = len(cases) - 1
    for n, (household, measure) in enumerate(cases):
        fund = emergency if measure is not None and measure.measure_type.category == "emergency" else charity
        actor = clerk if household.region_id == DONGFENG else station
        req = funds.fund_request(
            actor=actor,
            fund=fund,
            household=household,
            measure=measure,
            amount=rng.choice((1000, 1500, 2000, 3000, 5000)),
            reason=("家庭成员患大病住院，自付费用较高", "意外受伤暂时无法务工", "子女上学费用困难")[n % 3],
        )
        made["requests"] += 1
        if n == last:
            continue  # waits for the 镇领导小组
        if n == last - 2:
            funds.fund_decide(actor=leader, request=req, approve=False, note="已享受医疗救助，暂不重复救助")
            continue
        funds.fund_decide(actor=leader, request=req, approve=True, note="同意")
        if n == last - 1:
            continue  # approved, waiting for the town station to pay
        paid.append(
            funds.fund_pay(
                actor=station,
                request=req,
                day=today,  # requests are dated today (auto_now_add): no payment before its request
                voucher=f"付{today.year}-{n + 1:03d}",
            )
        )
    if paid:
        funds.fund_reverse(
            actor=station,
            entry=paid[0],
            day=today,
            voucher=f"冲{today.year}-001",
            reason="收款账户有误，退回后重新支付",
        )
    # 先行救助: a household not identified yet, helped by the 救急难基金 within the limit.
    general = town.filter(household_type=HouseholdType.GENERAL, monitoring_type="").order_by("pk").first()
    if general is not None:
        req = funds.fund_request(
            actor=station, fund=emergency, household=general, amount=2000, reason="突发火灾，先行救助"
        )
        funds.fund_decide(actor=leader, request=req, approve=True, note="先行救助，同意")
        funds.fund_pay(actor=station, request=req, day=today, voucher=f"付{today.year}-100")
        made["requests"] += 1
    made["sales"] = _demo_sales(rng=rng, today=today, town=town, station=station, clerk=clerk)
    return made


def _demo_sales(*, rng: random.Random, today: date, town, station, clerk) -> int:
    households = list(
        town.filter(Q(household_type=HouseholdType.EXITED) | ~Q(monitoring_type="")).order_by("pk")[:12]
    )
    channels = list(SalesChannel.values)
    sales = 0
    for n, household in enumerate(households):
        actor = clerk if household.region_id == DONGFENG else station
        category, name, unit, season, (low, high) = _PRODUCTS[n % len(_PRODUCTS)]
        product = consumption.product_add(
            actor=actor,
            household=household,
            category=category,
            name=name,
            unit=unit,
            available=rng.randint(200, 800) if high > 20 else rng.randint(1000, 3000),
            season=season,
        )
        for k in range(rng.randint(2, 5)):
            available = product.available
            quantity = min(available, rng.randint(5, 60) if high > 20 else rng.randint(50, 400))
            if quantity <= 0:
                break
            channel = channels[(n + k) % (len(channels) - 1)]
            consumption.sale_record(
                actor=actor,
                product=product,
                channel=channel,
                buyer=rng.choice(_BUYERS[channel]),
                quantity=quantity,
                amount=quantity * rng.randint(low, high),
                day=today - timedelta(days=rng.randint(1, 150)),
            )
            sales += 1
    return sales
