"""Households counted per village and classification, read from ``HouseholdCount`` instead of counting a county's
250 000 households (the county dashboard: 115–320 ms → a few ms).

The counts are written by database triggers (migration 0004), so no Python writer can forget them: registry
services, the importer's bulk path, the recompute, the demo generator and any raw SQL all keep them exact in their
own transaction. On PostgreSQL the triggers append changes to ``HouseholdCountDelta`` rather than add to the count
rows (an import holding those rows locked would make every edit of the county wait, or deadlock with it); a read
adds both in one statement, so it sees one consistent snapshot, and folds the changes in once they pile up.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import IntegerField, Q, Value

from .models import COUNT_KEYS, HouseholdCount, HouseholdCountDelta

# Fold the appended changes into the counts when a read meets more than this many (PostgreSQL).
FOLD_AT = 2_000
_COLUMNS = ["region_code", *COUNT_KEYS, "households", "people"]


def _scoped(user, action: str, cancelled: bool | None, where: Q | None, filters: dict) -> list:
    if cancelled is not None:
        filters = {**filters, "cancelled": cancelled}
    return [
        model.objects.for_user(user, action).filter(where or Q(), **filters)
        for model in (HouseholdCount, HouseholdCountDelta)
    ]


def count_rows(user, action: str, *, cancelled: bool | None = False, **filters) -> list[tuple]:
    """The counts inside ``user``'s jurisdiction (scoped like the households: by the village code) as tuples
    ``(region_code, *COUNT_KEYS, households, people)``, one per village and combination of the counted columns
    (``cancelled`` as stored: 0/1 on SQLite); ``filters`` are lookups on those columns
    (``household_type="exited"``). Combinations without households are left out."""
    counts, deltas = (
        qs.annotate(src=Value(i, output_field=IntegerField())).values_list(*_COLUMNS, "src")
        for i, qs in enumerate(_scoped(user, action, cancelled, None, filters))
    )
    summed: dict[tuple, list[int]] = {}
    pending = 0
    for row in counts.union(deltas, all=True):
        if row[-1]:
            pending += 1
            entry = summed.setdefault(row[:-3], [0, 0])
            entry[0] += row[-3]
            entry[1] += row[-2]
        elif (entry := summed.get(row[:-3])) is None:
            summed[row[:-3]] = [row[-3], row[-2]]
        else:
            entry[0] += row[-3]
            entry[1] += row[-2]
    if pending > FOLD_AT:
        fold_counts()
    return [(*key, households, people) for key, (households, people) in summed.items() if households]


def count_total(
    user, action: str, *, cancelled: bool | None = False, where: Q | None = None, **filters
) -> int:
    """How many households of ``user``'s jurisdiction match ``where`` and ``filters`` (on the counted columns):
    one statement summing the counts and the appended changes."""
    parts = [
        qs.values("households").query.sql_with_params()
        for qs in _scoped(user, action, cancelled, where, filters)
    ]
    sql = " UNION ALL ".join(part for part, _params in parts)
    params = [p for _part, part_params in parts for p in part_params]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(SUM(households), 0) FROM ({sql}) counted", params)  # noqa: S608
        return int(cursor.fetchone()[0])


def fold_counts() -> int:
    """Move the appended changes into ``HouseholdCount`` (PostgreSQL; on SQLite the triggers add to the counts
    directly). One statement: what it deletes is exactly what it adds, whatever commits meanwhile. A fold already
    running elsewhere makes this one return at once. Returns the number of changes folded."""
    if connection.vendor != "postgresql":
        return 0
    count, delta = HouseholdCount._meta.db_table, HouseholdCountDelta._meta.db_table
    keys = ", ".join(["region_code", *COUNT_KEYS])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [delta])
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute(
            f"WITH moved AS (DELETE FROM {delta} RETURNING {keys}, households, people), "  # noqa: S608
            f"summed AS (SELECT {keys}, SUM(households) AS households, SUM(people) AS people, COUNT(*) AS n "
            f"FROM moved GROUP BY {keys}), "
            f"added AS (INSERT INTO {count} ({keys}, households, people) "
            f"SELECT {keys}, households, people FROM summed "
            f"ON CONFLICT ({keys}) DO UPDATE SET households = {count}.households + EXCLUDED.households, "
            f"people = {count}.people + EXCLUDED.people) "
            "SELECT COALESCE(SUM(n), 0) FROM summed"
        )
        return int(cursor.fetchone()[0])


def recount(region_codes: list[str] | None = None) -> None:
    """Rebuild the counts of the given villages (all when None) from the households themselves: a repair for a
    database whose triggers were bypassed (e.g. rows loaded with triggers disabled). Not needed after any write
    of the application."""
    from .models import Household

    keys = ", ".join(COUNT_KEYS)
    count, delta = HouseholdCount._meta.db_table, HouseholdCountDelta._meta.db_table
    households = Household._meta.db_table
    where, params = "", []
    if region_codes is not None:
        where = f" WHERE region_code IN ({', '.join(['%s'] * len(region_codes))})"
        params = list(region_codes)
    source_where = where.replace("region_code", "region_id")
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {households} IN SHARE MODE")
        cursor.execute(f"DELETE FROM {delta}{where}", params)  # noqa: S608
        cursor.execute(f"DELETE FROM {count}{where}", params)  # noqa: S608
        cursor.execute(
            f"INSERT INTO {count} (region_code, {keys}, households, people) "  # noqa: S608
            f"SELECT region_id, {keys}, COUNT(*), COALESCE(SUM(size), 0) FROM {households}{source_where} "
            f"GROUP BY region_id, {keys}",
            params,
        )
