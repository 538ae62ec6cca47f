"""Screening: run the rule catalogue (``monitoring.rules``) over a region as set-based SQL — one INSERT … SELECT per
rule and parameter group, never a loop over households — and record what it found (``ScreeningRun``).

* Full: ``screening_run(region_code=..., actor=...)`` — every enabled rule over the region's households
  (not cancelled; active members).
* Incremental: ``household_ids=[...]`` restricts every rule to those households; ``batch=`` (after a department
  import) runs only the rules of the batch's source over the batch's own rows.

Policy parameters are resolved per region with one query of ``PolicyValue`` rows; the regions of the scope are
grouped by the values a rule reads, and the rule runs once per distinct group (usually once, over the code range).
Running twice raises nothing new (see ``rules`` on dedupe). The rule statements write the run's temporary table
of new warnings; ``monitoring.services.warnings_insert_bundled`` then writes them to the warnings table in one
statement, each already attached to its household's one verification task (opened first where there is none).

The town station's button starts a background job of kind ``screening`` (``screening_start``); the command is
``fangfan screen [--region CODE]``; a scheduled run is that command in cron (README).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from fangfan.core import audit
from fangfan.core.errors import DomainError
from fangfan.core.job_access import job_rule
from fangfan.core.jobs import job_handler, job_start
from fangfan.policy.models import PolicyValue
from fangfan.policy.parameters import PARAMETERS
from fangfan.regions.codes import ancestors_of, code_range
from fangfan.regions.models import Region

from .models import DepartmentBatch, EarlyWarning, Rule, ScreeningRun
from .rule_sql import (
    MEMBER_TABLE,
    REGISTRY,
    STAGED,
    STAGED_COLUMNS,
    Context,
    Dialect,
    RuleSpec,
    in_list,
    lit,
    member_facts_index,
    member_facts_select,
    member_facts_sql,
    staged_table_sql,
    statement,
)
from .rules import RULES, rules_for
from .services import tasks_bundle, warnings_insert_bundled

if TYPE_CHECKING:
    from fangfan.accounts.models import User

JOB_KIND = "screening"
job_rule(JOB_KIND, action="screen.run")  # who may see a screening job (core.job_access)
ID_CHUNK = 5000
ANALYZE_AFTER = 5000  # new warnings in one run above which the table's statistics are refreshed
Progress = Callable[[int, int, str], None]


# --- the Rule table follows the catalogue -----------------------------------------------------------------------


def rules_sync() -> dict[str, bool]:
    """Upsert the catalogue into the ``Rule`` table, keeping each rule's ``enabled``; returns code → enabled."""
    existing = {r.code: r for r in Rule.objects.all()}
    fields = ["name", "risk_type", "kind", "source", "template", "parameters"]
    create, update = [], []
    for spec in RULES.values():
        values = {
            "name": spec.name,
            "risk_type": str(spec.risk_type),
            "kind": spec.kind,
            "source": str(spec.source),
            "template": spec.template,
            "parameters": list(spec.parameters),
        }
        row = existing.get(spec.code)
        if row is None:
            create.append(Rule(code=spec.code, **values))
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            update.append(row)
    if create:
        Rule.objects.bulk_create(create, ignore_conflicts=True)
    if update:
        Rule.objects.bulk_update(update, fields)
    enabled = {code: row.enabled for code, row in existing.items()}
    enabled.update({r.code: True for r in create})
    return enabled


# --- policy parameters per region, grouped ----------------------------------------------------------------------


def _resolve(chain: list[str], rows: dict[str, dict[str, list[tuple[int, Decimal]]]]) -> dict[str, Decimal]:
    """The values for a region whose ancestor chain (province first, itself last) is ``chain``."""
    values = {key: spec.default for key, spec in PARAMETERS.items()}
    best: dict[str, tuple[int, int]] = {}
    for depth, code in enumerate(chain):
        for key, entries in rows.get(code, {}).items():
            for year, value in entries:
                if key not in best or (depth, year) > best[key]:
                    best[key] = (depth, year)
                    values[key] = value
    return values


