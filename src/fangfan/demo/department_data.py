"""Department batches for the demo town: one realistic file per source (医保 settlements, 民政's new 低保, 残联's
certificates, 教育's dropouts, 住建's appraisals, 水利's checks, 应急's flood victims, 人社's unemployment and
returns, 公安's deaths and births, and the exclusion checks), generated from the demo registry and imported with
``department_import`` exactly as a department would upload them — each file with a few rows that match nobody and
a few names typed differently, so the unmatched download and the name flags have something to show.

``demo_department_batches(seed=...)`` is called by ``fangfan demo`` after the registry is generated; same seed,
same files. Uploaded by the demo department accounts (``dept_medical`` …) when they exist, else by the system.
"""

from __future__ import annotations

import csv
import random
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.utils import timezone

from fangfan.core.scoping import unscoped_reads
from fangfan.monitoring.choices import Source
from fangfan.monitoring.department import BatchSummary, department_import
from fangfan.regions.codes import code_range
from fangfan.registry.choices import WITH_LABOUR
from fangfan.registry.idnumber import check_digit
from fangfan.registry.models import Member

UPLOADERS = {
    Source.MEDICAL: "dept_medical",
    Source.CIVIL: "dept_civil",
    Source.DISABILITY: "dept_disability",
    Source.EDUCATION: "dept_education",
    Source.HOUSING: "dept_housing",
    Source.WATER: "dept_water",
    Source.DISASTER: "dept_disaster",
    Source.EMPLOYMENT: "dept_employment",
    Source.REGISTRY: "dept_police",
    Source.EXCLUSION: "taoxi_station",
}
TOWN = "341523104000"  # 桃溪镇
UNMATCHED_SHARE = 0.03
MISMATCH_SHARE = 0.01


class _Pool:
    """The demo registry as light tuples (no ID numbers decrypted until a member is picked)."""

    def __init__(self, rng: random.Random, today: date):
        self.rng = rng
        self.today = today
        fields = ("id", "household_id", "birth_date", "serious_illness", "chronic_illness", "disabled",
                  "school_status", "labour_skill", "migrant_months", "is_head", "dibao", "household__region_id")  # fmt: skip
        self.members = list(
            Member.objects.filter(status=Member.Status.ACTIVE, household__cancelled=False)
            .order_by("id")
            .values_list(*fields)
        )
        self.index = {name: i for i, name in enumerate(fields)}

    def age(self, row) -> int:
        born = row[self.index["birth_date"]]
        return self.today.year - born.year - ((self.today.month, self.today.day) < (born.month, born.day))

    def pick(
        self, count: int, where: Callable[[tuple], bool], weight: Callable[[tuple], float] | None = None
    ):
        candidates = [m for m in self.members if where(m)]
        if not candidates:
            return []
        count = min(count, len(candidates))
        if weight is None:
            return self.rng.sample(candidates, count)
        chosen: dict[int, tuple] = {}
        weights = [weight(m) for m in candidates]
        for row in self.rng.choices(candidates, weights, k=count * 3):
            chosen.setdefault(row[0], row)
            if len(chosen) >= count:
                break
        return list(chosen.values())

    def field(self, row, name: str):
        return row[self.index[name]]


def _fake_id(rng: random.Random) -> str:
    """A valid ID number of a neighbouring county that the demo registry does not hold."""
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 60))
    first17 = f"341522{born:%Y%m%d}{rng.randrange(0, 999):03d}"
    return first17 + check_digit(first17)


def _typo(name: str, rng: random.Random) -> str:
    return name[:-1] + rng.choice("明华伟芳强军") if len(name) > 1 else name + "某"


def _day(rng: random.Random, today: date, within: int = 90) -> str:
    return (today - timedelta(days=rng.randrange(1, within))).isoformat()


