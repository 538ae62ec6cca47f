"""The demo's second stage: a town's households and members (``_TownBuilder``) — ages, relations, ID numbers, names,
schooling, health, work, income, insurance, housing and water — written through the fast path (``demo.bulk``)."""

from __future__ import annotations

import random
import time
from bisect import bisect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import accumulate
from operator import itemgetter
from types import SimpleNamespace

from django.utils import timezone

from fangfan.core.crypto import encrypt_text
from fangfan.core.masking import mask_id
from fangfan.policy.services import policy_values
from fangfan.registry.choices import (
    ExitedClass,
    HouseholdType,
    MonitoringState,
    MonitoringType,
)
from fangfan.registry.derive import MemberFacts, derive, name_initials
from fangfan.registry.idnumber import check_digit
from fangfan.registry.models import Household, Member
from fangfan.registry.services import id_index

from . import bulk, names
from .villages import _split, _Village

ID_PREFIX = "341523"
EXITED_SHARE = 0.12  # 脱贫户 among all households
MARGINAL_SHARE = 0.03  # 边缘易致贫户 among general households
SIZE_WEIGHTS = {1: 12, 2: 20, 3: 24, 4: 22, 5: 14, 6: 6, 7: 2}  # mean 3.32
FLUSH_MEMBERS = 20_000

Progress = Callable[..., None]