def policy_groups(region_code: str | None, *, year: int) -> tuple[dict[str, Decimal], dict[str, dict]]:
    """Policy values over a scope, with one query of ``PolicyValue`` rows (and one of regions when some region
    inside the scope overrides a value). Returns (values at the scope root, {region code: values} for the regions
    whose values differ from the root's — empty in the usual case)."""
    root_chain = [*ancestors_of(region_code), region_code] if region_code else []
    query = Q(year__lte=year)
    if region_code:
        lo, hi = code_range(region_code)
        query &= Q(region_id__in=root_chain) | Q(region_id__gte=lo, region_id__lt=hi)
    rows: dict[str, dict[str, list[tuple[int, Decimal]]]] = defaultdict(lambda: defaultdict(list))
    # Unscoped: the published parameters that apply to the screened places (their ancestors' values included).
    for key, code, y, value in (
        PolicyValue.objects.unscoped().filter(query).values_list("key", "region_id", "year", "value")
    ):
        if key in PARAMETERS:
            rows[code][key].append((y, value))
    root_values = _resolve(root_chain, rows)
    inside = [code for code in rows if code not in root_chain]
    if not inside:
        return root_values, {}
    regions = Region.objects.all()
    if region_code:
        regions = regions.filter(code__gte=lo, code__lt=hi)
    differing: dict[str, dict] = {}
    cache: dict[tuple, dict[str, Decimal]] = {}
    overriding = set(rows)
    for code in regions.values_list("code", flat=True):
        chain = [*ancestors_of(code), code]
        deciding = tuple(c for c in chain if c in overriding)
        if deciding not in cache:
            cache[deciding] = _resolve(chain, rows)
        values = cache[deciding]
        if values != root_values:
            differing[code] = values
    return root_values, differing


def rule_groups(
    rule: RuleSpec, root_values: dict[str, Decimal], differing: dict[str, dict]
) -> list[tuple[dict[str, Decimal], list[str] | None, list[str]]]:
    """The parameter groups of one rule: (values, regions to include or None = all, regions to leave out)."""
    if not rule.parameters or not differing:
        return [(root_values, None, [])]
    project = lambda v: tuple(v[k] for k in rule.parameters)  # noqa: E731
    root_key = project(root_values)
    others: dict[tuple, list[str]] = defaultdict(list)
    values_of: dict[tuple, dict] = {}
    for code, values in differing.items():
        key = project(values)
        if key != root_key:
            others[key].append(code)
            values_of[key] = values
    if not others:
        return [(root_values, None, [])]
    excluded = [code for codes in others.values() for code in codes]
    groups: list[tuple[dict, list[str] | None, list[str]]] = [(root_values, None, excluded)]
    groups += [(values_of[key], codes, []) for key, codes in others.items()]
    return groups


# --- the run ------------------------------------------------------------------------------------------------------


