"""The database's own fast paths for loading many rows, on SQLite and PostgreSQL alike.

Django's ``bulk_create`` manages about 27 000 rows/s here (DESIGN.md, measured); SQLite's ``executemany`` and
PostgreSQL's ``COPY`` are several times faster. These helpers take plain tuples whose values are already what the
column stores (encrypted text already encrypted, choices as codes), so the caller must give every column of the
row: no model defaults, no ``save()``, no signals. Use them inside ``transaction.atomic()``.

Generic (no domain words); ``monitoring`` uses the index helpers too.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from decimal import Context, Decimal

from django.db import connection
from django.db.models import Model

CHUNK = 5000
BLOCK_AT = 10_000  # reserve_ids: from this many ids, one block drawn at once


def _table(model: type[Model]) -> str:
    return model._meta.db_table


def columns_of(model: type[Model], names: Sequence[str]) -> list[str]:
    """The database column of each field name (``household`` → ``household_id``)."""
    return [model._meta.get_field(n).column for n in names]


def db_datetime(value: datetime.datetime):
    """A datetime as this database's driver should receive it: on SQLite the text Django itself stores (naive UTC
    when USE_TZ), on PostgreSQL the aware datetime. Dates and decimals need nothing: Django registers SQLite
    adapters for them."""
    if connection.vendor == "postgresql":
        return value
    return connection.ops.adapt_datetimefield_value(value)


def _datetime_positions(model: type[Model], fields: Sequence[str]) -> list[int]:
    return [
        i
        for i, name in enumerate(fields)
        if model._meta.get_field(name).get_internal_type() == "DateTimeField"
    ]


def _adapt(row: tuple, positions: list[int], cache: dict) -> tuple:
    values = list(row)
    for i in positions:
        value = values[i]
        if isinstance(value, datetime.datetime):
            hit = cache.get(value)
            if hit is None:
                hit = cache[value] = db_datetime(value)
            values[i] = hit
    return tuple(values)


def _adapted(model, fields, rows: list, adapt: bool) -> list:
    if not adapt or connection.vendor == "postgresql":
        return rows
    positions = _datetime_positions(model, fields)
    if not positions:
        return rows
    cache: dict = {}
    return [_adapt(row, positions, cache) for row in rows]


_PG_TYPES = {"boolean": "bool", "smallint": "int2", "integer": "int4", "bigint": "int8", "text": "text"}
_PG_TYPES |= {
    "date": "date",
    "timestamp with time zone": "timestamptz",
    "varchar": "varchar",
    "numeric": "numeric",
}


def _pg_types(model: type[Model], fields: Sequence[str]) -> list[str] | None:
    """psycopg type names of the columns for a binary COPY, or None for a text COPY: when a column type is not one
    we know, or is ``numeric`` (psycopg writes a Decimal in binary through ``Decimal.as_tuple()``: 250 000
    households with 8 amounts each took 3.0 s in binary, 2.2 s as text; rows without amounts stay binary)."""
    names = []
    for name in fields:
        db_type = (model._meta.get_field(name).db_type(connection) or "").split("(")[0].strip()
        if db_type not in _PG_TYPES or db_type == "numeric":
            return None
        names.append(_PG_TYPES[db_type])
    return names


def _pg_copy(cursor, sql: str, types: list[str] | None, rows: list[tuple]) -> None:
    """COPY rows in: binary when the column types are known (measured 2.3× less client time than text COPY)."""
    if types is not None:
        sql += " (FORMAT BINARY)"
    with cursor.copy(sql) as copy:
        if types is not None:
            copy.set_types(types)
        write = copy.write_row
        for row in rows:
            write(row)


def insert_rows(
    model: type[Model], fields: Sequence[str], rows: Iterable[tuple], *, adapt: bool = True
) -> int:
    """Insert ``rows`` (tuples in the order of ``fields``) into the model's table; returns the count. With
    ``adapt=False`` the caller has passed datetimes through ``db_datetime`` already (saves a pass over the rows)."""
    cols = columns_of(model, fields)
    qn = connection.ops.quote_name
    table = qn(_table(model))
    collist = ", ".join(qn(c) for c in cols)
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # the psycopg 3 cursor under Django's wrapper
            _pg_copy(cursor.cursor, f"COPY {table} ({collist}) FROM STDIN", _pg_types(model, fields), rows)
        else:
            sql = f"INSERT INTO {table} ({collist}) VALUES ({', '.join(['%s'] * len(cols))})"  # noqa: S608
            for start in range(0, len(rows), CHUNK):
                cursor.executemany(sql, _adapted(model, fields, rows[start : start + CHUNK], adapt))
    return len(rows)


def update_rows(
    model: type[Model], fields: Sequence[str], rows: Iterable[tuple], *, adapt: bool = True
) -> int:
    """Update rows by primary key: each tuple is ``(pk, *values in the order of fields)``. Applied in the order
    given (callers that juggle a unique constraint order their rows accordingly)."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return 0
    cols = columns_of(model, fields)
    qn = connection.ops.quote_name
    table = qn(_table(model))
    pk = qn(model._meta.pk.column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(rows) > 200:
            # COPY into a temporary table, then one UPDATE … FROM: far faster than a statement per row. (Rows that
            # must be applied in order — a head of household handing over — are few and go the other way.)
            tmp = qn(f"tmp_{_table(model)}_upd")
            collist = ", ".join(qn(c) for c in cols)
            cursor.execute(f"DROP TABLE IF EXISTS {tmp}")
            cursor.execute(
                f"CREATE TEMP TABLE {tmp} ON COMMIT DROP AS SELECT {pk}, {collist} FROM {table} WITH NO DATA"  # noqa: S608
            )
            types = _pg_types(model, [model._meta.pk.name, *fields])
            _pg_copy(cursor.cursor, f"COPY {tmp} ({pk}, {collist}) FROM STDIN", types, rows)
            sets = ", ".join(f"{qn(c)} = t.{qn(c)}" for c in cols)
            cursor.execute(f"UPDATE {table} SET {sets} FROM {tmp} t WHERE {table}.{pk} = t.{pk}")  # noqa: S608
            cursor.execute(f"DROP TABLE {tmp}")
        else:
            sets = ", ".join(f"{qn(c)} = %s" for c in cols)
            sql = f"UPDATE {table} SET {sets} WHERE {pk} = %s"  # noqa: S608
            moved = [(*row[1:], row[0]) for row in rows]
            moved = _adapted(model, [*fields, model._meta.pk.name], moved, adapt)
            for start in range(0, len(moved), CHUNK):
                cursor.executemany(sql, moved[start : start + CHUNK])
    return len(rows)


def _has_at_least(model: type[Model], count: int) -> bool:
    """Whether the table holds ``count`` rows or more, reading at most ``count`` of them (a bounded count: the
    question costs no more than the load it decides about)."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM {qn(_table(model))} LIMIT %s) t",  # noqa: S608
            [count],
        )
        return cursor.fetchone()[0] >= count


def _secondary_indexes(cursor, table: str) -> list[tuple[str, str, str]]:
    """``(kind, name, definition)`` of what slows a bulk load of ``table`` and can be built again afterwards:
    every index but the primary key's and SQLite's inline ones; on PostgreSQL also the unique and foreign-key
    constraints (a foreign key checks each new row with a query of its own)."""
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT 'constraint', conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC, conname",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT 'index', i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY i.relname",
            [table],
        )
        return [*constraints, *cursor.fetchall()]
    cursor.execute(
        "SELECT 'index', name, sql FROM sqlite_master "
        "WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL ORDER BY name",
        [table],
    )
    return cursor.fetchall()


def drop_indexes(cursor, table: str) -> list[tuple[str, str, str]]:
    """Drop ``table``'s secondary indexes (and, on PostgreSQL, its unique and foreign-key constraints) inside the
    caller's transaction; returns what ``build_indexes`` needs to put them back."""
    qn = connection.ops.quote_name
    dropped = _secondary_indexes(cursor, table)
    for kind, name, _definition in dropped:
        if kind == "constraint":
            cursor.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")
        else:
            cursor.execute(f"DROP INDEX {qn(name)}")
    return dropped


def build_indexes(cursor, table: str, dropped: list[tuple[str, str, str]]) -> None:
    """Build again what ``drop_indexes`` dropped: unique ones and plain indexes first, then foreign keys (whose
    check uses the other table's indexes). Every unique index and foreign key checks the rows as it is built."""
    qn = connection.ops.quote_name
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    with _sqlite_sorting_in_threads():
        for kind, name, definition in sorted(dropped, key=lambda d: "FOREIGN KEY" in d[2]):
            if kind == "constraint":
                cursor.execute(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {definition}")
            else:
                cursor.execute(definition)


@contextmanager
def _sqlite_sorting_in_threads():
    """SQLite: let CREATE INDEX sort the way it is fastest here — runs spilled to temporary files (the connection
    keeps its temporary storage in files, see settings) and merged by worker threads. With the connection's 64 MB
    cache, right for queries, the sorter works in one thread: the four largest member indexes of a county took
    4.0 s; with a 2 MB cache and two threads, 1.9 s (measured, 853 000 members). The settings are put back
    afterwards."""
    if connection.vendor != "sqlite":
        yield
        return
    raw = connection.connection.cursor()
    try:
        cache = raw.execute("PRAGMA cache_size").fetchone()[0]
        raw.execute("PRAGMA cache_size = -2000")
        raw.execute(f"PRAGMA threads = {min(4, os.cpu_count() or 1)}")
        try:
            yield
        finally:
            raw.execute("PRAGMA threads = 0")
            raw.execute(f"PRAGMA cache_size = {int(cache)}")
    finally:
        raw.close()


@contextmanager
def indexes_deferred(model: type[Model], incoming: int, *, at_least: int = 20_000):
    """Inside a transaction, around a bulk load of ``incoming`` rows into the model's table: when the load at least
    doubles the table (a first import of a town or county), drop its secondary indexes — and on PostgreSQL its
    unique and foreign-key constraints — and build them again at the end. Building an index once over the sorted
    rows is several times cheaper than keeping it up to date row by row (SQLite: 853 000 members in 5.5 s instead of
    17 s, measured). Rebuilding re-checks every unique index and foreign key, so a violation still fails the whole
    transaction. Smaller loads, or loads into a table already larger than the load, change nothing.

    The indexes are gone only inside the loading transaction: other connections keep seeing them (SQLite) or wait
    for the load to commit (PostgreSQL locks the table while its indexes are dropped) — acceptable for the bulk
    import of a whole registry, the one case where this applies."""
    if incoming < at_least or _has_at_least(model, incoming):
        yield False
        return
    if not connection.in_atomic_block:
        raise RuntimeError(
            "indexes_deferred needs a transaction: a failed load must take the dropped indexes back"
        )
    table = _table(model)
    with connection.cursor() as cursor:
        dropped = drop_indexes(cursor, table)
    yield True
    with connection.cursor() as cursor:
        build_indexes(cursor, table, dropped)


@contextmanager
def sqlite_triggers_paused(model: type[Model], names: Sequence[str], *, when: bool = True):
    """SQLite, inside the loading transaction, around a bulk load whose rows already hold what these triggers of
    the model's table would write: drop them and create them again afterwards from their own SQL. Any trigger, even
    one whose WHEN is false, costs SQLite ≈ 0.8 µs per inserted row (0.7 s for 853 000 members, measured). The
    triggers are gone only inside the transaction: a failed load takes the drop back. PostgreSQL's triggers are
    left alone (an AFTER row trigger whose WHEN is false costs a comparison), as is everything when ``when`` is
    false."""
    if not when or connection.vendor != "sqlite":
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError(
            "sqlite_triggers_paused needs a transaction: a failed load must take the drop back"
        )
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s "
            f"AND name IN ({', '.join(['%s'] * len(names))})",
            [_table(model), *names],
        )
        paused = cursor.fetchall()
        for name, _sql in paused:
            cursor.execute(f"DROP TRIGGER {qn(name)}")
    yield
    with connection.cursor() as cursor:
        for _name, sql in paused:
            cursor.execute(sql)


def analyze(*models: type[Model]) -> None:
    """Refresh the planner's statistics of these tables after a bulk load. SQLite without statistics plans the
    household list 20–200× slower (a county search page 1.3 s instead of 2 ms, measured); PostgreSQL's autovacuum
    may lag or be off. On PostgreSQL outside a transaction, VACUUM as well: it sets the visibility map that
    index-only scans need."""
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        for model in models:
            table = connection.ops.quote_name(_table(model))
            cursor.execute(f"VACUUM (ANALYZE) {table}" if vacuum else f"ANALYZE {table}")


def reserve_ids(model: type[Model], count: int) -> list[int]:
    """``count`` fresh primary keys for rows about to be inserted with explicit ids.

    PostgreSQL: drawn from the table's sequence (so the sequence stays right); a large count inside a transaction as
    one block, with the table locked against other inserts until commit. SQLite: above both the largest id
    and the AUTOINCREMENT counter — safe because the caller holds SQLite's write lock (an IMMEDIATE transaction)."""
    if count <= 0:
        return []
    table = _table(model)
    pk = model._meta.pk.column
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and count >= BLOCK_AT and connection.in_atomic_block:
            # One block at once (drawing 250 000 values one by one took 0.6 s). No other session may draw from
            # the sequence between the two calls: every insert into the table does, and the lock makes them wait
            # for this transaction (a load this size defers the table's indexes, which locks it anyway).
            cursor.execute(f"LOCK TABLE {qn(table)} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute(
                "SELECT setval(seq, nextval(seq) + %s - 1) "
                "FROM (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq) s",
                [count, table, pk],
            )
            last = cursor.fetchone()[0]
            return list(range(last - count + 1, last + 1))
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk, count],
            )
            return sorted(r[0] for r in cursor.fetchall())
        cursor.execute(f"SELECT COALESCE(MAX({qn(pk)}), 0) FROM {qn(table)}")  # noqa: S608
        top = cursor.fetchone()[0]
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'")
        seq = None
        if cursor.fetchone():
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            seq = cursor.fetchone()
        start = max(top, seq[0] if seq else 0) + 1
        return list(range(start, start + count))


