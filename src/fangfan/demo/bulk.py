"""Loading many rows at the database's own speed: SQLite ``executemany`` inside the caller's transaction,
PostgreSQL ``COPY … FROM STDIN`` through psycopg 3. Django's ``bulk_create`` manages about 27 000 rows/s here,
which would make a county-sized demo (850 000 members) take minutes longer than it should (DESIGN.md, measured).

Rows are tuples in the order of :func:`columns`; values are already what the column stores (encrypted text,
``True``/``False``, ``Decimal``, ISO dates as ``str``, datetimes as naive UTC strings). No model ``save()``,
no signals: the caller has computed every derived value with the same functions the services use.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

from django.core.management.color import no_style
from django.db import connection, models

from fangfan.registry import bulkdb


def columns(model: type[models.Model]) -> list[models.Field]:
    """The concrete fields of ``model`` in table order (the primary key included)."""
    return list(model._meta.concrete_fields)


def timestamp_value(moment: datetime) -> str:
    """A timezone-aware datetime as the backend stores it (SQLite: naive UTC text; PostgreSQL: with offset)."""
    utc = moment.astimezone(UTC)
    if connection.vendor == "sqlite":
        return utc.strftime("%Y-%m-%d %H:%M:%S.%f")
    return utc.strftime("%Y-%m-%d %H:%M:%S.%f+00:00")


def next_id(model: type[models.Model]) -> int:
    """The first free primary key value (rows are inserted with explicit keys so members can point at them)."""
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


def reset_sequences(*models_: type[models.Model]) -> None:
    """After explicit keys: move PostgreSQL's identity sequences past them (SQLite does this by itself)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(models_))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def insert_rows(model: type[models.Model], fields: Sequence[models.Field], rows: Iterable[tuple]) -> int:
    """Insert ``rows`` into ``model``'s table by the fastest path the backend offers; returns the row count.

    Must run inside ``transaction.atomic`` (the caller decides where the transaction ends)."""
    rows = list(rows)
    if not rows:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        marks = ", ".join("?" * len(fields))
        raw = connection.connection.cursor()
        try:
            raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608
        finally:
            raw.close()
    elif connection.vendor == "postgresql" and _is_psycopg3():
        # psycopg's C dumpers format each row; measured as fast as building the text in Python and simpler
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            write = copy.write_row
            for row in rows:
                write(row)
    else:  # another backend: correct, only slower
        attnames = [f.attname for f in fields]
        model.objects.bulk_create(
            [model(**dict(zip(attnames, row, strict=True))) for row in rows], batch_size=2000
        )
    return len(rows)


def _is_psycopg3() -> bool:
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return is_psycopg3


@contextmanager
def indexes_deferred(*models_: type[models.Model]):
    """Drop the models' secondary indexes — on PostgreSQL also their unique and foreign-key constraints — for a
    load into empty tables and build them again afterwards (``registry.bulkdb.drop_indexes`` / ``build_indexes``,
    as the importer does): one sorted build per index instead of keeping each up to date row by row. Every unique
    index and foreign key checks the rows as it is rebuilt. Inside the caller's transaction: on an error the
    rollback brings everything back unchanged."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE refuses a table with pending deferred checks from earlier writes: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        dropped = [(model, bulkdb.drop_indexes(cursor, model._meta.db_table)) for model in models_]
    yield
    with connection.cursor() as cursor:
        for model, definitions in dropped:
            bulkdb.build_indexes(cursor, model._meta.db_table, definitions)


def analyze(*models_: type[models.Model]) -> None:
    """Refresh the planner's statistics after a bulk load (``registry.bulkdb.analyze``)."""
    bulkdb.analyze(*models_)
