"""Checking a slice of households and their members and planning what changes: every cell parsed, the rules
between cells, compared with what is stored, derived figures computed; and merging the slices (an ID number in two
households of the file, or registered elsewhere)."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from fangfan.core import crypto
from fangfan.core.cells import CellError, lost_digits, required, text
from fangfan.core.masking import mask_id
from fangfan.core.tabular import Problem, Table
from fangfan.regions.codes import Level, level_of

from .. import formats, rules
from ..derive import derive
from ..formats import NUMBER_TAKEN
from ..idnumber import IdNumberError
from ..models import Member
from .cells import CellChecks, _household_number, _id_fast, fast_initials
from .layout import (
    _FACT_POSITIONS,
    _HEAD,
    _ID_ELSEWHERE,
    _M_PHONE,
    AUDIT_DETAIL_KEYS,
    AUDIT_DETAIL_MEMBERS,
    H_ALL,
    H_FIELDS,
    H_INPUT,
    H_LABEL,
    H_OFFICIAL,
    HOUSEHOLD_DEFAULTS,
    KEEP,
    M_FIELDS,
    M_POS,
    MAX_PROBLEMS,
    MEMBER_DEFAULTS,
    PREVIEW_HOUSEHOLDS,
)


class _HouseholdView:
    """What ``derive`` reads of a household, without a model instance."""

    __slots__ = (
        "household_type",
        "wage_income",
        "business_income",
        "business_expense",
        "property_income",
        "transfer_income",
        "compliant_self_paid",
        "housing_grade",
        "water_safe",
        "food_clothing_secure",
    )

    def __init__(self, values: dict):
        for key in self.__slots__:
            setattr(self, key, values[key])


class _Facts(NamedTuple):
    """What ``derive`` reads of a member: the attributes of ``derive.MemberFacts``, built several times faster
    (a frozen dataclass sets each field through ``object.__setattr__``). test_import_speedups checks the two agree."""

    birth_date: date
    school_status: str
    not_in_school_reason: str
    serious_illness: bool
    disabled: bool
    labour_skill: str
    resident_medical: bool | None
    employee_medical: bool | None
    is_head: bool
    name: str = ""  # head_name/head_initials are set by the importer (cached initials)


def _facts(values, birth: date) -> _Facts:
    school, reason, serious, disabled, labour, resident, employee, _head = _FACT_POSITIONS(values)
    return _Facts(
        birth,
        school or "",
        reason or "",
        bool(serious),
        bool(disabled),
        labour or "",
        resident,
        employee,
        # is_head False: derive only uses it to find the head's name and would run pypinyin on it (~12 µs even
        # for ""); the importer sets head_name and head_initials itself.
        False,
    )


def _preview(result: _SliceResult) -> list[tuple[str, str, str]]:
    """The slice's first households by 户编号 that the import creates or changes, each with what changes in words:
    the changed fields' names and the members added or updated (no values)."""
    members_new: dict[str, int] = {}
    members_changed: dict[str, int] = {}
    for number, *_rest in result.m_new:
        members_new[number] = members_new.get(number, 0) + 1
    for number, *_rest in result.m_changed:
        members_changed[number] = members_changed.get(number, 0) + 1

    def members(number: str) -> list[str]:
        parts = []
        if members_new.get(number):
            parts.append(f"新增成员 {members_new[number]} 人")
        if members_changed.get(number):
            parts.append(f"更新成员 {members_changed[number]} 人")
        return parts

    picked = []
    for number, _values in heapq.nsmallest(PREVIEW_HOUSEHOLDS, result.hh_new, key=lambda h: h[0]):
        picked.append((number, "新增", "、".join(["新建农户档案", *members(number)])))
    for number, _old, _values, detail in heapq.nsmallest(
        PREVIEW_HOUSEHOLDS, result.hh_changed, key=lambda h: h[0]
    ):
        fields = [k for k in detail[1] if k != "成员"]
        picked.append((number, "更新", "、".join([*fields, *members(number)])))
    return heapq.nsmallest(PREVIEW_HOUSEHOLDS, picked)


def _audit_detail(old: dict, values: dict, changed: set, member_changes: list) -> tuple[dict, dict]:
    keys = sorted(changed, key=H_ALL.index)[:AUDIT_DETAIL_KEYS]
    before = {H_LABEL[k]: _audit_value(old[k]) for k in keys}
    after = {H_LABEL[k]: _audit_value(values[k]) for k in keys}
    if member_changes:
        added = [c[1][1] for c in member_changes if c[0] == "new"]
        updated = [c[1][1] for c in member_changes if c[0] == "changed"]
        after["成员"] = {
            "新增": len(added),
            "更新": len(updated),
            "证件号码": [mask_id(v[1]) for v in (added + updated)[:AUDIT_DETAIL_MEMBERS]],
        }
    return before, after