def _rows(pool: _Pool, source: str, rng: random.Random, today: date, scale: float) -> list[dict]:
    """The rows of one source's file: (member row, extra columns) before ID numbers and names are filled in."""
    n = lambda share: max(3, int(len(pool.members) * share * scale))  # noqa: E731
    f = pool.field
    picked: list[tuple[tuple, dict]] = []
    if source == Source.MEDICAL:
        for m in pool.pick(n(0.02), lambda m: True, lambda m: 8 if f(m, "serious_illness") else
                           (3 if f(m, "chronic_illness") or pool.age(m) > 60 else 1)):  # fmt: skip
            heavy = f(m, "serious_illness") or rng.random() < 0.12
            paid = Decimal(rng.randrange(6500, 30000) if heavy else rng.randrange(200, 5500))
            total = (paid * Decimal(rng.choice(["2.5", "3", "4", "5"]))).quantize(Decimal("1"))
            picked.append(
                (m, {"结算日期": _day(rng, today), "医疗总费用": str(total), "个人自付金额": str(paid)})
            )
    elif source == Source.CIVIL:
        for m in pool.pick(n(0.004), lambda m: f(m, "is_head")):
            kind = rng.choices(["低保", "特困", "临时救助"], [6, 1, 3])[0]
            status = rng.choices(["新增", "在保", "停保"], [5, 4, 1])[0]
            picked.append((m, {"救助类型": kind, "状态": status, "日期": _day(rng, today)}))
    elif source == Source.DISABILITY:
        for m in pool.pick(n(0.002), lambda m: pool.age(m) > 20, lambda m: 5 if f(m, "disabled") else 1):
            picked.append((m, {"残疾类别": rng.choice(["肢体", "视力", "听力", "智力", "精神"]),
                               "残疾等级": rng.choice(["一级", "二级", "三级", "四级"]),
                               "发证日期": _day(rng, today, 180)}))  # fmt: skip
    elif source == Source.EDUCATION:
        for m in pool.pick(n(0.003), lambda m: 6 <= pool.age(m) <= 15):
            status = rng.choices(["在读", "辍学", "失学"], [10, 2, 1])[0]
            stage = "小学" if pool.age(m) < 12 else "七至九年级"
            picked.append((m, {"学段": stage, "状态": status, "日期": _day(rng, today)}))
    elif source == Source.HOUSING:
        for m in pool.pick(n(0.003), lambda m: f(m, "is_head")):
            picked.append(
                (m, {"鉴定等级": rng.choices("ABCD", [5, 4, 2, 1])[0], "鉴定日期": _day(rng, today, 180)})
            )
    elif source == Source.WATER:
        for m in pool.pick(n(0.003), lambda m: f(m, "is_head")):
            safe = rng.random() < 0.8
            reason = (
                "" if safe else rng.choice(["水量不足", "水质不达标", "取水不便（超过20分钟）", "季节性断水"])
            )
            picked.append((m, {"饮水安全": "是" if safe else "否", "原因": reason, "日期": _day(rng, today)}))
    elif source == Source.DISASTER:
        flooded = {f(m, "household_id") for m in pool.pick(max(3, n(0.002)), lambda m: f(m, "is_head"))}
        for m in [m for m in pool.members if f(m, "household_id") in flooded and f(m, "is_head")]:
            loss = rng.choice(["", str(rng.randrange(2000, 40000))])
            picked.append((m, {"灾害类型": rng.choice(["洪涝", "洪涝", "气象"]), "受灾日期": _day(rng, today, 60),
                               "损失金额": loss}))  # fmt: skip
    elif source == Source.EMPLOYMENT:
        working = lambda m: 18 <= pool.age(m) <= 60 and (f(m, "migrant_months") or 0) > 0  # noqa: E731
        for m in pool.pick(n(0.008), working):
            picked.append(
                (m, {"状态": rng.choices(["失业", "返乡", "就业"], [2, 3, 5])[0], "日期": _day(rng, today)})
            )
    elif source == Source.REGISTRY:
        for m in pool.pick(
            n(0.002),
            lambda m: pool.age(m) > 40,
            lambda m: 4 if pool.age(m) > 75 else (2 if f(m, "labour_skill") in WITH_LABOUR else 1),
        ):
            picked.append((m, {"事件": rng.choices(["死亡", "迁出"], [3, 1])[0], "日期": _day(rng, today)}))  # fmt: skip
    elif source == Source.EXCLUSION:
        lo, hi = code_range(TOWN)  # uploaded by 桃溪镇's station: its own households
        for m in pool.pick(
            n(0.002), lambda m: 22 <= pool.age(m) <= 65 and lo <= f(m, "household__region_id") < hi
        ):
            kind = rng.choice(["车辆", "房产", "工商登记", "公职人员", "存款"])
            note = {"车辆": "小型轿车1辆", "房产": "县城商品房1套", "工商登记": "个体工商户（餐饮）",
                    "公职人员": "财政供养人员", "存款": "存款余额超过10万元"}[kind]  # fmt: skip
            picked.append((m, {"比对类型": kind, "说明": note}))
    return picked


