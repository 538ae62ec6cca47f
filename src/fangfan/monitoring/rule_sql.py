"""The SQL building blocks of the screening rules (``rules`` holds the catalogue that uses them): literals and
numbers rendered for both databases, the :class:`Dialect` differences, the run's :class:`Context`, the candidate
queries over households, members and department records, :class:`RuleSpec`, and the one statement that stages a
rule's new warnings (``statement``, into ``STAGED``). How a rule becomes SQL, and why, is told in ``rules``."""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from fangfan.registry.choices import COMPULSORY_STAGES

from .choices import Channel, Source

RISK = "risk"
DOUBT = "doubt"
REGISTRY = ""  # the source of rules over the registry itself (系统筛查)
SYSTEM_SOURCE_LABEL = "系统筛查"

IN_SCHOOL = sorted(COMPULSORY_STAGES | {"普通高中", "中职"})  # as registry.derive counts "in school"
MONITORED_LABEL = "监测对象/脱贫户"
GENERAL_LABEL = "一般农户"


# --- SQL text helpers ------------------------------------------------------------------------------------------


def lit(text: object) -> str:
    """A SQL string literal. Statements always run with bound parameters, so ``%`` is doubled for the driver."""
    return "'" + str(text).replace("'", "''").replace("%", "%%") + "'"


def num(value: Decimal | int | float | str) -> str:
    """A numeric literal from a policy value (never user text)."""
    d = Decimal(str(value))
    if not d.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return format(d, "f")


def in_list(values) -> str:
    return "(" + ", ".join(lit(v) for v in values) + ")"


def yuan(expr: str) -> str:
    """A money value as text the same way on both databases: no thousands separator, the fen only when there
    are any (8000 → "8000", 8000.5 → "8000.5", 8000.05 → "8000.05"). NULL stays NULL."""
    c = f"CAST(ROUND(ABS({expr}) * 100) AS BIGINT)"
    return (
        f"(CASE WHEN {expr} < 0 THEN '-' ELSE '' END || CAST({c} / 100 AS TEXT) || "
        f"CASE WHEN {c} %% 100 = 0 THEN '' "
        f"WHEN {c} %% 10 = 0 THEN '.' || CAST(({c} %% 100) / 10 AS TEXT) "
        f"ELSE '.' || CASE WHEN {c} %% 100 < 10 THEN '0' ELSE '' END || CAST({c} %% 100 AS TEXT) END)"
    )


def yuan_text(value: Decimal | int | str) -> str:
    """The Python twin of :func:`yuan`, for figures that are constants of a statement (thresholds)."""
    d = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent(part: str, whole: str) -> str:
    """``part / whole`` as a whole percentage (text), the caller guarding ``whole > 0``."""
    return f"CAST(CAST(ROUND(({part}) * 100.0 / ({whole})) AS BIGINT) AS TEXT)"


def percent_text(ratio: Decimal) -> str:
    return yuan_text(Decimal(str(ratio)) * 100) + "%"


def as_text(expr: str) -> str:
    return f"CAST({expr} AS TEXT)"


class Sql(str):
    """A template field whose value is a SQL expression evaluated per row (a plain str is a constant)."""


def render(template: str, **fields: object) -> str:
    """The explanation template as one SQL text expression: literal pieces and per-row expressions joined with
    ``||``; a NULL field renders as empty text instead of making the whole sentence NULL."""
    parts: list[str] = []
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        if literal:
            parts.append(lit(literal))
        if name is not None:
            value = fields[name]
            parts.append(f"COALESCE({value}, '')" if isinstance(value, Sql) else lit(value))
    return " || ".join(parts) if parts else "''"


class Dialect:
    """The few places SQLite and PostgreSQL spell things differently."""

    def __init__(self, vendor: str):
        self.vendor = vendor
        self.pg = vendor == "postgresql"

    def json(self, **pairs: str) -> str:
        """A JSON object from SQL expressions (numbers stay numbers, text is escaped by the database)."""
        fn = "jsonb_build_object" if self.pg else "json_object"
        args = ", ".join(f"{lit(k)}, {v}" for k, v in pairs.items())
        return f"{fn}({args})"

    def json_text(self, column: str, key: str) -> str:
        """The text value of a top-level key of a JSON column (NULL when absent)."""
        if self.pg:
            return f"({column} ->> {lit(key)})"
        # Django writes JSON with ASCII escapes ("\u8bf4\u660e"); SQLite before 3.45 matches a path label against
        # the key as written, later versions against the decoded key: ask both ways.
        escaped = json.dumps(key)[1:-1]
        paths = [f'$."{key}"'] + ([f'$."{escaped}"'] if escaped != key else [])
        return "COALESCE(" + ", ".join(f"json_extract({column}, {lit(p)})" for p in paths) + ")"

    @property
    def null_timestamp(self) -> str:
        return "CAST(NULL AS TIMESTAMPTZ)" if self.pg else "NULL"