@dataclass
class _SliceResult:
    """What one slice found and, unless a dry run, the rows it prepared for the database."""

    problems: list = field(default_factory=list)
    cell_problems: bool = False  # the problems are wrong cells (the slice stopped there)
    ids: list = field(default_factory=list)  # (id18, row) of every valid member row
    unknown: list = field(default_factory=list)  # (index, row, own household pk, shown) to look up
    hh_new: list = field(default_factory=list)
    hh_changed: list = field(default_factory=list)
    m_new: list = field(default_factory=list)
    m_changed: list = field(default_factory=list)
    hh_unchanged: int = 0
    m_unchanged: int = 0
    n_hh_new: int = 0
    n_hh_changed: int = 0
    n_m_new: int = 0
    n_m_changed: int = 0
    hh_new_rows: list = field(default_factory=list)
    hh_changed_rows: list = field(default_factory=list)
    m_new_rows: list = field(default_factory=list)
    m_changed_rows: list = field(default_factory=list)
    staged: str = ""  # the staging file holding this slice's new rows (SQLite), instead of the two lists
    preview: list = field(default_factory=list)  # (number, kind, what) of its first households by 户编号
    # (number, [(field, stored, file), …]) of each existing household whose official fields the file changes
    official: list = field(default_factory=list)

    def drop_plan(self) -> None:
        """Keep the counts and the prepared rows; let go of the planning structures (they would be pickled)."""
        self.n_hh_new, self.n_hh_changed = len(self.hh_new), len(self.hh_changed)
        self.n_m_new, self.n_m_changed = len(self.m_new), len(self.m_changed)
        self.hh_new, self.hh_changed, self.m_new, self.m_changed = [], [], [], []

    def clear_rows(self) -> None:
        self.drop_plan()
        self.hh_new_rows, self.hh_changed_rows, self.m_new_rows, self.m_changed_rows = [], [], [], []


@dataclass
class _Merged:
    results: list = field(default_factory=list)
    preview: list = field(default_factory=list)
    official: list = field(default_factory=list)  # every slice's ``official``, by 户编号
    hh_new: int = 0
    hh_changed: int = 0
    hh_unchanged: int = 0
    m_new: int = 0
    m_changed: int = 0
    m_unchanged: int = 0


# How a rule's problem shows the cell it is about: the label of a code, as the file has it.
_SHOWN_LABELS = {
    "exited_class": formats.EXITED_CLASS_LABELS,
    "monitoring_state": formats.MONITORING_STATE_LABELS,
}


def _shown(name: str, value: object) -> object:
    if value is None:
        return ""
    labels = _SHOWN_LABELS.get(name)
    return labels.get(value, value) if labels and isinstance(value, str) else value


def official_shown(name: str, value: object) -> str:
    """An official field's value as the file writes it (户类型 and the classes by their labels), "（空）" when blank."""
    if value is None or value == "":
        return "（空）"
    if name == "household_type":
        return str(formats.HOUSEHOLD_TYPE_LABELS.get(value, value))
    if name == "monitoring_type":
        return str(formats.MONITORING_TYPE_LABELS.get(value, value))
    return str(_shown(name, value))


def _audit_value(value):
    if isinstance(value, Decimal):
        return str(value)
    return value