FILE_NAMES = {
    Source.MEDICAL: "医保结算数据_{month}.csv",
    Source.CIVIL: "民政救助对象_{month}.csv",
    Source.DISABILITY: "残联新办证_{month}.csv",
    Source.EDUCATION: "教育控辍保学_{month}.csv",
    Source.HOUSING: "住建危房鉴定_{month}.csv",
    Source.WATER: "水利饮水安全核查_{month}.csv",
    Source.DISASTER: "应急受灾人员_{month}.csv",
    Source.EMPLOYMENT: "人社失业返乡_{month}.csv",
    Source.REGISTRY: "公安户籍变动_{month}.csv",
    Source.EXCLUSION: "比对排除_{month}.csv",
}


@unscoped_reads()  # demo generation: the operator's system work
def demo_department_batches(
    *, seed: int, scale: float = 1.0, today: date | None = None
) -> list[BatchSummary]:
    """Generate and import one batch per department source for the demo registry; returns their summaries.
    ``scale`` multiplies the number of rows (1.0: a realistic month for the demo town)."""
    today = today or timezone.localdate()
    rng = random.Random(seed * 7919 + 4)
    pool = _Pool(rng, today)
    if not pool.members:
        return []
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=UPLOADERS.values(), is_active=True)}
    names = dict(Member.objects.filter(status=Member.Status.ACTIVE).values_list("id", "name"))
    month = f"{today:%Y年%m月}"
    summaries: list[BatchSummary] = []
    with tempfile.TemporaryDirectory() as tmp:
        for source in UPLOADERS:
            picked = _rows(pool, source, rng, today, scale)
            wanted = [m[0] for m, _ in picked]
            ids: dict[int, str] = {}
            for start in range(0, len(wanted), 5000):
                chunk = wanted[start : start + 5000]
                ids.update(Member.objects.filter(pk__in=chunk).values_list("id", "id_number"))
            rows = []
            for member, extra in picked:
                name = names.get(member[0], "")
                if rng.random() < MISMATCH_SHARE:
                    name = _typo(name, rng)
                rows.append({"证件号码": ids[member[0]], "姓名": name, **extra})
            for _ in range(max(1, int(len(rows) * UNMATCHED_SHARE))):
                template = dict(rows[rng.randrange(len(rows))]) if rows else {}
                template.update({"证件号码": _fake_id(rng), "姓名": _typo("外县人员", rng)})
                rows.append(template)
            rng.shuffle(rows)
            path = Path(tmp) / FILE_NAMES[source].format(month=month)
            headers: list[str] = []
            for row in rows:
                headers += [k for k in row if k not in headers]
            with path.open("w", newline="", encoding="utf-8-sig") as out:
                writer = csv.writer(out)
                writer.writerow(headers)
                writer.writerows([[row.get(h, "") for h in headers] for row in rows])
            uploader = users.get(UPLOADERS[source])
            summaries.append(
                department_import(
                    source=source,
                    path=path,
                    actor=uploader or User.objects.cli_account("demo"),
                    channel="web" if uploader else "cli",
                    display_name=path.name,
                )
            )
    return summaries
