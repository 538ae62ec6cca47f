"""Helpers shared by the benchmark scripts: where the database is, timing with medians, and writing results into
``docs/benchmarks.md`` between ``<!-- NAME:start -->`` / ``<!-- NAME:end -->`` markers (other sections kept).

A script does, in this order::

    from common import bootstrap
    db = bootstrap(sqlite_file=BENCH_DIR / "list-250000.sqlite3")   # before any Django import
    ...
    m = measure(lambda: run_query(), runs=20)                       # median database and total time
    write_section("list", markdown)

The database is ``DATABASE_URL`` if set (PostgreSQL or SQLite), else the SQLite file the script names (a file under
``var/bench/`` that survives between runs, so a county-sized database is built once), else a temporary file.
Secrets for a development instance live in ``FANGFAN_DATA_DIR`` (default ``var/bench``) so an encrypted benchmark
database stays readable across runs.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
BENCH_DIR = ROOT / "var" / "bench"
DOC_TITLE = "# Benchmarks\n\nMeasured with the scripts in `benchmarks/` (`python benchmarks/run_all.py`).\n"


# --- the database ---------------------------------------------------------------------------------------------


@dataclass
class Database:
    vendor: str  # "sqlite" or "postgresql"
    label: str  # "SQLite 3.40.1" / "PostgreSQL 15.20"
    name: str  # file path or database name
    url_given: bool  # DATABASE_URL was set by the caller


def bootstrap(*, sqlite_file: Path | None = None) -> Database:
    """Configure and start Django for a benchmark; call before importing anything from ``fangfan``."""
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangfan.settings")
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("FANGFAN_DATA_DIR", str(BENCH_DIR))
    # A benchmark sets its data up and removes it as the operator would, with plain ORM calls: the scope guard
    # (core/scoping.py) is for the application's code paths, which the test suite runs with it on.
    os.environ.setdefault("FANGFAN_SCOPE_GUARD", "0")
    url_given = bool(os.environ.get("DATABASE_URL", "").strip())
    if not url_given:
        path = sqlite_file or Path(tempfile.mkdtemp(prefix="fangfan-bench-")) / "bench.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    import django

    django.setup()
    from django.db import connection

    _connect_creating_bench_database()
    if connection.vendor == "sqlite":
        import sqlite3

        label = f"SQLite {sqlite3.sqlite_version}"
    else:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            label = f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    return Database(
        vendor=connection.vendor, label=label, name=str(connection.settings_dict["NAME"]), url_given=url_given
    )


def _connect_creating_bench_database() -> None:
    """Connect; a PostgreSQL benchmark database (its name contains "bench") that does not exist yet is created,
    so ``DATABASE_URL=…/fangfan_bench_list`` works on a fresh server."""
    from django.db import OperationalError, connection

    try:
        connection.ensure_connection()
        return
    except OperationalError as exc:
        name = str(connection.settings_dict["NAME"])
        if connection.vendor != "postgresql" or "bench" not in name or "does not exist" not in str(exc):
            raise
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    print(f"created PostgreSQL database {name}", file=sys.stderr)
    connection.ensure_connection()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def wipe_database(db: Database) -> None:
    """Empty the benchmark database completely. Refuses anything that does not look like a benchmark database
    (a PostgreSQL database whose name lacks "bench", an SQLite file outside ``var/bench`` or a temp dir)."""
    from django.db import connection

    if db.vendor == "postgresql":
        if "bench" not in db.name:
            raise SystemExit(f"拒绝清空数据库 {db.name}：基准测试只清空名称含 bench 的数据库")
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
        return
    path = Path(db.name)
    if not (BENCH_DIR in path.parents or Path(tempfile.gettempdir()) in path.parents):
        raise SystemExit(f"拒绝删除数据库文件 {path}：不在 {BENCH_DIR} 或临时目录中")
    connection.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# --- timing ---------------------------------------------------------------------------------------------------


class QueryTimer:
    """Database time and statement count of everything run inside ``with timer:``.

    Statements are timed with ``connection.execute_wrapper``; fetching is timed too (``fetchone`` / ``fetchmany``
    / ``fetchall`` of Django's cursor wrapper, patched while the timer is active), because SQLite steps through a
    streaming plan (a GROUP BY in index order, an OFFSET) while rows are fetched, not in ``execute``."""

    _active: QueryTimer | None = None

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu_seconds = 0.0  # CPU time of this process meanwhile: SQLite's work, robust to a busy machine
        self.queries = 0
        self.statements: list[tuple[str, object]] = []  # (sql, params)
        self._wrapper = None
        self._saved: dict = {}

    def __call__(self, execute, sql, params, many, context):
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.cpu_seconds += time.process_time() - cpu
            self.queries += 1
            self.statements.append((sql, params))

    def __enter__(self):
        from django.db import connection
        from django.db.backends.utils import CursorWrapper

        for name in ("fetchone", "fetchmany", "fetchall"):
            self._saved[name] = CursorWrapper.__dict__.get(name)
            setattr(CursorWrapper, name, _timed_fetch(name))
        QueryTimer._active = self
        self._wrapper = connection.execute_wrapper(self)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc):
        from django.db.backends.utils import CursorWrapper

        QueryTimer._active = None
        for name, original in self._saved.items():
            if original is None:
                delattr(CursorWrapper, name)
            else:
                setattr(CursorWrapper, name, original)
        return self._wrapper.__exit__(*exc)


def _timed_fetch(name: str):
    def fetch(self, *args):
        started, cpu = time.perf_counter(), time.process_time()
        try:
            with self.db.wrap_database_errors:
                return getattr(self.cursor, name)(*args)
        finally:
            timer = QueryTimer._active
            if timer is not None:
                timer.seconds += time.perf_counter() - started
                timer.cpu_seconds += time.process_time() - cpu

    return fetch


@dataclass
class Measurement:
    db_ms: list[float] = field(default_factory=list)
    db_cpu_ms: list[float] = field(default_factory=list)
    total_ms: list[float] = field(default_factory=list)
    queries: int = 0
    statements: list[tuple[str, object]] = field(default_factory=list)

    @property
    def db(self) -> float:
        return statistics.median(self.db_ms)

    @property
    def db_cpu(self) -> float:
        """Median CPU time of this process in the statements: on SQLite the database's own work, which a busy
        machine slows far less than the wall clock; on PostgreSQL only the client's share."""
        return statistics.median(self.db_cpu_ms)

    @property
    def total(self) -> float:
        return statistics.median(self.total_ms)

    @property
    def db_p90(self) -> float:
        ordered = sorted(self.db_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]


def measure(fn: Callable[[], object], *, runs: int = 20, warmup: int = 2, before: Callable | None = None):
    """Run ``fn`` ``warmup`` + ``runs`` times; median database time and wall time of the measured runs (ms)."""
    result = Measurement()
    for i in range(warmup + runs):
        if before is not None:
            before()
        timer = QueryTimer()
        started = time.perf_counter()
        with timer:
            fn()
        elapsed = time.perf_counter() - started
        if i >= warmup:
            result.db_ms.append(timer.seconds * 1000)
            result.db_cpu_ms.append(timer.cpu_seconds * 1000)
            result.total_ms.append(elapsed * 1000)
            result.queries = timer.queries
            result.statements = timer.statements
    return result


@contextmanager
def stopwatch():
    """``with stopwatch() as t: …`` then ``t()`` is the elapsed seconds."""
    started = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - started
    end.append(time.perf_counter())


def ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


# --- reporting ------------------------------------------------------------------------------------------------


def machine() -> str:
    """One line about the machine, for the record next to the figures."""
    try:
        load = f" / load {os.getloadavg()[0]:.1f}"
    except OSError:
        load = ""
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs{load}, Python {platform.python_version()}, "
        f"{datetime.now():%Y-%m-%d %H:%M}"
    )


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def replace_marked(text: str, name: str, body: str) -> str:
    """``text`` with the marked section ``name`` replaced by ``body`` (appended at the end if absent)."""
    start, end = _markers(name)
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        return pattern.sub(lambda _m: block, text, count=1)
    return text.rstrip() + "\n\n" + block + "\n"


