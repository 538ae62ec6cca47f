"""Staging files for a bulk import on SQLite: the rows of new households and members, written by the processes that
check them, loaded into the registry by the importing process with one ``INSERT … SELECT`` per table.

Why: the importing process is the only writer SQLite allows, and binding 850 000 member rows of 36 columns one by
one through ``executemany`` costs it about 10 s — while the checking workers sit idle on their cores. Each worker
instead appends its rows to a private SQLite file (no index, no journal); the importing process ``ATTACH``es the
files and copies every row inside the database engine (853 000 members in 1.3 s instead of 10 s, measured; see
docs/benchmarks.md). The files live in a private folder of the data directory and are removed when the import ends,
whatever its outcome.

``ATTACH`` cannot run inside a transaction: when the import itself is called inside one (a test, a caller's
``atomic``) the rows are read back from the files and written the ordinary way (``read_back``).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection

# SQLite attaches at most 10 databases (its default limit); one file per worker process stays well below that
# (``importer._workers_for`` allows 8). More files go the ``read_back`` way.
MAX_ATTACHED = 8
# (process id, folder) → (file, connection): one file per process, appended to slice after slice.
_OPEN: dict[tuple[int, str], tuple[str, sqlite3.Connection]] = {}


def wanted() -> bool:
    """Whether this database loads staged rows (SQLite only: PostgreSQL takes ``COPY`` from the importer)."""
    return connection.vendor == "sqlite"


@contextmanager
def folder():
    """A private folder under the data directory for one import's staging files, removed afterwards."""
    base = Path(settings.DATA_DIR) / "tmp"
    base.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(base)
    path = tempfile.mkdtemp(prefix="import-", dir=base)  # mode 0700: the rows hold names
    try:
        yield path
    finally:
        for key in [k for k in _OPEN if k[1] == path]:
            _OPEN.pop(key)[1].close()
        shutil.rmtree(path, ignore_errors=True)


def _remove_leftovers(base: Path, *, older_than: float = 24 * 3600) -> None:
    """Staging folders of an import that was killed before it could clean up (the rows hold names): gone a day
    later, when the next import starts. No import runs for a day."""
    cutoff = time.time() - older_than
    for stale in base.glob("import-*"):
        try:
            if stale.is_dir() and stale.stat().st_mtime < cutoff:
                shutil.rmtree(stale, ignore_errors=True)
        except FileNotFoundError:
            continue


def _columns(count: int) -> str:
    return ", ".join(f"c{i}" for i in range(count))


def append(path: str, households: Sequence[tuple], members: Sequence[tuple]) -> str:
    """Append rows to this process's file in ``path``: households as ``(number, *values)``, members as
    ``(number, *values)``; returns the file. Values are bound as the registry's own connection would bind them
    (Django registers the date and decimal adapters with the sqlite3 module, for every connection)."""
    key = (os.getpid(), path)
    hit = _OPEN.get(key)
    if hit is None:
        file = os.path.join(path, f"rows-{os.getpid()}.sqlite3")
        conn = sqlite3.connect(file, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        hit = _OPEN[key] = (file, conn)
    file, conn = hit
    conn.execute("BEGIN")
    for table, rows in (("hh", households), ("m", members)):
        if not rows:
            continue
        width = len(rows[0])
        conn.execute(f"CREATE TABLE IF NOT EXISTS {table} ({_columns(width)})")
        conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * width)})", rows)  # noqa: S608
    conn.execute("COMMIT")
    return file


def _tables(file: str) -> set[str]:
    with sqlite3.connect(file) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def read_back(file: str, table: str) -> list[tuple]:
    """Every row of a staged table, as ``(number, values)``: for an import that runs inside a caller's transaction."""
    if table not in _tables(file):
        return []
    conn = sqlite3.connect(file, detect_types=0)
    try:
        return [(row[0], row[1:]) for row in conn.execute(f"SELECT * FROM {table}")]  # noqa: S608
    finally:
        conn.close()


@contextmanager
def attached(files: Sequence[str]):
    """The staged files attached to the registry's connection as ``stage0``, ``stage1``…: yields their
    ``(schema, tables)``, or None when they cannot be attached (a transaction is open: use ``read_back``)."""
    if not files or connection.in_atomic_block or len(files) > MAX_ATTACHED:
        yield None
        return
    names = []
    try:
        with connection.cursor() as cursor:
            for i, file in enumerate(files):
                cursor.execute(f"ATTACH DATABASE %s AS stage{i}", [file])
                names.append((f"stage{i}", _tables(file)))
        yield names
    finally:
        try:
            with connection.cursor() as cursor:
                for name, _tables_of in names:
                    cursor.execute(f"DETACH DATABASE {name}")
        except DatabaseError:
            # Still attached (a statement left open by an error): a fresh connection next time, never one that
            # holds a staging file; the original error, if any, is the one that propagates.
            connection.close()
