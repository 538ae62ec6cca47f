"""Importing the household workbook (DATA-FORMATS §2): sheets 户信息 and 成员信息 of an .xlsx, or the same two
tables as CSV files in a folder.

All-or-nothing: every cell is checked first and every problem collected (file, sheet, row, column, value, reason,
in Chinese); only a clean file is written, in one transaction. Households are upserted by 户编号 and members by
the blind index of their ID number; an unchanged row is not written again, so importing the same file twice
changes nothing the second time. A household or member that is not in the file is left alone, never deleted.

How it runs (a county is 250 000 households / 850 000 members; see benchmarks/import_households.py):

1. read — CSV with the csv module, .xlsx with python-calamine, into plain lists (no dict per row); a CSV file
   without quotes is kept as lines and split where it is checked, in its worker (``core.tabular.Lines``);
2. load — the stored households the file names, their members, the villages' policy values: every database read
   happens here, in the importing process;
3. check_and_plan — slice by slice of households (a household and its members in one slice): every column parsed
   once per distinct value (values repeat: 是/否, 0, 户主…), ID numbers on an 18-digit fast path, pinyin initials
   cached per word, compared with what is stored, derived figures from ``derive.derive``, and the rows for the
   database prepared (IDs and phones encrypted). For a large file the slices run in forked worker processes
   (``FANGFAN_IMPORT_WORKERS``, default the processors);
4. merge — the checks that need every slice (an ID in two households) or the database (an ID registered in a
   household that is not in the file);
5. write — one transaction: households and members through ``bulkdb`` (SQLite ``executemany``, PostgreSQL
   ``COPY``), one ``household.imported`` audit event and one ``household.updated`` per changed existing household.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import IntegrityError

from fangfan.core import cells as core_cells
from fangfan.core.cells import text
from fangfan.core.errors import ValidationFailed
from fangfan.core.tabular import Problem, Table
from fangfan.policy.services import policy_values
from fangfan.regions.codes import Level
from fangfan.regions.models import Region

from .. import formats, staging
from ..choices import (
    EDUCATION_LEVELS,
    LABOUR_SKILLS,
    SCHOOL_STATUSES,
    ExitedClass,
    HouseholdType,
    MonitoringState,
)
from ..models import Member
from ..services import elsewhere_shown_record
from .cells import _health, _household_number, _phone
from .layout import (
    _ID_ELSEWHERE,
    _M_OPTIONAL_HEADER,
    H_INPUT,
    H_LABEL,
    M_FIELDS,
    M_POS,
    SYNC_SOURCE,
    ImportSummary,
    Progress,
)
from .plan import Planning, _SliceResult, official_shown
from .read import Reading, size, subtable
from .state import StateLoading
from .write import Writing

if TYPE_CHECKING:
    from fangfan.accounts.models import User

log = logging.getLogger(__name__)

# A unique key taken meanwhile by another import: Django's error, or psycopg's own from the ``COPY`` that writes a
# large import on PostgreSQL (a raw cursor, not wrapped by Django).
_KEY_TAKEN: tuple[type[BaseException], ...] = (IntegrityError,)
with contextlib.suppress(ImportError):
    import psycopg

    _KEY_TAKEN += (psycopg.IntegrityError,)


class HouseholdImport(Reading, Planning, StateLoading, Writing):
    def __init__(
        self,
        *,
        path: Path,
        actor: User,
        dry_run: bool,
        display_name: str | None,
        progress: Progress | None,
        sync_national: bool = False,
        job_id: int | None = None,
    ):
        self.path = path
        self.actor = actor
        self.dry_run = dry_run
        self.sync_national = sync_national
        self.job_id = job_id
        self.name = display_name or path.name
        self.progress = progress or (lambda done, total, message="": None)
        self.problems: list[Problem] = []
        self.today = date.today()
        self.stage_dir: str | None = None  # SQLite: where the slices stage their new rows (``staging``)
        # The command-line operator's range is everything (``User.jurisdiction_range``).
        self.span = actor.jurisdiction_range()
        # Cell parsers (plain functions: ``_column`` calls each once per distinct value of a column).
        self.p_text30 = core_cells.bounded(30)
        self.p_text50 = core_cells.bounded(50)
        self.p_text100 = core_cells.bounded(100)
        self.p_yes_no = core_cells.yes_no
        self.p_money = core_cells.optional_money
        self.p_money_req = core_cells.required_money
        self.p_month = core_cells.month_or_blank
        self.p_year = core_cells.year(label="脱贫年度", earliest=1980)
        self.p_phone = _phone
        self.p_htype = core_cells.choice(formats.HOUSEHOLD_TYPE_VALUES, shown=list(HouseholdType.labels))
        self.p_exited = core_cells.choice(formats.EXITED_CLASS_VALUES, shown=list(ExitedClass.labels))
        self.p_montype = core_cells.choice(
            formats.MONITORING_TYPE_VALUES,
            shown=[*formats.MONITORING_TYPE_LABELS.values(), "脱贫监测户", "边缘户"],
        )
        self.p_monstate = core_cells.choice(
            formats.MONITORING_STATE_VALUES, shown=list(MonitoringState.labels)
        )
        self.p_housing = core_cells.choice(formats.HOUSING_GRADE_VALUES, shown=["A", "B", "C", "D"])
        self.p_relation = core_cells.choice(formats.RELATION_VALUES, shown=list(formats.RELATION_VALUES)[:12])
        self.p_education = core_cells.choice(EDUCATION_LEVELS)
        self.p_school = core_cells.choice(SCHOOL_STATUSES)
        self.p_health = _health
        self.p_dis_cat = core_cells.choice(
            formats.DISABILITY_CATEGORY_VALUES, shown=list(formats.DISABILITY_CATEGORY_VALUES)[:7]
        )
        self.p_dis_grade = core_cells.choice(
            formats.DISABILITY_GRADE_VALUES, shown=list(formats.DISABILITY_GRADE_VALUES)[:4]
        )
        self.p_labour = core_cells.choice(LABOUR_SKILLS)
        self.p_months = core_cells.months(label="务工时间")

    def run(self) -> ImportSummary:
        started = last = time.monotonic()
        timings: dict[str, float] = {}

        def lap(name: str) -> None:
            nonlocal last
            now = time.monotonic()
            timings[name] = round(now - last, 3)
            last = now

        hh_table, mem_table = self.read()
        lap("read")
        summary = ImportSummary(file=self.name, dry_run=self.dry_run, sync_national=self.sync_national)
        summary.ignored_columns = [
            *(hh_table.ignored if hh_table else []),
            *(mem_table.ignored if mem_table else []),
        ]
        summary.households_read = size(hh_table)
        summary.members_read = size(mem_table)
        self.total = 2 * (summary.households_read + summary.members_read) or 1
        self.done = 0
        self.progress(0, self.total, "正在检查")

        # What the database holds for these households (workers never touch the database).
        slices = self.load_state(hh_table, mem_table)
        lap("load")
        with contextlib.ExitStack() as stack:
            if not self.dry_run and staging.wanted():
                self.stage_dir = stack.enter_context(staging.folder())
            # Check every cell, compare with what is stored, derive, encrypt: slice by slice of households.
            results = self.run_slices(slices)
            lap("check_and_plan")
            plan = self.merge(results, hh_table, mem_table)
            lap("merge")
            elsewhere_shown_record(  # the problems say an ID is registered in another household: audited
                actor=self.actor,
                count=sum(p.reason == _ID_ELSEWHERE for p in self.problems),
                via="household_import",
                dry_run=self.dry_run,
            )
            self.fail_if_problems()

            summary.households_created = plan.hh_new
            summary.households_updated = plan.hh_changed
            summary.households_unchanged = plan.hh_unchanged
            summary.members_created = plan.m_new
            summary.members_updated = plan.m_changed
            summary.members_unchanged = plan.m_unchanged
            summary.preview = [{"number": n, "kind": kind, "what": what} for n, kind, what in plan.preview]
            summary.official_differences = [
                {
                    "number": number,
                    "field": H_LABEL[f],
                    "system": official_shown(f, stored),
                    "file": official_shown(f, new),
                }
                for number, fields in plan.official
                for f, stored, new in fields
            ]
            if not self.dry_run and summary.changed:
                self.write(plan, summary, lap)
        summary.seconds = time.monotonic() - started
        summary.timings = timings
        self.progress(self.total, self.total, "完成")
        return summary

    # the database state, before any slice is checked ------------------------------------------------------------

    def load_state(self, hh_table: Table | None, mem_table: Table | None) -> list[tuple]:
        """Load the households the file names, their members and the villages' policy values; cut the rows into
        slices by 户编号 (a household and its members always in the same slice)."""
        seen: dict = {}  # the members' 户编号 are mostly the households' again: each parsed once
        hh_numbers = self.silent_column(hh_table, "户编号", _household_number, seen)
        mem_numbers = self.silent_column(mem_table, "户编号", _household_number, seen)
        del seen
        numbers = {n for n in (*hh_numbers, *mem_numbers) if n}
        self.known_villages = set(
            Region.objects.filter(level=int(Level.VILLAGE)).values_list("code", flat=True)
        )
        self.existing = self.load_households(numbers)
        stored = self.load_members([h["pk"] for h in self.existing.values()])
        self.stored_home = {index: m["household_id"] for index, m in stored.items()}
        self.stored_by_household: dict[int, list] = {}
        for m in stored.values():
            self.stored_by_household.setdefault(m["household_id"], []).append(m)
        # Members elsewhere in the system: only then must an unknown ID be looked up (not on a first import, nor
        # on re-importing a whole county).
        self.others_exist = Member.objects.unscoped().count() > len(stored)  # a count; ids are system-wide
        villages = {h["region"] for h in self.existing.values()}
        villages |= {
            v for v in self.silent_column(hh_table, "行政区划代码", text) if v in self.known_villages
        }
        self.policy_cache = {v: policy_values(region_code=v) for v in villages}
        self.hh_keep = [f for f, h in H_INPUT if hh_table is not None and h not in hh_table.index]
        self.m_keep = [
            M_POS[f]
            for f in M_FIELDS
            if mem_table is not None
            and f in _M_OPTIONAL_HEADER
            and _M_OPTIONAL_HEADER[f] not in mem_table.index
        ]
        if mem_table is not None and "健康状况" not in mem_table.index:
            self.m_keep += [M_POS["serious_illness"], M_POS["chronic_illness"], M_POS["disabled"]]

        rows = len(hh_numbers) + len(mem_numbers)
        self.workers = _workers_for(rows)
        # Several slices per worker (they balance the load) and about 20 000 rows each (each finished slice moves
        # the progress bar).
        count = min(64, max(self.workers * 4 if self.workers > 1 else 1, rows // 20_000))
        if count == 1:
            return [(hh_table, mem_table)]
        slice_of = {n: zlib.crc32(n.encode()) % count for n in numbers}  # the same cut on every run
        hh_picks: list[list[int]] = [[] for _ in range(count)]
        mem_picks: list[list[int]] = [[] for _ in range(count)]
        for picks, column in ((hh_picks, hh_numbers), (mem_picks, mem_numbers)):
            for k, n in enumerate(column):
                picks[slice_of.get(n, 0)].append(k)
        return [(subtable(hh_table, hh_picks[i]), subtable(mem_table, mem_picks[i])) for i in range(count)]

    def run_slices(self, slices: list[tuple]) -> list[_SliceResult]:
        """Each slice in this process, or — for a large file on a machine with several processors — in forked
        worker processes that inherit the tables and the database state (they never use the connection)."""
        results = []
        if self.workers <= 1:
            for hh_sub, mem_sub in slices:
                results.append(self.process_slice(hh_sub, mem_sub))
                self.tick(size(hh_sub) + size(mem_sub), "正在检查")
            return results
        global _ACTIVE
        _ACTIVE = (self, slices)
        # The children inherit the open database connection but never use it, and leave through os._exit (as
        # multiprocessing's forked processes do), so nothing of it is closed or written from there.
        try:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=self.workers, mp_context=context) as pool:
                for i, result in enumerate(pool.map(_slice_worker, range(len(slices)))):
                    results.append(result)
                    hh_sub, mem_sub = slices[i]
                    self.tick(size(hh_sub) + size(mem_sub), "正在检查")
        finally:
            _ACTIVE = None
        return results


_ACTIVE: tuple | None = None  # (importer, slices) while forked workers run


def _slice_worker(i: int) -> _SliceResult:
    importer, slices = _ACTIVE
    importer.progress = _no_progress  # a progress callback may write to the database: never from a child
    return importer.process_slice(*slices[i])


def _no_progress(done: int, total: int, message: str = "") -> None:
    return None


def _workers_for(rows: int) -> int:
    """Worker processes for a file of ``rows`` rows: 1 for anything small (forking costs more than it saves) and
    where fork is unavailable; otherwise the processors (FANGFAN_IMPORT_WORKERS overrides)."""
    wanted = os.environ.get("FANGFAN_IMPORT_WORKERS", "").strip()
    default = min(os.cpu_count() or 1, 8) if rows >= 60_000 else 1
    count = int(wanted) if wanted.isdigit() else default
    if count > 1 and "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, count)


def households_import(
    *,
    path: Path | str,
    actor: User,
    dry_run: bool = False,
    display_name: str | None = None,
    progress: Progress | None = None,
    sync_national: bool = False,
    job_id: int | None = None,
) -> ImportSummary:
    """Import the household workbook (DATA-FORMATS §2): an .xlsx with sheets 户信息 and 成员信息, a folder holding
    户信息.csv and 成员信息.csv (or any CSVs whose headers identify them), or one such CSV.

    Every village must lie in the actor's jurisdiction (the command-line operator's is everything). Raises ``ValidationFailed`` listing every problem, with nothing written; a dry run checks the
    same and writes nothing. ``progress(done, total, message)`` is called every few thousand rows.

    An existing household's official status fields (``models.OFFICIAL_FIELDS``) are kept as stored and every
    difference is listed (``ImportSummary.official_differences``), unless ``sync_national`` (与国家系统同步): then
    they are taken from the file and each household's change is recorded in its history with that source and
    ``job_id``. Only the town station and the county (``household.sync_national``) may choose it — the county
    imports only this way; anyone else is refused before the file is read.
    """
    if actor is None:
        raise ValidationFailed("您的角色无权导入农户信息")
    operator = actor.is_operator
    if sync_national and not operator and not actor.can("household.sync_national"):
        raise ValidationFailed(
            f"“{SYNC_SOURCE}”只能由镇扶贫工作站或市县审核的用户选择，您的角色不能选择；本次文件未导入任何数据"
        )
    if not operator and not actor.can("household.import"):
        if actor.can("household.sync_national"):
            if not sync_national:
                raise ValidationFailed(f"您的角色只能以“{SYNC_SOURCE}”方式导入农户信息")
        else:
            raise ValidationFailed("您的角色无权导入农户信息")
    if actor.jurisdiction_range() is None:
        raise ValidationFailed("您的账号没有所属区划，无法导入")
    importer = HouseholdImport(
        path=Path(path),
        actor=actor,
        dry_run=dry_run,
        display_name=display_name,
        progress=progress,
        sync_national=sync_national,
        job_id=job_id,
    )
    # Millions of small objects and no reference cycles worth collecting: the cyclic collector would rescan the
    # whole heap again and again (measured: reading and checking take about half the time without it).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return importer.run()
    except _KEY_TAKEN as exc:
        # Another import wrote the same households (户编号) or members while this one was checking the file: its
        # one transaction was rolled back, nothing of this file is written. Importing it again finds them and
        # changes only what differs.
        log.info(
            "household import rolled back: another import wrote the same rows first (%s)", type(exc).__name__
        )
        raise ValidationFailed(
            "另一个导入同时写入了本文件中的农户或成员，本次导入未写入任何数据；请稍后重新导入"
            "（重新导入时已存在的农户只更新有变化的内容）"
        ) from None
    finally:
        if was_enabled:
            gc.enable()