def read_marked(text: str, name: str) -> str | None:
    start, end = _markers(name)
    match = re.search(re.escape(start) + r"\n?(.*?)\n?" + re.escape(end), text, re.S)
    return match.group(1) if match else None


def write_section(name: str, body: str, *, path: Path = DOC) -> Path:
    """Write ``body`` (Markdown) into section ``name`` of ``docs/benchmarks.md``, creating the file if missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text(encoding="utf-8") if path.exists() else DOC_TITLE
    path.write_text(replace_marked(text, name, body), encoding="utf-8")
    return path


def read_section(name: str, *, path: Path = DOC) -> str | None:
    if not path.exists():
        return None
    return read_marked(path.read_text(encoding="utf-8"), name)


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def login(client, user) -> None:
    """Sign ``user`` in on a test client as after a whole sign-in: password and, for an account that must have one
    (administrators, county and above), the second factor — a confirmed device made if need be, the session
    verified with it, as after typing its code."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from fangfan.accounts import second_factor

    client.force_login(user)
    session = client.session
    if not (session.get(second_factor.PENDING_KEY) or second_factor.required_for(user)):
        return
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="基准测试", confirmed=True)
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.pop(second_factor.PENDING_KEY, None)
    session.save()


def operator():
    """The command-line operator (``User.objects.cli_account``): the actor of a benchmark's system work."""
    from fangfan.accounts.models import User

    return User.objects.cli_account("benchmark")