class _Weighted:
    """Fast repeated weighted choice from a fixed list."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs) -> None:
        self.items = [p[0] for p in pairs]
        self.cum = list(accumulate(p[1] for p in pairs))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random):
        return self.items[bisect(self.cum, rng.random() * self.total)]


SIZES = _Weighted(SIZE_WEIGHTS.items())
SURNAME_PICK = _Weighted(names.SURNAMES)
WORK_PLACES = _Weighted(names.WORK_PLACES_AWAY)
EXIT_YEARS = _Weighted([(2014, 8), (2015, 10), (2016, 18), (2017, 20), (2018, 20), (2019, 16), (2020, 8)])
DISABILITY_CATEGORY = _Weighted(
    [("视力", 14), ("听力", 24), ("言语", 2), ("肢体", 30), ("智力", 7), ("精神", 8), ("多重", 15)]
)
DISABILITY_GRADE = _Weighted([("一级", 8), ("二级", 17), ("三级", 30), ("四级", 45)])
EDUCATION_BY_ERA = {
    "old": _Weighted([("文盲或半文盲", 45), ("小学", 40), ("初中", 13), ("高中", 2)]),
    "mid": _Weighted([("文盲或半文盲", 8), ("小学", 35), ("初中", 42), ("高中", 12), ("大专", 3)]),
    "young": _Weighted([("小学", 6), ("初中", 44), ("高中", 25), ("大专", 15), ("本科及以上", 10)]),
    "child": _Weighted([("初中", 50), ("高中", 35), ("大专", 10), ("本科及以上", 5)]),
}
STAGE_EDUCATION = {
    "学龄前": "",
    "学前教育": "",
    "小学": "小学",
    "七至九年级": "小学",
    "普通高中": "初中",
    "中职": "初中",
    "高职": "高中",
    "本科": "高中",
    "硕士及以上": "本科及以上",
}
MIGRANT_MONTHS = _Weighted([(12, 30), (11, 12), (10, 16), (9, 10), (8, 10), (6, 10), (4, 7), (3, 5)])
HOUSING = _Weighted([("A", 55), ("B", 41.2), ("C", 2.4), ("D", 0.4), ("", 1.0)])
HEAD = "户主"


@dataclass(slots=True)
class _Person:
    relation: str
    age: int
    sex: str
    surname: str
    married_in: bool = False
    name: str = ""
    given: str = ""
    birth: date | None = None
    id18: str = ""
    school_status: str = ""
    not_in_school_reason: str = ""
    education: str = ""
    chronic: bool = False
    serious: bool = False
    disabled: bool = False
    disability_category: str = ""
    disability_grade: str = ""
    labour: str = ""
    migrant_months: int | None = None
    migrant_place: str = ""
    monthly_wage: int = 0
    resident_medical: bool | None = True
    employee_medical: bool | None = None
    resident_pension: bool | None = None
    dibao: bool = False
    tekun: bool = False
    phone: str = ""


class _TownBuilder:
    def __init__(self, *, rng: random.Random, today: date) -> None:
        self.rng = rng
        rnd = rng.random
        # randint without its argument checks: the generator draws a few million of these
        self.ri = lambda lo, hi: lo + int(rnd() * (hi - lo + 1))
        self.today = today
        # Ages count on 1 September of the current school year (registry.derive.age_on_school_day).
        year = today.year if today.month >= 9 else today.year - 1
        self.school_day = date(year, 9, 1)
        self.used_ids: set[str] = set()
        self.insert_seconds = 0.0
        self.initials: dict[str, str] = {}  # surname or given name → pinyin initials
        self.given_pickers = {
            (era, sex): lists for era, by_sex in names.GIVEN_NAMES.items() for sex, lists in by_sex.items()
        }
        self.values_by_region: dict[str, dict[str, Decimal]] = {}
        self.created_at = bulk.timestamp_value(timezone.now())
        last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y%m")
        self.last_month = last_month
        self.hh_fields = bulk.columns(Household)
        self.member_fields = bulk.columns(Member)
        self.hh_defaults = _defaults(self.hh_fields)
        self.member_defaults = _defaults(self.member_fields)
        self.hh_tuple = itemgetter(*(f.attname for f in self.hh_fields))
        self.member_tuple = itemgetter(*(f.attname for f in self.member_fields))

    # -- the whole run --

    def build(self, villages: list[_Village], total: int, report: Progress) -> dict:
        counts = _split(total, [v.weight for v in villages])
        stats = {"households": 0, "members": 0, "exited": 0, "marginal": 0, "monitoring": 0, "below_line": 0}
        started = time.perf_counter()
        self.next_household = bulk.next_id(Household)
        self.next_member = bulk.next_id(Member)
        hh_rows: list[tuple] = []
        member_rows: list[tuple] = []
        report(0, total, "生成农户")
        for village, count in zip(villages, counts, strict=True):
            if not count:
                continue
            for hh, people in self.village(village, count):
                hh_rows.append(self.household_row(hh))
                member_rows.extend(self.member_row(p, hh["id"], hh["region_id"]) for p in people)
                stats["households"] += 1
                stats["members"] += len(people)
                stats["exited"] += hh["household_type"] == HouseholdType.EXITED
                stats["marginal"] += hh["monitoring_type"] == MonitoringType.MARGINAL
                stats["monitoring"] += hh["monitoring_state"] == MonitoringState.MONITORING
                pci = hh["per_capita_income"]
                stats["below_line"] += pci is not None and pci < hh["_line"]
            if len(member_rows) >= FLUSH_MEMBERS:
                self.flush(hh_rows, member_rows)
                report(stats["households"], total, "生成农户")
        self.flush(hh_rows, member_rows)
        bulk.reset_sequences(Household, Member)
        report(stats["households"], total, "生成农户")
        stats["insert_seconds"] = self.insert_seconds
        stats["build_seconds"] = time.perf_counter() - started - self.insert_seconds
        return stats

    def flush(self, hh_rows: list[tuple], member_rows: list[tuple]) -> None:
        started = time.perf_counter()
        bulk.insert_rows(Household, self.hh_fields, hh_rows)
        bulk.insert_rows(Member, self.member_fields, member_rows)
        self.insert_seconds += time.perf_counter() - started
        hh_rows.clear()
        member_rows.clear()

    # -- one village --

    def village(self, village: _Village, count: int):
        rng = self.rng
        values = self.values_by_region.get(village.code)
        if values is None:
            values = self.values_by_region[village.code] = policy_values(
                region_code=village.code, year=self.today.year
            )
        line = values["monitoring_line"]
        exited_numbers = set(rng.sample(range(count), round(count * EXITED_SHARE)))
        households = []
        for seq in range(count):
            exited = seq in exited_numbers
            people = self.family(village, exited)
            hh = self.household(village, seq + 1, exited, people)
            derived = derive(SimpleNamespace(**hh), (self.facts(p) for p in people), values, today=self.today)
            hh.update(derived)
            hh["head_name"] = people[0].name
            hh["head_initials"] = self.name_initials(people[0])
            hh["_line"] = line
            households.append((hh, people))
        self.statuses(households, line)
        for hh, _people in households:
            hh["id"] = self.next_household
            self.next_household += 1
        return households

    def statuses(self, households: list[tuple[dict, list[_Person]]], line: Decimal) -> None:
        """The official statuses as a county's records hold them: close to the rules' suggestion, not equal."""
        rng = self.rng
        general = []
        for hh, _people in households:
            suggestion = hh["suggestion"]
            if hh["household_type"] == HouseholdType.EXITED:
                hh["exit_year"] = EXIT_YEARS.pick(rng)
                if suggestion in (ExitedClass.MONITORED, "sudden_hardship"):
                    cls = ExitedClass.MONITORED
                elif suggestion in (ExitedClass.NOT_ENJOYING, ExitedClass.ENJOYING):
                    cls = suggestion
                    if rng.random() < 0.08:  # last year's class, not yet reviewed
                        cls = (
                            ExitedClass.ENJOYING
                            if cls == ExitedClass.NOT_ENJOYING
                            else ExitedClass.NOT_ENJOYING
                        )
                else:
                    cls = ExitedClass.ENJOYING
                hh["exited_class"] = cls
                if cls == ExitedClass.MONITORED:
                    self.monitor(hh, MonitoringType.UNSTABLE, eliminated=False)
                elif rng.random() < 0.06:  # was a 脱贫不稳定户 once; the risk is gone now
                    self.monitor(hh, MonitoringType.UNSTABLE, eliminated=True)
            else:
                general.append(hh)
                if suggestion == "sudden_hardship" and rng.random() < 0.6:
                    self.monitor(hh, MonitoringType.SUDDEN, eliminated=False)
        # 边缘易致贫户: about 3 % of general households — those the rules see below the line with a risk (most
        # of them still monitored), then households near the line whose risk has been eliminated.
        target = round(len(general) * MARGINAL_SHARE)
        marginal = [hh for hh in general if hh["suggestion"] == "marginal"]
        rng.shuffle(marginal)
        chosen = marginal[: target - target // 3]
        for hh in chosen:
            self.monitor(hh, MonitoringType.MARGINAL, eliminated=rng.random() < 0.15)
        rest = [hh for hh in general if not hh["monitoring_type"] and hh["per_capita_income"] is not None]
        rest.sort(key=lambda h: h["per_capita_income"])
        pool = rest[: max(len(rest) // 4, 1)]
        for hh in rng.sample(pool, min(max(target - len(chosen), 0), len(pool))):
            self.monitor(hh, MonitoringType.MARGINAL, eliminated=True)

    def monitor(self, hh: dict, kind: str, *, eliminated: bool) -> None:
        start = 2021 * 12
        end = int(self.last_month[:4]) * 12 + int(self.last_month[4:]) - 1
        # One whose risk is gone was identified at least six months before it (DOMAIN §5): otherwise a household
        # meant to be past its risk would still be monitored, outside the 脱贫监测户 column it should then be in.
        identified = self.ri(start, end - 6 if eliminated else end)
        hh["monitoring_type"] = kind
        hh["identified_month"] = f"{identified // 12}{identified % 12 + 1:02d}"
        hh["monitoring_state"] = MonitoringState.MONITORING
        if eliminated:
            gone = min(identified + self.ri(6, 30), end)
            hh["monitoring_state"] = MonitoringState.ELIMINATED
            hh["eliminated_month"] = f"{gone // 12}{gone % 12 + 1:02d}"

    # -- composition --

    def family(self, village: _Village, exited: bool) -> list[_Person]:
        rng = self.rng
        size = SIZES.pick(rng)
        if exited and size > 1 and rng.random() < 0.15:
            size -= 1  # exited households are a little smaller and older
        clan = self.clan_surname(village)
        other = lambda: SURNAME_PICK.pick(rng)  # noqa: E731
        people: list[_Person] = []

        def add(relation: str, age: int, sex: str, surname: str, married_in: bool = False) -> None:
            people.append(_Person(relation, max(0, min(age, 99)), sex, surname, married_in))

        if size == 1:
            old = rng.random() < 0.65
            age = self.ri(60, 92) if old else self.ri(28, 60)
            add(HEAD, age, "男" if rng.random() < 0.6 else "女", clan)
            return self.details(people, exited)

        kind = rng.random()
        if size == 2:
            kind = "old" if kind < 0.55 else ("middle" if kind < 0.85 else "single_parent")
        else:
            kind = "young" if kind < 0.35 else ("middle" if kind < 0.7 else "old")
        head_age = {
            "old": self.ri(58, 86),
            "middle": self.ri(44, 60),
            "young": self.ri(27, 44),
            "single_parent": self.ri(38, 62),
        }[kind]
        head_sex = "男" if rng.random() < (0.88 if kind != "single_parent" else 0.5) else "女"
        add(HEAD, head_age, head_sex, clan)
        family_surname = clan
        if kind != "single_parent" and (size == 2 or rng.random() < 0.9):
            spouse_sex = "女" if head_sex == "男" else "男"
            spouse_age = head_age + (self.ri(-6, 2) if head_sex == "男" else self.ri(-2, 6))
            spouse_surname = other()
            add("配偶", spouse_age, spouse_sex, spouse_surname, married_in=True)
            if head_sex == "女":
                family_surname = spouse_surname
        elif head_sex == "女":
            family_surname = self.clan_surname(village)

        def child_age(parent_age: int) -> int | None:
            lo, hi = max(0, parent_age - 38), parent_age - 20
            return self.ri(lo, hi) if hi >= lo else None

        def add_child(parent_age: int) -> _Person | None:
            age = child_age(parent_age)
            if age is None:
                return None
            son = rng.random() < 0.52
            add("之子" if son else "之女", age, "男" if son else "女", family_surname)
            return people[-1]

        if kind == "old":
            # three generations under an older head: a son (or a daughter with a live-in son-in-law), the
            # in-law, grandchildren
            if len(people) < size:
                son = rng.random() < 0.88
                age = self.ri(max(22, head_age - 38), max(22, head_age - 22))
                add("之子" if son else "之女", age, "男" if son else "女", family_surname)
                heir = people[-1]
                if len(people) < size:
                    in_law_age = heir.age + self.ri(-4, 3)
                    if son:
                        add("之儿媳", in_law_age, "女", other(), married_in=True)
                        grand_surname = family_surname
                    else:
                        add("之女婿", in_law_age, "男", other(), married_in=True)
                        grand_surname = people[-1].surname
                    while len(people) < size and heir.age >= 21:
                        age = self.ri(0, min(heir.age - 20, 24))
                        boy = rng.random() < 0.53
                        add("之孙子" if boy else "之孙女", age, "男" if boy else "女", grand_surname)
        elif kind == "middle":
            kids = 0
            while len(people) < size and kids < 3:
                if add_child(head_age) is None:
                    break
                kids += 1
            sons = [p for p in people if p.relation == "之子" and p.age >= 23]
            if sons and len(people) < size:
                son = sons[0]
                add("之儿媳", son.age + self.ri(-4, 2), "女", other(), married_in=True)
                while len(people) < size and son.age >= 22:
                    age = self.ri(0, min(son.age - 21, 12))
                    boy = rng.random() < 0.53
                    add("之孙子" if boy else "之孙女", age, "男" if boy else "女", family_surname)
        elif kind in ("young", "single_parent"):
            kids = 0
            limit = 3 if kind == "young" else 2
            while len(people) < size and kids < limit:
                if add_child(head_age) is None:
                    break
                kids += 1
            if kind == "young":
                if len(people) < size and head_age + 24 <= 92:
                    add("之母", head_age + self.ri(22, 32), "女", other(), married_in=True)
                if len(people) < size and head_age + 26 <= 92:
                    add("之父", head_age + self.ri(24, 34), "男", clan if head_sex == "男" else other())
        while len(people) < size:  # whoever else lives with them
            if child_age(head_age) is not None and rng.random() < 0.7:
                add_child(head_age)
            elif rng.random() < 0.6:
                sex = "男" if rng.random() < 0.5 else "女"
                add("之兄弟姐妹", head_age + self.ri(-10, 10), sex, clan if head_sex == "男" else other())
            else:
                add("其他", self.ri(5, 80), "男" if rng.random() < 0.5 else "女", other())
        return self.details(people, exited)

    def clan_surname(self, village: _Village) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.28:
            return village.surnames[0]
        if roll < 0.45:
            return village.surnames[1]
        if roll < 0.55:
            return village.surnames[2]
        return SURNAME_PICK.pick(rng)

    # -- one person --

    def details(self, people: list[_Person], exited: bool) -> list[_Person]:
        rng = self.rng
        risk = 1.8 if exited else 1.0
        for p in people:
            self.birth_and_id(p)
            self.name(p)
            age = p.age
            # schooling
            if age <= 2:
                p.school_status = "学龄前"
            elif age <= 5:
                p.school_status = "学前教育" if rng.random() < 0.85 else "学龄前"
            elif age <= 14:
                p.school_status = "小学" if age <= 11 else "七至九年级"
                if rng.random() < 0.004:  # a compulsory-age child not in school
                    p.school_status = "非在校生"
                    if rng.random() < 0.6:
                        p.not_in_school_reason = rng.choice(names.NOT_IN_SCHOOL_REASONS)
            elif age == 15:
                p.school_status = "普通高中" if rng.random() < 0.65 else "中职"
            elif age <= 17:
                roll = rng.random()
                p.school_status = "普通高中" if roll < 0.55 else ("中职" if roll < 0.85 else "非在校生")
            elif age <= 21:
                roll = rng.random()
                p.school_status = "本科" if roll < 0.25 else ("高职" if roll < 0.45 else "非在校生")
            elif age <= 24 and rng.random() < 0.02:
                p.school_status = "硕士及以上"
            else:
                p.school_status = "非在校生"
            student = p.school_status not in ("非在校生", "学龄前", "学前教育")
            if p.school_status == "非在校生":
                if age >= 23:
                    p.education = EDUCATION_BY_ERA[names.generation_of(p.birth.year)].pick(rng)
                elif age >= 16:
                    p.education = "初中" if rng.random() < 0.75 else ("高中" if age >= 18 else "小学")
                else:
                    p.education = "小学"
            else:
                p.education = STAGE_EDUCATION[p.school_status]
            # health
            chronic_p = 0.01 if age < 18 else 0.05 if age < 45 else 0.15 if age < 60 else 0.33
            serious_p = 0.003 if age < 45 else 0.015 if age < 60 else 0.03
            disabled_p = 0.015 if age < 18 else 0.035 if age < 60 else 0.08
            p.chronic = rng.random() < chronic_p * risk
            p.serious = rng.random() < serious_p * risk
            p.disabled = rng.random() < disabled_p * risk or p.not_in_school_reason == "重度残疾，无法入学"
            if p.disabled:
                p.disability_category = DISABILITY_CATEGORY.pick(rng)
                p.disability_grade = (
                    rng.choice(["一级", "二级"])
                    if p.not_in_school_reason == "重度残疾，无法入学"
                    else DISABILITY_GRADE.pick(rng)
                )
            severe = p.serious or p.disability_grade in ("一级", "二级")
            # labour
            if age < 16 or student:
                p.labour = "无劳动力"
            elif severe:
                p.labour = "丧失劳动力"
            elif age < 60:
                roll = rng.random()
                weak = 0.4 if p.chronic or p.disabled else 0.05
                p.labour = (
                    "弱劳动力或半劳动力"
                    if roll < weak
                    else ("技能劳动力" if roll < weak + 0.2 else "普通劳动力")
                )
            elif age < 70:
                roll = rng.random()
                p.labour = (
                    "普通劳动力" if roll < 0.35 else ("弱劳动力或半劳动力" if roll < 0.85 else "无劳动力")
                )
            else:
                p.labour = "弱劳动力或半劳动力" if rng.random() < 0.3 else "无劳动力"
            # work
            if 18 <= age <= 58 and p.labour in ("普通劳动力", "技能劳动力"):
                if rng.random() < (0.5 if exited else 0.66):
                    p.migrant_months = MIGRANT_MONTHS.pick(rng)
                    local = rng.random() < 0.3
                    p.migrant_place = names.WORK_PLACE_LOCAL if local else WORK_PLACES.pick(rng)
                    base = (4200, 8500) if p.labour == "技能劳动力" else (2800, 5600)
                    p.monthly_wage = self.ri(*base) // 100 * 100
                    if local:
                        p.monthly_wage = p.monthly_wage * 4 // 5 // 100 * 100
                else:
                    p.migrant_months = 0
            # insurance
            roll = rng.random()
            if roll < 0.003:
                p.resident_medical, p.employee_medical = False, False  # not insured
            elif p.migrant_months and p.migrant_months >= 10 and roll < 0.06:
                p.resident_medical, p.employee_medical = False, True  # insured where they work
            else:
                p.resident_medical = True
            if age >= 16 and not student:
                p.resident_pension = age >= 60 or rng.random() < 0.88
        return people

    def birth_and_id(self, p: _Person) -> None:
        rng = self.rng
        year = self.school_day.year
        first = date(year - p.age - 1, 9, 2).toordinal()
        last = date(year - p.age, 9, 1).toordinal()
        prefix = ID_PREFIX
        if p.married_in and rng.random() < 0.3:
            prefix = rng.choice(names.OTHER_ID_PREFIXES)
        odd = 1 if p.sex == "男" else 0
        while True:
            born = date.fromordinal(self.ri(first, last))
            first17 = f"{prefix}{born.year:04d}{born.month:02d}{born.day:02d}{self.ri(0, 99):02d}{odd + 2 * self.ri(0, 4)}"
            if first17 not in self.used_ids:
                break
        self.used_ids.add(first17)
        p.birth = born
        p.id18 = first17 + check_digit(first17)

    def name(self, p: _Person) -> None:
        rng = self.rng
        whole, firsts, seconds = self.given_pickers[(names.generation_of(p.birth.year), p.sex)]
        roll = rng.random()
        if roll < 0.3:
            given = rng.choice(whole)
        elif roll < 0.85:
            given = rng.choice(firsts) + rng.choice(seconds)
        else:
            given = rng.choice(seconds)
        p.given = given
        p.name = p.surname + given

    def name_initials(self, p: _Person) -> str:
        """``registry.derive.name_initials(p.name)``, from cached parts (the vocabulary is built so that the
        parts give the same letters as the whole name; a test checks it)."""
        cache = self.initials
        first = cache.get(p.surname)
        if first is None:
            first = cache[p.surname] = name_initials(p.surname)
        second = cache.get(p.given)
        if second is None:
            second = cache[p.given] = name_initials(p.given)
        return (first + second)[:20]

    def facts(self, p: _Person) -> MemberFacts:
        return MemberFacts(
            birth_date=p.birth,
            school_status=p.school_status,
            not_in_school_reason=p.not_in_school_reason,
            serious_illness=p.serious,
            disabled=p.disabled,
            labour_skill=p.labour,
            resident_medical=p.resident_medical,
            employee_medical=p.employee_medical,
            is_head=p.relation == HEAD,
            name="",  # the head's name and initials are filled in from the cache (see village())
        )

    # -- the household's own fields --

    def household(self, village: _Village, seq: int, exited: bool, people: list[_Person]) -> dict:
        rng = self.rng
        dibao = rng.random() < (0.2 if exited else 0.03)
        alone_no_labour = len(people) == 1 and people[0].labour in ("无劳动力", "丧失劳动力")
        wage = 0
        at_home_labour = 0
        migrants = 0
        for p in people:
            if p.migrant_months:
                wage += p.migrant_months * p.monthly_wage
                migrants += 1
            elif p.labour in ("普通劳动力", "技能劳动力", "弱劳动力或半劳动力") and 16 <= p.age <= 75:
                at_home_labour += 1
                if p.age <= 65 and rng.random() < 0.75:  # odd jobs near home (打零工)
                    wage += (
                        self.ri(15, 50) * 100 if p.labour == "弱劳动力或半劳动力" else self.ri(40, 150) * 100
                    )
        if exited and rng.random() < 0.3:
            wage += self.ri(48, 96) * 100  # 公益性岗位
        if at_home_labour:
            business = int(self.ri(4000, 12000) * at_home_labour**0.8) // 10 * 10
            if rng.random() < 0.12:
                business += self.ri(10, 60) * 1000  # tea, rice or livestock on a larger scale
        else:
            business = rng.choice([0, 0, self.ri(300, 2500)])
        expense = int(business * rng.uniform(0.25, 0.45))
        if exited:
            prop = self.ri(300, 1200) if rng.random() < 0.6 else 0  # 资产收益扶贫分红
        else:
            prop = self.ri(100, 3000) if rng.random() < 0.25 else 0
        if not at_home_labour and rng.random() < 0.6:
            prop += self.ri(6, 30) * 100  # land let out (土地流转)
        transfer = 0
        for p in people:
            if p.age >= 60:
                transfer += self.ri(1700, 2600)  # 城乡居民养老金
            if p.disability_grade in ("一级", "二级"):
                transfer += 1200  # 重度残疾人护理补贴
        tekun = alone_no_labour and people[0].age >= 60 and rng.random() < 0.25
        if dibao and not tekun:
            transfer += sum(self.ri(3600, 7200) for _ in people)
            for p in people:
                p.dibao = True
        if tekun:
            transfer += self.ri(11000, 13000)
            people[0].tekun = True
        if rng.random() < 0.4:
            transfer += self.ri(100, 800)  # 生态补偿
        if not migrants and any(p.age >= 60 for p in people):
            transfer += self.ri(30, 120) * 100  # 赡养费 from children living elsewhere
        self_paid = 0
        for p in people:
            if p.serious:
                self_paid += int(rng.triangular(2000, 45000, 9000))
            elif p.chronic:
                self_paid += self.ri(200, 2500)
            if p.school_status in ("本科", "高职"):
                self_paid += self.ri(4000, 9000)
        if self_paid and rng.random() < 0.15:
            self_paid = 0  # not collected
        head = people[0]
        head.phone = self.phone()
        for p in people[1:]:
            if 18 <= p.age <= 65 and rng.random() < 0.35:
                p.phone = self.phone()
        water = rng.random()
        food = rng.random()
        return {
            "number": f"{village.code}{seq:04d}",
            "region_id": village.code,
            "household_type": HouseholdType.EXITED if exited else HouseholdType.GENERAL,
            "exit_year": None,
            "exited_class": "",
            "monitoring_type": "",
            "monitoring_state": "",
            "identified_month": "",
            "eliminated_month": "",
            "grade": "",
            "phone": head.phone,
            "wage_income": Decimal(wage),
            "business_income": Decimal(business),
            "business_expense": Decimal(expense),
            "property_income": Decimal(prop),
            "transfer_income": Decimal(transfer),
            "compliant_self_paid": Decimal(self_paid),
            "food_clothing_secure": True if food < 0.978 else (None if food < 0.997 else False),
            "housing_grade": HOUSING.pick(rng),
            "water_safe": True if water < 0.975 else (None if water < 0.995 else False),
        }

    def phone(self) -> str:
        rng = self.rng
        return f"1{rng.choice('35789')}{self.ri(0, 999_999_999):09d}"

    # -- rows --

    def household_row(self, hh: dict) -> tuple:
        values = dict(self.hh_defaults)
        values.update({k: v for k, v in hh.items() if not k.startswith("_")})
        values["phone"] = encrypt_text(hh["phone"]) if hh["phone"] else ""
        values["created_at"] = values["updated_at"] = self.created_at
        return self.hh_tuple(values)

    def member_row(self, p: _Person, household_id: int, region: str) -> tuple:
        initials = self.name_initials(p)
        health = [
            label
            for label, flag in (("长期慢性病", p.chronic), ("患有大病", p.serious), ("残疾", p.disabled))
            if flag
        ]
        values = {
            **self.member_defaults,
            **{
                "id": self.next_member,
                "household_id": household_id,
                "household_region": region,  # given, so the insert trigger has nothing to look up
                "name": p.name,
                "name_initials": initials,
                "id_number": encrypt_text(p.id18),
                "id_index": id_index(p.id18),
                "id_masked": mask_id(p.id18),
                "id_last4": p.id18[-4:],
                "birth_date": p.birth.isoformat(),
                "sex": p.sex,
                "relation": p.relation,
                "is_head": p.relation == HEAD,
                "education": p.education,
                "school_status": p.school_status,
                "not_in_school_reason": p.not_in_school_reason,
                "health": "、".join(health) or "健康",
                "serious_illness": p.serious,
                "chronic_illness": p.chronic,
                "disabled": p.disabled,
                "disability_category": p.disability_category,
                "disability_grade": p.disability_grade,
                "labour_skill": p.labour,
                "migrant_months": p.migrant_months,
                "migrant_place": p.migrant_place,
                "resident_medical": p.resident_medical,
                "employee_medical": p.employee_medical,
                "resident_pension": p.resident_pension,
                "dibao": p.dibao,
                "tekun": p.tekun,
                "phone": encrypt_text(p.phone) if p.phone else "",
                "status": Member.Status.ACTIVE,
                "created_at": self.created_at,
                "updated_at": self.created_at,
            },
        }
        self.next_member += 1
        return self.member_tuple(values)


def _defaults(fields) -> dict:
    """Each column's value when the generator says nothing about it (the field's default, NULL or blank)."""
    out = {}
    for f in fields:
        if f.has_default():
            out[f.attname] = f.get_default()
        elif f.null:
            out[f.attname] = None
        elif f.blank:
            out[f.attname] = ""
    return out