# --- what a rule statement is built from ------------------------------------------------------------------------


@dataclass
class Context:
    """One statement's setting: the parameter group's values, the scope predicates, today."""

    dialect: Dialect
    values: dict[str, Decimal]
    today: date
    households: str = "NOT h.cancelled"  # predicate on alias h (scope, not cancelled, incremental ids)
    records: str = "1 = 1"  # predicate on alias r (incremental: one batch)
    members: str = (
        "registry_member"  # or the run's temporary table of candidate members (see member_facts_sql)
    )

    @property
    def year(self) -> int:
        return self.today.year

    @property
    def school_day(self) -> date:
        """1 September of the current school year (DOMAIN.md §3)."""
        year = self.today.year if self.today.month >= 9 else self.today.year - 1
        return date(year, 9, 1)

    def born_between(self) -> tuple[date, date]:
        """Birth dates of compulsory-school age, as registry.derive counts it: ``min ≤ age < max`` on
        1 September → born after ``hi_excl`` … on or before ``lo_incl``; returned as (after, on_or_before)."""
        sept1 = self.school_day
        lo = int(self.values["school_age_min"])
        hi = int(self.values["school_age_max"])
        return sept1.replace(year=sept1.year - hi), sept1.replace(year=sept1.year - lo)


def candidates(
    ctx: Context,
    *,
    key: str,
    explanation: str,
    evidence: str,
    from_: str,
    where: str,
    record: str = "",
    arrived: str = "",
    prio: str = "0",
    tiebreak: str = "0",
) -> str:
    """The standard candidate row of every rule (one statement's inner SELECT)."""
    return (
        "SELECT h.id AS household_id, h.region_id AS region_code, "
        f"{record or 'CAST(NULL AS BIGINT)'} AS record_id, "
        f"{arrived or ctx.dialect.null_timestamp} AS arrived_at, "
        f"{key} AS dedupe_key, {explanation} AS explanation, {evidence} AS evidence, "
        f"{prio} AS prio, {tiebreak} AS tiebreak "
        f"FROM {from_} WHERE {ctx.households} AND {where}"
    )


MEMBER_COLUMNS = (
    "id", "household_id", "name", "birth_date", "status", "school_status", "not_in_school_reason",
    "serious_illness", "resident_medical", "employee_medical", "dibao", "tekun",
)  # fmt: skip
MEMBER_TABLE = "screening_members"


def member_facts_sql(households: str | None, school_age: tuple[date, date] | None) -> str:
    return f"CREATE TEMPORARY TABLE {MEMBER_TABLE} AS {member_facts_select(households, school_age)}"


def member_facts_select(households: str | None, school_age: tuple[date, date] | None) -> str:
    """One scan of the members for every member rule of a run (a temporary table, tiny next to the member table:
    the active members who are seriously ill, uninsured, on 低保/特困, or young enough to be of school age). Reading the wide
    member table once instead of once per rule is what keeps a county under the time target on SQLite."""
    young = (
        f" OR (m.birth_date > {lit(school_age[0].isoformat())} AND m.birth_date <= {lit(school_age[1].isoformat())})"
        if school_age
        else ""
    )
    columns = ", ".join(f"m.{c}" for c in MEMBER_COLUMNS)
    # The whole registry: one sequential scan (the rules join the households and their scope anyway); a region
    # or some households: through the household index.
    scope = (
        f"AND m.household_id IN (SELECT h.id FROM registry_household h WHERE {households}) "
        if households
        else ""
    )
    return (
        f"SELECT {columns} FROM registry_member m "
        f"WHERE m.status = 'active' {scope}"
        f"AND (m.serious_illness OR NOT m.resident_medical OR m.dibao OR m.tekun{young})"
    )


def member_facts_index() -> str:
    return f"CREATE INDEX {MEMBER_TABLE}_hh ON {MEMBER_TABLE} (household_id)"


def member_from(ctx: Context) -> str:
    # CROSS JOIN keeps SQLite on the (small) member facts first, then each household by its key; PostgreSQL plans
    # it as any inner join. The join condition is in the rule's WHERE (``MEMBER_JOIN``).
    return f"{ctx.members} m CROSS JOIN registry_household h"


MEMBER_JOIN = "h.id = m.household_id"


RECORD_FROM = (
    "monitoring_departmentrecord r "
    "JOIN monitoring_departmentbatch b ON b.id = r.batch_id "
    "JOIN registry_member m ON m.id = r.member_id "
    "JOIN registry_household h ON h.id = m.household_id"
)
ACTIVE = "m.status = 'active'"


