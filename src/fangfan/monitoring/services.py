"""Warnings, verification tasks, risk points and clues: the writes of early warning (plan M4, M5, M14).

One visit settles every open warning of a household: ``tasks_bundle`` attaches all pending warnings of each
household to that household's one open verification task (created when there is none), set-based, so the
screening engine can call it for 20 000 households after a department batch. ``task_complete`` records the
visit and decides each warning: confirmed warnings become risk points (``risk_confirm``), excluded ones keep
their reason. Manual channels (农户自主申报, 基层干部排查, 督查暗访反馈, 市级反馈预警) create warnings through
``warning_report``; the public self-report page stores a clue (``clue_submit_public``) that the town station
links to a household or closes.

Deadlines come from the policy table (入户核查 ``verify_days``, clue to decision ``decide_days``, risk removal
``risk_deadline_days``), resolved per village.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from fangfan.accounts.models import User
from fangfan.core import audit
from fangfan.core.errors import DomainError
from fangfan.core.masking import mask_id
from fangfan.core.testhooks import checkpoint
from fangfan.policy.models import PolicyValue
from fangfan.policy.parameters import PARAMETERS
from fangfan.regions.codes import Level, ancestors_of, code_range, level_of
from fangfan.regions.models import Region
from fangfan.registry import bulkdb
from fangfan.registry.idnumber import IdNumberError, parse_id
from fangfan.registry.models import Household, Member

from .choices import Channel, RiskType
from .models import Clue, EarlyWarning, RiskPoint, Rule, VerificationTask
from .rule_sql import lit

if TYPE_CHECKING:
    from fangfan.accounts.models import User

State = EarlyWarning.State

# How a verification visit was made (核查方式); stored as the Chinese word.
VISIT_WAYS: tuple[str, ...] = ("入户", "电话", "微信", "视频")
# Channels a person records by hand; 部门筛查预警 comes only from the screening engine.
MANUAL_CHANNELS: tuple[str, ...] = (Channel.SELF_REPORT, Channel.CADRE, Channel.INSPECTION, Channel.CITY)
CONFIRM, EXCLUDE = "confirm", "exclude"
DEADLINE_KEYS = ("verify_days", "decide_days", "risk_deadline_days")
# Rows per INSERT when staging many household ids (SQLite allows 32 766 parameters per statement).
_CHUNK = 2000
VISIT = "warning.visit"  # completing a verification visit (accounts.roles)
CLUE_HANDLE = "clue.handle"  # linking a clue to a household or closing it: the town station's (docs/roles.md)
FEEDBACK = "warning.feedback"  # recording a warning fed back from above (督查暗访反馈, 市级反馈预警)


# --- permissions and jurisdiction ----------------------------------------------------------------------------


def _ensure_can(actor: User, *actions: str, message: str) -> None:
    """The actor's role allows one of ``actions`` (the operator's allows every action)."""
    if actor is None or not any(actor.can(action) for action in actions):
        raise DomainError(message)


def _ensure_in_jurisdiction(actor: User, region_code: str, message: str = "该农户不在您的管辖范围内") -> None:
    span = actor.jurisdiction_range() if actor is not None else None
    if span is None or not (span[0] <= region_code < span[1]):
        raise DomainError(message)


# --- deadlines from the policy table ---------------------------------------------------------------------------


def policy_days(region_codes: Iterable[str], *, year: int | None = None) -> dict[str, dict[str, int]]:
    """The deadline parameters (days) for each region code, in one query for all of them: the nearest ancestor's
    latest value for a year ≤ ``year`` applies, else the catalogue default (the same rule as
    ``policy.services.policy_values``)."""
    year = year or timezone.localdate().year
    chains = {code: [*ancestors_of(code), code] for code in set(region_codes)}
    if not chains:
        return {}
    every = set().union(*chains.values())
    rows: dict[str, list[tuple[str, int, Decimal]]] = defaultdict(list)
    # Unscoped: the published parameters in force for these places (their ancestors' values apply to them).
    for key, code, y, value in (
        PolicyValue.objects.unscoped()
        .filter(key__in=DEADLINE_KEYS, region_id__in=every, year__lte=year)
        .values_list("key", "region_id", "year", "value")
    ):
        rows[code].append((key, y, value))
    result: dict[str, dict[str, int]] = {}
    for code, chain in chains.items():
        best: dict[str, tuple[int, int, Decimal]] = {}
        for depth, ancestor in enumerate(chain):
            for key, y, value in rows.get(ancestor, ()):
                if key not in best or (depth, y) > best[key][:2]:
                    best[key] = (depth, y, value)
        result[code] = {
            key: int(best[key][2] if key in best else PARAMETERS[key].default) for key in DEADLINE_KEYS
        }
    return result


def _days(region_code: str, key: str) -> int:
    return policy_days([region_code])[region_code][key]


# --- bundling warnings into verification tasks ----------------------------------------------------------------


_IDS_TABLE = "ff_bundle_households"
# Above this many households the ids go to a temporary table instead of an IN list.
_INLINE_IDS = 500
# PostgreSQL: new tasks in one statement above which the tasks' planner statistics are refreshed.
_ANALYZE_TASKS = 5000


def _tables() -> dict[str, str]:
    return {
        "w": EarlyWarning._meta.db_table,
        "t": VerificationTask._meta.db_table,
        "h": Household._meta.db_table,
    }


def _stage_ids(cur: CursorWrapper, ids: list[int]) -> str:
    """Put many household ids in a per-connection temporary table (both databases); return the SQL that selects
    them. A temporary table keeps each statement small whatever the number of households."""
    cur.execute(f"DROP TABLE IF EXISTS {_IDS_TABLE}")
    cur.execute(f"CREATE TEMPORARY TABLE {_IDS_TABLE} (id BIGINT PRIMARY KEY)")
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        cur.execute(f"INSERT INTO {_IDS_TABLE} (id) VALUES {', '.join(['(%s)'] * len(chunk))}", chunk)
    return f"SELECT id FROM {_IDS_TABLE}"


def _tasks_open(
    cur: CursorWrapper, *, households: str, params: list[Any], villages: list[str], bulk: bool = False
) -> int:
    """Open a verification task for every household that ``households`` selects (a query of rows with
    ``household_id`` and ``region_code``, the household's village) and that has no open task: due in
    ``verify_days``, decision by ``decide_days``, both read from the policy table for the village. One
    INSERT … SELECT per distinct pair of deadlines (normally one for the whole set). ``bulk``: inside
    ``_indexes_rebuilt`` (no unique index to skip on). Returns the tasks created."""
    if not villages:
        return 0
    tables = _tables()
    days = policy_days(villages)
    groups: dict[tuple[int, int], list[str]] = defaultdict(list)
    for village in villages:
        groups[(days[village]["verify_days"], days[village]["decide_days"])].append(village)
    today = timezone.localdate()
    opened_at = connection.ops.adapt_datetimefield_value(timezone.now())
    open_ = VerificationTask.State.OPEN.value
    created = 0
    for (verify, decide), group in groups.items():
        village_lists: list[list[str] | None] = (
            [None] if len(groups) == 1 else [group[i : i + 500] for i in range(0, len(group), 500)]
        )
        for village_list in village_lists:
            village_sql = "1 = 1"  # (SQLite needs a WHERE before ON CONFLICT in an INSERT … SELECT)
            if village_list is not None:
                village_sql = f"s.region_code IN ({', '.join(['%s'] * len(village_list))})"
            # A household that has an open task already is skipped by the unique index ``one_open_task`` (ON
            # CONFLICT), not by a NOT EXISTS over the table being written: PostgreSQL planned that as a scan of
            # the growing table for every household (35 s for 67 000 tasks on a table analysed empty). In bulk
            # mode there is no such index, and the table is small: NOT EXISTS, planned as one hash (no nested
            # loops there).
            skip = (
                f" AND NOT EXISTS (SELECT 1 FROM {tables['t']} t WHERE t.household_id = s.household_id"
                f" AND t.state = {lit(open_)})"
                if bulk
                else " ON CONFLICT DO NOTHING"
            )
            cur.execute(
                f"INSERT INTO {tables['t']}"
                " (household_id, region_code, state, opened_at, due_date, decide_by, visit_way, finding)"
                " SELECT s.household_id, s.region_code, %s, %s, %s, %s, '', ''"
                f" FROM ({households}) s WHERE {village_sql}{skip}",
                [
                    open_,
                    opened_at,
                    connection.ops.adapt_datefield_value(today + timedelta(days=verify)),
                    connection.ops.adapt_datefield_value(today + timedelta(days=decide)),
                    *params,
                    *(village_list or []),
                ],
            )
            created += max(cur.rowcount, 0)
    if created >= _ANALYZE_TASKS and connection.vendor == "postgresql":
        # Many new tasks (a first screening): what joins them next must not plan for the empty table it knew.
        cur.execute(f"ANALYZE {tables['t']} (household_id, state)")
    return created


def _attach_pending(cur: CursorWrapper, scope_sql: str, scope_params: list[Any]) -> int:
    """Attach the pending warnings in scope (``scope_sql`` narrows alias ``w``) to their household's open task
    and move them to 核查中: one UPDATE … FROM join (SQLite ≥ 3.33 and PostgreSQL). The states are literals so
    that both databases use the partial index of pending warnings."""
    tables = _tables()
    cur.execute(
        f"UPDATE {tables['w']} AS w SET state = {lit(State.VERIFYING)}, task_id = t.id FROM {tables['t']} t"
        f" WHERE t.household_id = w.household_id AND t.state = {lit(VerificationTask.State.OPEN)}"
        f" AND w.state = {lit(State.PENDING)}{scope_sql}",
        scope_params,
    )
    return max(int(cur.rowcount), 0)


def _bundle_pending(cur: CursorWrapper, scope_sql: str, scope_params: list[Any]) -> tuple[int, int]:
    """Open the missing tasks for the households with pending warnings in scope (``scope_sql`` narrows alias
    ``w``), then attach those warnings. Returns (warnings attached, tasks created)."""
    tables = _tables()
    pending_households = (
        f"SELECT w.household_id FROM {tables['w']} w WHERE w.state = {lit(State.PENDING)}{scope_sql}"
    )
    households = (
        f"SELECT h.id AS household_id, h.region_id AS region_code FROM {tables['h']} h"
        f" WHERE h.id IN ({pending_households})"
    )
    # Driven from the pending warnings (their partial index; usually none): SQLite ran the IN form as a scan of
    # every household.
    cur.execute(
        f"SELECT DISTINCT h.region_id FROM {tables['w']} w JOIN {tables['h']} h ON h.id = w.household_id"
        f" WHERE w.state = {lit(State.PENDING)}{scope_sql}",
        scope_params,
    )
    villages = sorted(row[0] for row in cur.fetchall())
    if not villages:
        return 0, 0
    created = _tasks_open(cur, households=households, params=scope_params, villages=villages)
    return _attach_pending(cur, scope_sql, scope_params), created


def tasks_bundle(
    *, household_ids: Iterable[int] | None = None, region_code: str | None = None, actor: User | None
) -> int:
    """Attach every pending warning of each household to that household's one open verification task, creating
    the task where there is none (due in ``verify_days``, decision by ``decide_days``, for the household's
    village); attached warnings move to 核查中. Set-based: a handful of statements whatever the number of
    households. ``household_ids`` and ``region_code`` narrow the set (both None: every pending warning).
    Returns the number of warnings attached. ``actor`` is who the audit event names: None only for the public
    self-report page, where nobody is signed in. (A screening writes its warnings already attached:
    ``warnings_insert_bundled``.)"""
    scope_sql, scope_params = "", list[Any]()
    ids: list[int] | None = None
    if household_ids is not None:
        ids = sorted({int(i) for i in household_ids})
        if not ids:
            return 0
    if region_code:
        lo, hi = code_range(region_code)
        scope_sql += " AND w.region_code >= %s AND w.region_code < %s"
        scope_params += [lo, hi]
    with transaction.atomic(), connection.cursor() as cur:
        staged = ids is not None and len(ids) > _INLINE_IDS
        if ids is not None:
            if staged:
                scope_sql += f" AND w.household_id IN ({_stage_ids(cur, ids)})"
            else:
                scope_sql += f" AND w.household_id IN ({', '.join(['%s'] * len(ids))})"
                scope_params += ids
        attached, created = _bundle_pending(cur, scope_sql, scope_params)
        if staged:
            cur.execute(f"DROP TABLE IF EXISTS {_IDS_TABLE}")
        if attached:
            audit.record(
                actor,
                "warning.bundled",
                object_type="monitoring.verificationtask",
                region_code=region_code or "",
                after={
                    "warnings": attached,
                    "tasks_created": created,
                    "households": len(ids) if ids else None,
                },
                note="预警归并到核查任务",
            )
    return attached


# PostgreSQL: a screening writing at least this many warnings into a table holding fewer rebuilds the indexes.
_BULK_MIN = 20_000


def _bulk_applies(cur: CursorWrapper, incoming: int) -> bool:
    """Whether writing ``incoming`` new warnings at least doubles the warnings table (a first screening): then
    ``_indexes_rebuilt`` costs less than keeping every index and foreign key up to date row by row. Reads at most
    ``incoming`` rows to decide."""
    if connection.vendor != "postgresql" or incoming < _BULK_MIN:
        return False
    cur.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM {_tables()['w']} LIMIT %s) w", [incoming])
    return bool(cur.fetchone()[0] < incoming)


@contextmanager
def _indexes_rebuilt(cur: CursorWrapper, tables: list[str]) -> Iterator[None]:
    """PostgreSQL, inside the caller's transaction, around a bulk write into ``tables``: drop their secondary
    indexes and their unique and foreign-key constraints, and build them again once the rows are in. At county
    scale a first screening writes 80 000 warnings and 67 000 tasks; kept up to date row by row, the indexes and
    the per-row foreign-key checks (a lookup and a row lock each) cost ≈ 2.9 s of the server's time, rebuilt ≈ 1 s.
    Every unique index and foreign key is checked again when it is rebuilt: a violation fails the transaction.

    The tables stay locked (ACCESS EXCLUSIVE) until the transaction ends — only a write that at least doubles the
    warnings table comes here. Pending deferred checks of earlier writes in the transaction run first (ALTER
    TABLE refuses a table with pending checks). Nested loops are off meanwhile: the anti-joins against the
    tables being written must read them once, not once per row."""
    qn = connection.ops.quote_name
    cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cur.execute("SET CONSTRAINTS ALL DEFERRED")
    cur.execute(f"LOCK TABLE {', '.join(qn(t) for t in tables)} IN ACCESS EXCLUSIVE MODE")
    dropped = [(table, bulkdb.drop_indexes(cur, table)) for table in tables]
    cur.execute("SET LOCAL enable_nestloop = off")
    yield
    for table, definitions in dropped:
        bulkdb.build_indexes(cur, table, definitions)
    cur.execute("RESET enable_nestloop")


def warnings_insert_bundled(
    *,
    staged: str,
    columns: Iterable[str],
    created_at: datetime,
    actor: User,
    region_code: str | None = None,
) -> int:
    """Write the new warnings a screening collected in the temporary table ``staged`` (``columns``: the warning
    columns it holds, ``rule_code`` among them; at most one row per household and rule), each already attached
    to its household's one open verification task, so that every warning is written once: the missing tasks
    are opened first (deadlines as in ``tasks_bundle``), then one INSERT … SELECT joins the rows to their open
    tasks (state 核查中; ``rule_id`` is the row's ``rule_code``). A row whose task was closed in between is
    written pending and bundled like any pending warning of those households; a row that a concurrent
    screening wrote meanwhile is skipped by the unique constraints. Returns the number of warnings written."""
    tables = _tables()
    columns = list(columns)
    user_id = actor.pk if actor is not None and actor.pk else None
    open_task = lit(VerificationTask.State.OPEN)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"SELECT region_code, COUNT(*) FROM {staged} GROUP BY region_code")
        counts = dict(cur.fetchall())
        villages = sorted(counts)
        if not villages:
            return 0
        bulk = _bulk_applies(cur, sum(counts.values()))
        with _indexes_rebuilt(cur, [tables["t"], tables["w"]]) if bulk else nullcontext():
            households = f"SELECT DISTINCT household_id, region_code FROM {staged}"
            created = _tasks_open(cur, households=households, params=[], villages=villages, bulk=bulk)
            if connection.vendor == "postgresql":  # a temporary table has no statistics of its own
                cur.execute(f"ANALYZE {staged} (household_id)")
            # Written once: to the household's open task (or pending, when that task was closed meanwhile). What
            # a concurrent screening wrote meanwhile is skipped: by the unique indexes, or in bulk mode (no
            # unique index until the rebuild, the table small and locked) by the same conditions in NOT EXISTS.
            skip = (
                f" AND NOT EXISTS (SELECT 1 FROM {tables['w']} w WHERE w.household_id = s.household_id"
                f" AND w.rule_code = s.rule_code AND (w.dedupe_key = s.dedupe_key"
                f" OR w.state IN ({lit(State.PENDING)}, {lit(State.VERIFYING)})))"
                if bulk
                else " ON CONFLICT DO NOTHING"
            )
            state = f"CASE WHEN t.id IS NULL THEN {lit(State.PENDING)} ELSE {lit(State.VERIFYING)} END"
            cur.execute(
                f"INSERT INTO {tables['w']} ({', '.join(columns)}, rule_id, state, task_id, exclude_reason,"
                " created_at, created_by_id)"
                f" SELECT {', '.join(f's.{c}' for c in columns)}, s.rule_code, {state}, t.id, '', %s, %s"
                f" FROM {staged} s LEFT JOIN {tables['t']} t ON t.household_id = s.household_id"
                f" AND t.state = {open_task} WHERE 1 = 1{skip}",
                [connection.ops.adapt_datetimefield_value(created_at), user_id],
            )
            written = max(int(cur.rowcount), 0)
            checkpoint("monitoring.warnings_insert")  # the kill tests stop a screening here (issue 21.3)
        attached, more = _bundle_pending(
            cur, f" AND w.household_id IN (SELECT household_id FROM {staged})", []
        )
        if written:
            audit.record(
                actor,
                "warning.bundled",
                object_type="monitoring.verificationtask",
                region_code=region_code or "",
                after={"warnings": written, "tasks_created": created + more, "households": None},
                note="预警归并到核查任务",
            )
    return written


# --- one visit settles all warnings of a task -----------------------------------------------------------------


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def risk_confirm(*, warning: EarlyWarning, actor: User, found_on: date, finding: str = "") -> RiskPoint:
    """Record a confirmed warning as a risk point on its household: its type and source, found on the visit
    date, to be removed within ``risk_deadline_days`` (限期消除), with the warning's explanation and evidence.
    Called by ``task_complete`` inside its transaction (the caller checks permission and jurisdiction)."""
    deadline_days = _days(warning.region_code, "risk_deadline_days")
    evidence = dict(warning.evidence or {})
    if finding:
        evidence.setdefault("核查情况", finding)
    risk: RiskPoint = RiskPoint.objects.create(
        household_id=warning.household_id,
        region_code=warning.region_code,
        warning=warning,
        risk_type=warning.risk_type,
        channel=warning.channel,
        found_on=found_on,
        deadline=timezone.localdate() + timedelta(days=deadline_days),
        evidence=_jsonable(evidence),
        description=warning.explanation[:500],
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit.record(
        actor,
        "risk.created",
        risk,
        after={
            "warning": warning.pk,
            "risk_type": warning.risk_type,
            "channel": warning.channel,
            "found_on": found_on,
            "deadline": risk.deadline,
        },
    )
    return risk


def task_complete(
    *,
    task: VerificationTask,
    actor: User,
    visited_on: date,
    visit_way: str,
    finding: str,
    decisions: Mapping[int, tuple[str, str | None]],
) -> VerificationTask:
    """One visit settles every warning of the task: each is confirmed (a risk point is recorded) or excluded
    (a reason is required); the task is done. The village clerk or helper of that village, or the town station,
    may do it (``warning.visit``; a reviewing role — town leader, county — may not). A confirmed data doubt (疑点)
    is recorded as 已确认 but is not a poverty risk: no risk point."""
    _ensure_can(
        actor, VISIT, message="您的角色无权完成入户核查（只有村级经办、帮扶责任人和乡镇扶贫工作站可以）"
    )
    _ensure_in_jurisdiction(actor, task.region_code, "该核查任务不在您的管辖范围内")
    finding = (finding or "").strip()
    if visit_way not in VISIT_WAYS:
        raise DomainError(f"核查方式应为：{'、'.join(VISIT_WAYS)}")
    if visited_on is None:
        raise DomainError("请填写核查日期")
    if visited_on > timezone.localdate():
        raise DomainError("核查日期不能晚于今天")
    if not finding:
        raise DomainError("请填写核查情况")
    decisions = {int(k): v for k, v in decisions.items()}
    with transaction.atomic():
        task = VerificationTask.objects.lock(task)
        if task.state != VerificationTask.State.OPEN:
            raise DomainError("该核查任务已经完成，不能重复核查")
        warnings = list(task.warnings.filter(state__in=EarlyWarning.OPEN_STATES).order_by("pk"))
        expected = {w.pk for w in warnings}
        missing = expected - decisions.keys()
        if missing:
            raise DomainError(
                f"还有 {len(missing)} 条预警没有核查结论（可能有新预警刚并入本任务），请刷新页面后逐条确认或排除"
            )
        extra = decisions.keys() - expected
        if extra:
            raise DomainError("核查结论中包含不属于本任务的预警，请刷新页面后重试")
        now = timezone.now()
        outcome: dict[str, str] = {}
        for warning in warnings:
            verdict, reason = decisions[warning.pk]
            reason = (reason or "").strip()
            if verdict == CONFIRM:
                warning.state = State.CONFIRMED
                warning.exclude_reason = ""
            elif verdict == EXCLUDE:
                if not reason:
                    raise DomainError(f"排除预警必须填写排除理由（{warning.get_risk_type_display()}）")
                warning.state = State.EXCLUDED
                warning.exclude_reason = reason[:300]
            else:
                raise DomainError("每条预警的核查结论应为“确认”或“排除”")
            warning.decided_at, warning.decided_by = now, actor if getattr(actor, "pk", None) else None
            outcome[str(warning.pk)] = warning.state
        EarlyWarning.objects.bulk_update(warnings, ["state", "exclude_reason", "decided_at", "decided_by"])
        task.state = VerificationTask.State.DONE
        task.visited_on, task.visit_way, task.finding = visited_on, visit_way, finding
        task.done_by = actor if getattr(actor, "pk", None) else None
        task.done_at = now
        task.save(update_fields=["state", "visited_on", "visit_way", "finding", "done_by", "done_at"])
        audit.record(
            actor,
            "task.verified",
            task,
            after={"visited_on": visited_on, "visit_way": visit_way, "warnings": outcome},
            note=finding[:200],
            sensitive_note=True,
        )
        for warning in warnings:
            if warning.state == State.CONFIRMED and warning.kind == Rule.Kind.RISK:
                risk_confirm(warning=warning, actor=actor, found_on=visited_on, finding=finding)
    return task


# --- warnings from people: the manual channels -----------------------------------------------------------------


def _new_manual_warning(
    *,
    household: Household,
    actor: User | None,
    channel: str,
    risk_type: str,
    explanation: str,
    evidence: dict[str, object],
) -> EarlyWarning:
    warning: EarlyWarning = EarlyWarning.objects.create(
        household=household,
        region_code=household.region_id,
        rule=None,
        rule_code="",
        risk_type=risk_type,
        kind=Rule.Kind.RISK,
        channel=channel,
        source="",
        dedupe_key=uuid.uuid4().hex,
        explanation=explanation[:500],
        evidence=evidence,
        state=State.PENDING,
        created_at=timezone.now(),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    return warning


def warning_report(
    *, household: Household, actor: User, channel: str, risk_type: str, description: str
) -> EarlyWarning:
    """Record a warning a person raised for a household — 农户自主申报 (a clerk fills it in for the farmer),
    基层干部排查, 督查暗访反馈 or 市级反馈预警 — and bundle it into the household's verification task."""
    _ensure_can(actor, "warning.verify", FEEDBACK, message="您的角色无权登记预警")
    _ensure_in_jurisdiction(actor, household.region_id)
    if channel not in MANUAL_CHANNELS:
        raise DomainError("预警来源应为：农户自主申报、基层干部排查、督查暗访反馈或市级反馈预警")
    if risk_type not in RiskType.values or risk_type == RiskType.DOUBT:
        raise DomainError("请选择风险类型")
    description = (description or "").strip()
    if not description:
        raise DomainError("请填写情况说明")
    if len(description) > 500:
        raise DomainError("情况说明不能超过500字")
    if household.cancelled:
        raise DomainError("该户已注销，不能登记预警")
    with transaction.atomic():
        warning = _new_manual_warning(
            household=household,
            actor=actor,
            channel=channel,
            risk_type=risk_type,
            explanation=description,
            evidence={
                "登记人": getattr(actor, "username", "") or "system",
                "登记日期": timezone.localdate().isoformat(),
            },
        )
        audit.record(actor, "warning.created", warning, after={"channel": channel, "risk_type": risk_type})
        tasks_bundle(household_ids=[household.pk], actor=actor)
    warning.refresh_from_db()
    return warning


# --- clues: the public self-report page and the town station's handling ---------------------------------------


def _village(village_code: str) -> Region:
    village: Region | None = Region.objects.filter(
        pk=(village_code or "").strip(), level=Level.VILLAGE
    ).first()
    if village is None or level_of(village.code) != Level.VILLAGE:
        raise DomainError("请选择所在村（社区）")
    return village


def clue_submit_public(*, village_code: str, name: str, id_number: str, phone: str, description: str) -> Clue:
    """Store a self-report from the public page (no login). When the ID number belongs to a member of a
    household of that village, a 农户自主申报 warning is raised on the household as well. The caller shows the
    same answer either way: nothing here may tell the public who is registered."""
    village = _village(village_code)
    name, phone, description = (name or "").strip(), (phone or "").strip(), (description or "").strip()
    if not name:
        raise DomainError("请填写姓名")
    if not description:
        raise DomainError("请填写情况说明")
    id18, index = "", ""
    if (id_number or "").strip():
        try:
            info = parse_id(id_number)
        except IdNumberError:
            raise DomainError("证件号码格式不正确，请核对后重新填写") from None
        from fangfan.registry.services import id_index  # imported late: it loads the pinyin tables

        id18, index = info.id18, id_index(info.id18)
    with transaction.atomic():
        clue: Clue = Clue.objects.create(
            channel=Channel.SELF_REPORT,
            region_code=village.code,
            name=name[:50],
            id_number=id18,
            id_index=index,
            phone=phone[:30],
            description=description[:2000],
            risk_type=RiskType.OTHER,
        )
        audit.record(None, "clue.created", clue, after={"channel": clue.channel}, note="公开申报页面")
        member = None
        if index:
            member = (
                # Unscoped: the public self-report page (nobody signed in) links the clue to the member of the
                # chosen village whose ID number was given; nothing of the household is shown back.
                Member.objects.unscoped()
                .filter(
                    id_index=index,
                    status=Member.Status.ACTIVE,
                    household__region_id=village.code,
                    household__cancelled=False,
                )
                .select_related("household")
                .first()
            )
        if member is not None:
            warning = _new_manual_warning(
                household=member.household,
                actor=None,
                channel=Channel.SELF_REPORT,
                risk_type=RiskType.OTHER,
                explanation=f"农户自主申报（公开申报页面）：{description}",
                evidence={"线索": clue.pk, "申报人": mask_id(id18)},
            )
            clue.household, clue.warning, clue.state = member.household, warning, Clue.State.LINKED
            clue.save(update_fields=["household", "warning", "state"])
            audit.record(
                None, "warning.created", warning, after={"channel": warning.channel, "clue": clue.pk}
            )
            tasks_bundle(household_ids=[member.household_id], actor=None)
    return clue


def _open_clue(clue: Clue, actor: User) -> Clue:
    _ensure_can(actor, CLUE_HANDLE, message="只有乡镇扶贫工作站可以处理线索")
    _ensure_in_jurisdiction(actor, clue.region_code, "该线索不在您的管辖范围内")
    clue = Clue.objects.lock(clue)
    if clue.state != Clue.State.NEW:
        raise DomainError("该线索已经处理过了")
    return clue


def clue_link(*, clue: Clue, household: Household, actor: User, risk_type: str | None = None) -> EarlyWarning:
    """The town station links a clue to a household: a warning with the clue's source is raised on it and
    bundled into the household's verification task."""
    _ensure_in_jurisdiction(actor, household.region_id)
    if household.cancelled:
        raise DomainError("该户已注销，不能关联线索")
    risk_type = risk_type or None
    if risk_type is not None and (risk_type not in RiskType.values or risk_type == RiskType.DOUBT):
        raise DomainError("请选择风险类型")
    with transaction.atomic():
        clue = _open_clue(clue, actor)
        warning = _new_manual_warning(
            household=household,
            actor=actor,
            channel=clue.channel,
            risk_type=risk_type or clue.risk_type,
            explanation=f"{clue.get_channel_display()}：{clue.description}",
            evidence={"线索": clue.pk},
        )
        clue.household, clue.warning, clue.state = household, warning, Clue.State.LINKED
        clue.save(update_fields=["household", "warning", "state"])
        audit.record(actor, "clue.linked", clue, after={"household": household.number, "warning": warning.pk})
        audit.record(actor, "warning.created", warning, after={"channel": warning.channel, "clue": clue.pk})
        tasks_bundle(household_ids=[household.pk], actor=actor)
    warning.refresh_from_db()
    return warning


def clue_close(*, clue: Clue, actor: User, reason: str) -> Clue:
    """The town station closes a clue without a warning (not a rural household of ours, already handled…)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("办结线索必须填写办结说明")
    with transaction.atomic():
        clue = _open_clue(clue, actor)
        clue.state, clue.close_reason = Clue.State.CLOSED, reason[:300]
        clue.save(update_fields=["state", "close_reason"])
        audit.record(actor, "clue.closed", clue, note=reason[:200], sensitive_note=True)
    return clue