def _chunks(ids: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _execute(sql: str) -> int:
    """One rule statement. It writes only the run's temporary table: no transaction of its own, and on SQLite no
    write lock on the database (other writers go on while the rules read)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, [])
        return max(cursor.rowcount, 0)


def _check_actor(actor: User, region_code: str | None) -> str | None:
    """A web user may screen only inside the jurisdiction and only with ``screen.run``; the command line and the
    department import (incremental, over the batch it just wrote) are trusted callers."""
    if actor is None:
        raise DomainError("筛查须有办理账号")
    if actor.is_operator:
        return region_code
    if not actor.can("screen.run"):
        raise DomainError("您的角色无权发起预警筛查")
    span = actor.jurisdiction_range()
    region_code = region_code or actor.region_id
    if span is None or not region_code or not (span[0] <= region_code < span[1]):
        raise DomainError("只能筛查本辖区")
    return region_code


def _root_code() -> str:
    """The smallest region holding every household (a county in practice): where a run over everything is filed,
    so that the county sees it in its history."""
    from django.db.models import Max, Min

    from fangfan.regions.codes import PREFIX, Level
    from fangfan.registry.models import Household

    # Unscoped: only where to file a run over everything (the operator's); two codes, no household.
    bounds = Household.objects.unscoped().aggregate(lo=Min("region_id"), hi=Max("region_id"))
    lo, hi = bounds["lo"], bounds["hi"]
    if not lo:
        return ""
    for level in (Level.VILLAGE, Level.TOWN, Level.COUNTY, Level.CITY, Level.PROVINCE):
        code = lo[: PREFIX[level]].ljust(12, "0")
        start, end = code_range(code)
        if start <= hi < end and Region.objects.filter(code=code).exists():
            return code
    return ""


FEW_HOUSEHOLDS = 50  # up to this many households, the member facts are a subquery, not a temporary table


def _member_facts(specs, base, id_sets, value_sets, today, dialect) -> str:
    """What the member rules read their candidate members from (``Context.members``): the run's temporary table
    (one scan of members), built here — or, for a few households (a visit's re-screening), the same SELECT as a
    subquery in each member rule: the table's creation, index, statistics and drop were most of the fixed cost of
    re-screening one household (PostgreSQL writes its catalogue for each). "" when no member rule runs."""
    if not any(rule.reads_members for rule in specs):
        return ""
    school_age = None
    if any(rule.reads_members and "school_age_max" in rule.parameters for rule in specs):
        spans = [Context(dialect, values, today).born_between() for values in value_sets]
        school_age = (min(a for a, _ in spans), max(b for _, b in spans))
    where = list(base)
    if len(id_sets) == 1 and id_sets[0] is not None:
        where.append(f"h.id IN ({', '.join(str(i) for i in id_sets[0])})")
        if len(id_sets[0]) <= FEW_HOUSEHOLDS:
            return f"({member_facts_select(' AND '.join(where), school_age)})"
    _drop_member_facts()
    with connection.cursor() as cursor:
        scoped = where != ["NOT h.cancelled"]
        cursor.execute(
            member_facts_sql(" AND ".join(where) if scoped else None, school_age).replace("%%", "%")
        )
        cursor.execute(member_facts_index())
        if connection.vendor == "postgresql":
            # Only the join column: with every column's statistics PostgreSQL hashed the whole household table
            # for each member rule instead of looking up the few households by key (measured at county scale:
            # the member rules 0.1–0.15 s each → 0.03–0.08 s, and the ANALYZE itself 0.1 s → 0.03 s).
            cursor.execute(f"ANALYZE {MEMBER_TABLE} (household_id)")
    return MEMBER_TABLE


def _drop_member_facts() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {MEMBER_TABLE}")


def _staged_create(dialect: Dialect) -> None:
    """The run's temporary table of new warnings (``rule_sql.STAGED``), empty."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGED}")
        cursor.execute(staged_table_sql(dialect))


def _staged_drop() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGED}")


def _analyze_warnings(dialect: Dialect) -> None:
    """Refresh the warnings' planner statistics (on PostgreSQL only the columns the rules and the bundling join
    on: the whole table's long texts made each ANALYZE 0.4 s at county scale)."""
    table = EarlyWarning._meta.db_table
    columns = (
        " (household_id, rule_code, dedupe_key, state, record_id, task_id, created_at)" if dialect.pg else ""
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}{columns}")


def _run_rules(specs, *, base, id_sets, records, groups, today, dialect, members, per_rule, progress) -> int:
    """Each rule, once per parameter group (and chunk of household ids): one INSERT … SELECT each into the run's
    table of new warnings. The warnings table does not change meanwhile, so its planner statistics stay true."""
    root_values, differing = groups
    total = 0
    for index, rule in enumerate(specs):
        r0 = time.perf_counter()
        count = 0
        if progress:
            progress(index, len(specs), f"正在筛查：{rule.name}")
        for values, include, exclude in rule_groups(rule, root_values, differing):
            scope = list(base)
            if include is not None:
                scope.append(f"h.region_id IN {in_list(include)}")
            if exclude:
                scope.append(f"h.region_id NOT IN {in_list(exclude)}")
            for ids in id_sets:
                where = scope + ([f"h.id IN ({', '.join(str(i) for i in ids)})"] if ids is not None else [])
                ctx = Context(dialect, values, today, households=" AND ".join(where), records=records)
                if members and rule.reads_members:
                    ctx.members = members
                count += _execute(statement(rule, ctx))
        total += count
        per_rule[rule.code] = {"name": rule.name, "new": count, "seconds": round(time.perf_counter() - r0, 4)}
    return total


def screening_run(
    *,
    region_code: str | None = None,
    actor: User,
    household_ids: Iterable[int] | None = None,
    sources: list[str] | None = None,
    batch: DepartmentBatch | None = None,
    progress: Progress | None = None,
    today: date | None = None,
    after_edit: bool = False,
) -> ScreeningRun:
    """Run the enabled rules over a region (default: everything), or incrementally over some households or the
    rows of one department batch. Returns the recorded ``ScreeningRun`` (per-rule counts and seconds).

    ``after_edit``: the caller has just changed ``household_ids`` through a registry service that checked the
    actor's right and jurisdiction (a contact's visit, ``assistance.visits``); re-screening them is part of that
    change, so the actor needs no ``screen.run``."""
    if after_edit and household_ids is None:
        raise ValueError("after_edit screens only the households just edited")
    if batch is None and not after_edit:
        region_code = _check_actor(actor, region_code)
    elif region_code is None:
        region_code = batch.region_id
    if batch is not None and sources is None:
        sources = [batch.source]
    today = today or timezone.localdate()
    started_at = timezone.now()
    t0 = time.perf_counter()
    dialect = Dialect(connection.vendor)

    with transaction.atomic():
        enabled = rules_sync()
    specs = [r for r in rules_for(sources) if enabled.get(r.code, True)]
    root_values, differing = policy_groups(region_code, year=today.year)

    base = ["NOT h.cancelled"]
    if region_code:
        lo, hi = code_range(region_code)
        base.append(f"h.region_id >= {lit(lo)} AND h.region_id < {lit(hi)}")
    id_sets: list[list[int] | None] = [None]
    if household_ids is not None:
        ids = sorted({int(i) for i in household_ids})
        id_sets = list(_chunks(ids, ID_CHUNK))
    records = f"r.batch_id = {int(batch.pk)}" if batch is not None else "1 = 1"

    per_rule: dict[str, dict] = {}
    members = _member_facts(specs, base, id_sets, [root_values, *differing.values()], today, dialect)
    _staged_create(dialect)
    try:
        found = _run_rules(
            specs,
            base=base,
            id_sets=id_sets,
            records=records,
            groups=(root_values, differing),
            today=today,
            dialect=dialect,
            members=members,
            per_rule=per_rule,
            progress=progress,
        )
        if members == MEMBER_TABLE:
            _drop_member_facts()
        members = ""
        total = 0
        if found:
            # Every new warning written once, already in its household's verification task.
            total = warnings_insert_bundled(
                staged=STAGED,
                columns=STAGED_COLUMNS,
                created_at=started_at,
                actor=actor,
                region_code=region_code,
            )
        if household_ids is None and batch is None:
            # A full run also bundles whatever pending warning of the region is still outside a task (normally
            # none: every writer bundles; the partial index of pending warnings makes the look cheap).
            tasks_bundle(region_code=region_code, actor=actor)
    finally:
        if members == MEMBER_TABLE:
            _drop_member_facts()
        _staged_drop()
    if progress:
        progress(len(specs), len(specs), "筛查完成")
    if total >= ANALYZE_AFTER:
        # Many new rows (a first screening): refresh the planner's statistics so that the next run and the pages
        # see the table as it is (PostgreSQL plans nested loops over a table it believes empty).
        _analyze_warnings(dialect)

    with transaction.atomic():
        run = ScreeningRun.objects.create(
            region_code=region_code or _root_code(),
            batch=batch,
            started_at=started_at,
            finished_at=timezone.now(),
            started_by=actor if getattr(actor, "pk", None) else None,
            new_warnings=total,
            per_rule=per_rule,
            seconds=round(time.perf_counter() - t0, 4),
        )
        if batch is not None:
            DepartmentBatch.objects.unscoped().filter(pk=batch.pk).update(  # the batch being screened
                warnings_raised=total, state=DepartmentBatch.State.SCREENED
            )
        audit.record(
            actor,
            "screening.run",
            run,
            after={
                "region": run.region_code,
                "batch": batch.pk if batch else None,
                "incremental": household_ids is not None or batch is not None,
                "new_warnings": total,
                "per_rule": {code: item["new"] for code, item in per_rule.items() if item["new"]},
                "bundled": total,
            },
            object_label=f"筛查 {run.pk}",
        )
    return run


def screening_start(*, actor: User, region_code: str | None = None):
    """Start a screening of the actor's jurisdiction (or a region inside it) as a background job."""
    region_code = _check_actor(actor, region_code)
    region = Region.objects.filter(code=region_code).first() if region_code else None
    title = f"预警筛查（{region.name if region else '全部地区'}）"
    return job_start(kind=JOB_KIND, title=title, actor=actor, params={}, region_code=region_code or "")


@job_handler(JOB_KIND)
def screening_job(job, progress) -> dict:
    run = screening_run(region_code=job.region_code or None, actor=job.created_by, progress=progress)
    return {
        "message": f"筛查完成：新增预警 {run.new_warnings} 条，用时 {run.seconds:.1f} 秒",
        "run": run.pk,
        "new_warnings": run.new_warnings,
    }


def screening_after_visit(*, household, actor: User) -> list[str]:
    """Re-screen one household whose registry data a contact just changed (``assistance.visits``); the names of the
    warnings this raised (a rule raises once per evidence, so an unchanged finding raises nothing new).

    Only the rules over the registry itself (source ``REGISTRY``: income, 三保障, members): what a visit changes.
    The department-data rules read records that arrive in batches and run then (and in every full run); restricted
    to one household they still cost a scan of their records each (about 130 of 300 ms on the county benchmark)."""
    before = set(household.warnings.values_list("pk", flat=True))
    screening_run(
        household_ids=[household.pk],
        region_code=household.region_id,
        actor=actor,
        sources=[REGISTRY],
        after_edit=True,
    )
    raised = household.warnings.exclude(pk__in=before).select_related("rule").order_by("id")
    return [w.rule.name if w.rule else w.get_risk_type_display() for w in raised]