class Planning(CellChecks):
    def check_households(self, table: Table) -> dict[str, tuple[int, dict]]:
        idx = table.index
        known_villages = self.known_villages
        lo, hi = self.span

        def region(value) -> str:
            code = text(value)
            if not code:
                raise CellError("必填")
            if not (len(code) == 12 and code.isdigit()):
                raise CellError("行政区划代码应为12位数字")
            if level_of(code) != Level.VILLAGE:
                raise CellError("应为村级行政区划代码（12位，末三位不为000）")
            if code not in known_villages:
                raise CellError("系统中没有这个村，请先导入行政区划")
            if not (lo <= code < hi):
                raise CellError("该村不在您的管辖范围内")
            return code

        parsers = {
            "region": region,
            "household_type": self.p_htype,
            "exit_year": self.p_year,
            "exited_class": self.p_exited,
            "monitoring_type": self.p_montype,
            "monitoring_state": self.p_monstate,
            "identified_month": self.p_month,
            "eliminated_month": self.p_month,
            "grade": self.p_text30,
            "phone": self.p_phone,
            "wage_income": self.p_money_req,
            "business_income": self.p_money_req,
            "business_expense": self.p_money_req,
            "property_income": self.p_money_req,
            "transfer_income": self.p_money_req,
            "compliant_self_paid": self.p_money,
            "food_clothing_secure": self.p_yes_no,
            "housing_grade": self.p_housing,
            "water_safe": self.p_yes_no,
        }
        ok = bytearray(b"\x01") * len(table.rows)
        numbers = self.column(table, idx["户编号"], "户编号", _household_number, ok)
        columns = [self.column(table, idx.get(h), h, parsers[f], ok) for f, h in H_INPUT]
        out: dict[str, tuple[int, dict]] = {}
        for k, (number, *values) in enumerate(zip(numbers, *columns, strict=True)):
            row = table.rows[k][0]
            record = dict(zip(H_FIELDS, values, strict=True))
            if ok[k]:
                self.check_household_rules(table, row, record)
            if number is None:
                continue
            first = out.get(number)
            if first is not None:
                self.problem(table, row, "户编号", number, f"户编号与第{first[0]}行重复")
                continue
            out[number] = (row, record)
        return out

    def check_household_rules(self, table: Table, row: int, v: dict) -> None:
        """The household rules every writer applies (``registry.rules``), over the row's cells; a column the file
        leaves out is not checked, but a 脱贫户 without the 脱贫年度 column is told so."""
        known = {f: v[f] for f in rules.HOUSEHOLD_RULE_FIELDS if v[f] is not KEEP}
        for p in rules.household_problems(known):
            value = v[p.field]
            message = p.message
            if value is KEEP:
                value, message = "", f"{message}（表中缺少“{H_LABEL[p.field]}”列）"
            self.problem(table, row, H_LABEL[p.field], _shown(p.field, value), message)

    def check_members(self, table: Table) -> dict[str, list]:
        """Members grouped by 户编号: each ``[row, id_values, values (M_FIELDS order)]`` (``plan`` appends the
        blind index)."""
        idx = table.index
        rows = table.rows
        n = len(rows)
        ok = bytearray(b"\x01") * n
        column = self.column
        numbers = column(table, idx["户编号"], "户编号", _household_number, ok)
        names = column(table, idx["姓名"], "姓名", required(self.p_text50), ok)
        relations = column(table, idx["与户主关系"], "与户主关系", required(self.p_relation), ok)
        optional = [
            ("education", "文化程度", self.p_education),
            ("school_status", "在校生状况", self.p_school),
            ("not_in_school_reason", "义务教育阶段未上学原因", self.p_text100),
            ("health", "健康状况", self.p_health),
            ("disability_category", "残疾类别", self.p_dis_cat),
            ("disability_grade", "残疾等级", self.p_dis_grade),
            ("labour_skill", "劳动技能", self.p_labour),
            ("migrant_months", "务工时间（月）", self.p_months),
            ("migrant_place", "务工地", self.p_text100),
            ("resident_medical", "参加城乡居民基本医疗保险", self.p_yes_no),
            ("employee_medical", "参加职工基本医疗保险", self.p_yes_no),
            ("resident_pension", "参加城乡居民基本养老保险", self.p_yes_no),
            ("dibao", "享受低保", self.p_yes_no),
            ("tekun", "特困供养", self.p_yes_no),
            ("phone", "联系电话", self.p_phone),
        ]
        columns = {f: column(table, idx.get(h), h, p, ok) for f, h, p in optional}
        # 健康状况 → the three flags (distinct values are few).
        flags: dict = {KEEP: (KEEP, KEEP, KEEP), None: (None, None, None)}
        for health in set(columns["health"]) - set(flags):
            flags[health] = ("患有大病" in health, "长期慢性病" in health, "残疾" in health)
        serious, chronic, disabled = (
            zip(*[flags[h] for h in columns["health"]], strict=True) if n else ((), (), ())
        )
        columns["serious_illness"], columns["chronic_illness"], columns["disabled"] = (
            serious,
            chronic,
            disabled,
        )
        columns["name"] = names
        columns["name_initials"] = [fast_initials(name) if name else "" for name in names]
        columns["relation"] = relations
        columns["is_head"] = [r == "户主" for r in relations]
        # ID numbers, row by row (each is different).
        ids = self.check_ids(table, idx["证件号码"], ok)

        out: dict[str, list] = {}
        p_cat, p_grade, p_disabled = (
            M_POS["disability_category"],
            M_POS["disability_grade"],
            M_POS["disabled"],
        )
        for k, values in enumerate(zip(*[columns[f] for f in M_FIELDS], strict=True)):
            number = numbers[k]
            id_values = ids[k]
            if not ok[k] or number is None or id_values is None:
                continue
            card = id_values[4]
            if card:  # a 残疾人证号 says the member is disabled, and how
                values = list(values)
                values[p_disabled] = True
                if not values[p_cat]:
                    values[p_cat] = card[0]
                if not values[p_grade]:
                    values[p_grade] = card[1]
                values = tuple(values)
            group = out.get(number)
            if group is None:
                group = out[number] = []
            group.append([rows[k][0], id_values, values])
        return out

    def check_ids(self, table: Table, position: int, ok: bytearray) -> list:
        today = self.today
        seen: dict[str, int] = {}
        out: list = []
        append = out.append
        for k, (row, cells) in enumerate(table.rows):
            raw_id = cells[position]
            if type(raw_id) is str:
                raw = raw_id.strip()
                if lost_digits(raw):
                    raw = None
            elif isinstance(raw_id, (float, int)) and not isinstance(raw_id, bool):
                raw = None
            else:
                raw = text(raw_id)
            if raw is None:
                self.problem(
                    table,
                    row,
                    "证件号码",
                    raw_id,
                    "证件号码必须是文本格式，Excel 已把它变成数字（末几位已丢失），请将该列设置为文本格式后重新填写",
                )
                ok[k] = 0
                append(None)
                continue
            if not raw:
                self.problem(table, row, "证件号码", "", "必填")
                ok[k] = 0
                append(None)
                continue
            try:
                id_values = _id_fast(raw, today)
            except IdNumberError as exc:
                self.problem(table, row, "证件号码", raw, f"证件号码无效：{exc}")
                ok[k] = 0
                append(None)
                continue
            first = seen.get(id_values[1])
            if first is not None:
                self.problem(table, row, "证件号码", raw, f"证件号码与第{first}行重复")
                ok[k] = 0
                append(None)
                continue
            seen[id_values[1]] = row
            append(id_values)
        return out

    # comparing with what is stored -----------------------------------------------------------------------------

    def process_slice(self, hh_table: Table | None, mem_table: Table | None) -> _SliceResult:
        """Check, compare and prepare one slice of households and their members (no database access)."""
        self.problems = []
        result = _SliceResult()
        households = self.check_households(hh_table) if hh_table is not None else {}
        members = self.check_members(mem_table) if mem_table is not None else {}
        if self.problems:  # wrong cells: reported alone (what follows from them would only confuse)
            result.problems, result.cell_problems = self.problems, True
            result.ids = [(e[1][1], e[0]) for group in members.values() for e in group]
            return result
        existing = self.existing
        lo, hi = self.span

        # Households: in our jurisdiction, not cancelled.
        for number, (row, _values) in households.items():
            old = existing.get(number)
            if old is None:
                continue
            if not (lo <= old["region"] < hi):
                # Nothing about where: the number is taken, as the web form says (``registry.forms``).
                self.problem(hh_table, row, "户编号", number, NUMBER_TAKEN)
            elif old["cancelled"]:
                self.problem(hh_table, row, "户编号", number, "该户已注销，不能再导入")
        for number, group in members.items():
            if number in households:
                continue
            old = existing.get(number)
            if old is None or not (lo <= old["region"] < hi):
                # One message whether the number is unknown or another jurisdiction's: nothing about elsewhere.
                for row, *_rest in group:
                    self.problem(
                        mem_table, row, "户编号", number, "户编号在“户信息”表和您的管辖范围内都不存在"
                    )
            elif old["cancelled"]:
                for row, *_rest in group:
                    self.problem(mem_table, row, "户编号", number, "该户已注销，不能再导入成员")

        # Members: blind indexes; who is already in the system, and where.
        index_of = crypto.indexer(purpose="id")
        stored_home = self.stored_home
        for number, group in members.items():
            own = existing.get(number)
            own_pk = own["pk"] if own else None
            for entry in group:
                row, id_values = entry[0], entry[1]
                index = index_of(id_values[1])
                entry.append(index)
                result.ids.append((id_values[1], row))
                home = stored_home.get(index)
                if home is not None and home != own_pk:
                    self.problem(mem_table, row, "证件号码", id_values[0], _ID_ELSEWHERE)
                elif home is None and self.others_exist:
                    result.unknown.append((index, row, own_pk, id_values[0]))
        if not self.problems:
            for number in dict.fromkeys([*households, *members]):
                self.plan_household(
                    result,
                    number,
                    households.get(number),
                    members.get(number, []),
                    existing.get(number),
                    hh_table,
                    mem_table,
                )
        if self.problems:
            result.problems = self.problems
            result.clear_rows()
            return result
        result.preview = _preview(result)
        if self.dry_run:
            result.drop_plan()
        else:
            self.prepare_rows(result)
        return result

    def plan_household(self, plan, number, hh, group, old, hh_table, mem_table) -> None:
        own_pk = old["pk"] if old else None
        stored = self.stored_by_household.get(own_pk, []) if own_pk else []
        stored_by_index = {m["id_index"]: m for m in stored}
        for row, id_values, _values, index in group:
            current = stored_by_index.get(index)
            if current is not None and current["status"] != Member.Status.ACTIVE:
                self.problem(
                    mem_table,
                    row,
                    "证件号码",
                    id_values[0],
                    "该成员在系统中已办理减少，如需恢复请在系统中办理增加成员",
                )
                return
        in_file = {e[3] for e in group}
        # Heads: file rows, plus stored active members the file does not mention.
        heads = [e[0] for e in group if e[2][3]]
        kept_heads = [
            m
            for m in stored
            if m["status"] == Member.Status.ACTIVE and m["is_head"] and m["id_index"] not in in_file
        ]
        head_problem = rules.heads_problem(len(heads) + len(kept_heads))
        if head_problem == rules.ONE_HEAD:
            if len(heads) > 1:
                self.problem(
                    mem_table,
                    heads[1],
                    "与户主关系",
                    "户主",
                    f"{rules.ONE_HEAD}，该户已在第{heads[0]}行填写户主",
                )
            else:
                self.problem(
                    mem_table,
                    heads[0],
                    "与户主关系",
                    "户主",
                    f"该户在系统中已有户主，{rules.ONE_HEAD}（变更户主请在系统中办理）",
                )
            return
        if head_problem == rules.NO_HEAD:
            if hh is not None:
                self.problem(
                    hh_table,
                    hh[0],
                    "户编号",
                    number,
                    f"{rules.NO_HEAD}（“成员信息”表中须有一行与户主关系为“户主”）",
                )
            else:
                self.problem(
                    mem_table,
                    group[0][0],
                    "与户主关系",
                    group[0][2][2],
                    f"{rules.NO_HEAD}（须有一名成员与户主关系为“户主”）",
                )
            return
        if len(self.problems) >= MAX_PROBLEMS:
            return

        # Household values: the file's, else what is stored, else defaults.
        values = dict(hh[1]) if hh is not None else {f: KEEP for f in H_FIELDS}
        for f in self.hh_keep if hh is not None else H_FIELDS:
            values[f] = old[f] if old else HOUSEHOLD_DEFAULTS.get(f)
        if hh is not None:  # a 一般农户 keeps no 脱贫年度 / 脱贫户分类 the file leaves out (registry.rules)
            values.update(rules.household_cleared(values, given=set(H_FIELDS).difference(self.hh_keep)))
        if values["phone"] is KEEP:  # a masked phone (from our own export): keep the stored one
            values["phone"] = old["phone"] if old else ""
        if old is not None and hh is not None:
            # An existing household's official status: listed where the file differs, kept as stored unless the
            # import synchronises with the national system (all of them together, so the stored combination — which
            # the rules accepted — stays whole).
            official = [(f, old[f], values[f]) for f in H_OFFICIAL if values[f] != old[f]]
            if official:
                plan.official.append((number, official))
                if not self.sync_national:
                    for f, kept, _file in official:
                        values[f] = kept

        # Members after the import: stored ones the file does not mention, and the file's (merged with stored).
        member_changes = []  # ("new", entry, final) / ("changed", entry, final, stored)
        facts = []
        head_name = ""
        keep = self.m_keep
        for m in stored:
            if m["id_index"] in in_file or m["status"] != Member.Status.ACTIVE:
                continue
            facts.append(_facts(m["values"], m["birth_date"]))
            if m["values"][_HEAD]:
                head_name = m["values"][0]
        for entry in group:
            new_values = entry[2]
            current = stored_by_index.get(entry[3]) if stored_by_index else None
            if current is None:
                final = new_values
                if keep or final[_M_PHONE] is KEEP:
                    final = list(final)
                    for i in keep:
                        final[i] = MEMBER_DEFAULTS.get(M_FIELDS[i])
                    if final[_M_PHONE] is KEEP:
                        final[_M_PHONE] = ""
                member_changes.append(("new", entry, final))
            else:
                old_values = current["values"]
                final = list(new_values)
                for i in keep:
                    final[i] = old_values[i]
                if final[_M_PHONE] is KEEP:
                    final[_M_PHONE] = old_values[_M_PHONE]
                if final != old_values:
                    member_changes.append(("changed", entry, final, current))
                else:
                    plan.m_unchanged += 1
            facts.append(_facts(final, entry[1][2]))
            if final[_HEAD]:
                head_name = final[0]

        if old is not None and not member_changes and all(values[f] == old[f] for f in H_FIELDS):
            # Nothing the file says differs from what is stored: not written again (the derived figures follow
            # from these same inputs; a change of policy is applied by recomputing, not by re-importing).
            plan.hh_unchanged += 1
            return

        # Preloaded for every village of the file (load_state): a worker process never queries the database.
        policy = self.policy_cache[values["region"]]
        derived = derive(_HouseholdView(values), facts, policy, today=self.today)
        derived["head_name"] = head_name
        derived["head_initials"] = fast_initials(head_name) if head_name else ""
        values.update(derived)

        if old is None:
            plan.hh_new.append((number, values))
        else:
            changed = {f for f in H_ALL if values[f] != old[f]}
            if changed or member_changes:
                plan.hh_changed.append(
                    (number, old, values, _audit_detail(old, values, changed, member_changes))
                )
            else:
                plan.hh_unchanged += 1
        for change in member_changes:
            if change[0] == "new":
                plan.m_new.append((number, change[1], change[2]))
            else:
                plan.m_changed.append((number, change[1], change[2], change[3]))

    def merge(self, results: list[_SliceResult], hh_table, mem_table) -> _Merged:
        """The slices' results together; the checks that need every slice (an ID in two households of the file)
        or the database (an ID already registered elsewhere)."""
        merged = _Merged()
        problems: list[Problem] = []
        # An ID twice in the file is a wrong cell, found here when the two rows fell in different slices.
        duplicates: list[Problem] = []
        if mem_table is not None and len(results) > 1:
            first: dict[str, int] = {}
            for id18, row in sorted((pair for r in results for pair in r.ids), key=lambda p: p[1]):
                seen = first.get(id18)
                if seen is None:
                    first[id18] = row
                else:
                    duplicates.append(
                        Problem(
                            mem_table.file,
                            mem_table.sheet,
                            row,
                            "证件号码",
                            id18,
                            f"证件号码与第{seen}行重复",
                        )
                    )
        # Wrong cells are reported alone, as in a single slice: what follows from them would only confuse.
        cell_stage = bool(duplicates) or any(r.cell_problems for r in results)
        problems.extend(duplicates)
        for r in results:
            if r.cell_problems or not cell_stage:
                problems.extend(r.problems)
            merged.hh_new += r.n_hh_new
            merged.hh_changed += r.n_hh_changed
            merged.hh_unchanged += r.hh_unchanged
            merged.m_new += r.n_m_new
            merged.m_changed += r.n_m_changed
            merged.m_unchanged += r.m_unchanged
            merged.results.append(r)
        merged.preview = heapq.nsmallest(PREVIEW_HOUSEHOLDS, (p for r in results for p in r.preview))
        merged.official = sorted((o for r in results for o in r.official), key=lambda o: o[0])
        unknown = [u for r in results for u in r.unknown]
        if unknown and mem_table is not None and not cell_stage:
            homes = self.load_member_homes([u[0] for u in unknown])
            for index, row, own_pk, shown in unknown:
                home = homes.get(index)
                if home is not None and home != own_pk:
                    problems.append(
                        Problem(mem_table.file, mem_table.sheet, row, "证件号码", shown, _ID_ELSEWHERE)
                    )
        # Households' sheet first, then members'; within a sheet by row (a row's cells stay in column order).
        first_table = (hh_table.file, hh_table.sheet) if hh_table is not None else None
        problems.sort(key=lambda p: ((p.file, p.sheet) != first_table, p.row))
        self.problems = problems[:MAX_PROBLEMS]
        return merged