def record_candidates(
    ctx: Context,
    source: str,
    *,
    key_value: str,
    explanation: str,
    evidence: dict[str, str],
    where: str,
    prio: str = "0",
    active: bool = True,
) -> str:
    """Candidates from one department's rows: matched, of active members (unless ``active`` is False, e.g. a
    death), the key the row's content."""
    key = f"'m' || {as_text('m.id')} || ':' || COALESCE({as_text('r.event_date')}, '') || ':' || {key_value}"
    conditions = [f"r.source = {lit(source)}", ctx.records, where]
    if active:
        conditions.insert(1, ACTIVE)
    return candidates(
        ctx,
        key=key,
        explanation=explanation,
        evidence=ctx.dialect.json(record="r.id", member="m.id", batch="r.batch_id", **evidence),
        from_=RECORD_FROM,
        where=" AND ".join(conditions),
        record="r.id",
        arrived="b.created_at",
        prio=prio,
        tiebreak="r.id",
    )


def member_name(expr: str = "m") -> str:
    """成员姓名（出生年份）, e.g. 张小明（2012年生）."""
    return f"{expr}.name || '（' || SUBSTR({as_text(expr + '.birth_date')}, 1, 4) || '年生）'"


def is_monitored(h: str = "h") -> str:
    """脱贫户 or a monitoring object: the class the lower medical threshold applies to."""
    return f"({h}.household_type = 'exited' OR {h}.monitoring_type <> '')"


# --- the catalogue ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSpec:
    code: str
    name: str
    risk_type: str
    kind: str
    source: str
    parameters: tuple[str, ...]
    template: str
    build: Callable[[Context, RuleSpec], str] = field(repr=False)
    one_per_household: bool = False  # the candidates never hold two rows for one household
    reads_members: bool = False  # reads the run's member facts (member_facts_sql)

    def candidates_sql(self, ctx: Context) -> str:
        return self.build(ctx, self)

    @property
    def source_label(self) -> str:
        return Source(self.source).label if self.source else SYSTEM_SOURCE_LABEL


OPEN = ("pending", "verifying")

# The run's temporary table of new warnings: what the rule statements insert, before they reach the warnings table.
STAGED = "screening_new"
STAGED_COLUMNS = (
    "household_id", "region_code", "rule_code", "risk_type", "kind", "channel", "source", "record_id",
    "dedupe_key", "explanation", "evidence",
)  # fmt: skip


def staged_table_sql(dialect: Dialect) -> str:
    """The ``CREATE TEMPORARY TABLE`` of ``STAGED`` (no index, no constraint: written once, read once)."""
    evidence = "JSONB" if dialect.pg else "TEXT"
    return (
        f"CREATE TEMPORARY TABLE {STAGED} (household_id BIGINT NOT NULL, region_code VARCHAR(12) NOT NULL, "
        "rule_code VARCHAR(40) NOT NULL, risk_type VARCHAR(20) NOT NULL, kind VARCHAR(10) NOT NULL, "
        "channel VARCHAR(20) NOT NULL, source VARCHAR(20) NOT NULL, record_id BIGINT, "
        f"dedupe_key VARCHAR(80) NOT NULL, explanation VARCHAR(500) NOT NULL, evidence {evidence})"
    )


def statement(rule: RuleSpec, ctx: Context) -> str:
    """The one INSERT … SELECT of a rule into the run's table of new warnings (``STAGED``); no bound parameters."""
    inner = rule.candidates_sql(ctx)
    ranked = (
        f"SELECT k.*, 1 AS rn FROM ({inner}) k"
        if rule.one_per_household
        else (
            "SELECT k.*, ROW_NUMBER() OVER (PARTITION BY k.household_id "
            f"ORDER BY k.prio DESC, k.tiebreak DESC) AS rn FROM ({inner}) k"
        )
    )
    risk_point = (
        " AND NOT EXISTS (SELECT 1 FROM monitoring_riskpoint p WHERE p.household_id = c.household_id "
        f"AND p.risk_type = {lit(rule.risk_type)} AND p.state = 'open')"
        if rule.kind == RISK
        else ""
    )
    return (
        f"INSERT INTO {STAGED} ({', '.join(STAGED_COLUMNS)}) "
        f"SELECT c.household_id, c.region_code, {lit(rule.code)}, {lit(rule.risk_type)}, {lit(rule.kind)}, "
        f"{lit(Channel.DEPARTMENT)}, {lit(rule.source)}, c.record_id, SUBSTR(c.dedupe_key, 1, 80), "
        "SUBSTR(c.explanation, 1, 500), c.evidence "
        f"FROM ({ranked}) c "
        "WHERE c.rn = 1 AND NOT EXISTS (SELECT 1 FROM monitoring_earlywarning w "
        f"WHERE w.household_id = c.household_id AND w.rule_code = {lit(rule.code)} "
        f"AND (w.dedupe_key = SUBSTR(c.dedupe_key, 1, 80) OR w.state IN {in_list(OPEN)} "
        "OR (c.arrived_at IS NOT NULL AND (w.decided_at IS NULL OR w.decided_at >= c.arrived_at))))"
        f"{risk_point}"
    )