def decimals_converted(model: type[Model], fields: Sequence[str], rows: Iterable[tuple]) -> Iterable[tuple]:
    """Rows of ``fields`` read with raw SQL, with the decimal columns as Django's ``values_list`` gives them. SQLite
    stores a decimal as a number (Django quantizes each on reading: 2 000 000 conversions took 6.5 s of a county's
    re-import); here each distinct number is converted once. PostgreSQL's driver gives Decimals already. (Django's
    SQLite connection turns bool and date columns into Python values by itself.)"""
    if connection.vendor != "sqlite":
        return rows
    places = {
        i: model._meta.get_field(name).decimal_places
        for i, name in enumerate(fields)
        if model._meta.get_field(name).get_internal_type() == "DecimalField"
    }
    if not places:
        return rows
    caches: dict[int, dict] = {i: {} for i in places}
    quanta = {i: Decimal(1).scaleb(-p) for i, p in places.items()}
    context = Context(prec=28)

    def convert(row: tuple) -> tuple:
        row = list(row)
        for i, cache in caches.items():
            value = row[i]
            if value is None:
                continue
            hit = cache.get(value)
            if hit is None:
                made = (
                    value if isinstance(value, Decimal) else context.create_decimal_from_float(float(value))
                )
                hit = cache[value] = made.quantize(quanta[i], context=context)
            row[i] = hit
        return tuple(row)

    return map(convert, rows)


def fetch_in(sql_prefix: str, values: Sequence, *, chunk: int = 2000, params: Sequence = ()) -> list[tuple]:
    """Run ``<sql_prefix> IN (…)`` over ``values`` in chunks and return every row (``sql_prefix`` ends with the
    column being matched, e.g. ``SELECT id, number FROM registry_household WHERE number``)."""
    out: list[tuple] = []
    values = list(values)
    with connection.cursor() as cursor:
        for start in range(0, len(values), chunk):
            part = values[start : start + chunk]
            cursor.execute(f"{sql_prefix} IN ({', '.join(['%s'] * len(part))})", [*params, *part])
            out.extend(cursor.fetchall())
    return out
