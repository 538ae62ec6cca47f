"""The monthly history of a county: ``history_snapshot`` over 250 000 households (target ≤ 10 s on both databases).

    .venv/bin/python benchmarks/snapshot.py                      # SQLite, var/bench/list-250000.sqlite3 (shared)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fangfan_bench_list .venv/bin/python benchmarks/snapshot.py

It uses the list benchmark's county database (built by the demo generator when missing, about 90 s) and leaves
it as it found it: the months it writes are deleted at the end. Measured, median of ``--runs``: the month's first
snapshot (every household inserted), the same again (nothing changed: nothing written), and again after 1 % of the
households changed their income (only those rows rewritten). Written to ``docs/benchmarks.md`` (section snapshot).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from common import BENCH_DIR, bootstrap, machine, operator, read_section, replace_marked, table, write_section

TARGET_S = 10.0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=250_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    db = bootstrap(sqlite_file=BENCH_DIR / f"list-{args.households}.sqlite3")
    import list_query  # the county database is the list benchmark's
    from django.db import connection, transaction

    from fangfan.demo.generator import DEFAULT_SEED
    from fangfan.registry.history import history_snapshot
    from fangfan.registry.models import Household, HouseholdMonth

    note = list_query.prepare(db, args.households, DEFAULT_SEED)
    print(f"{db.label}: {note}", file=sys.stderr)
    households = Household.objects.filter(cancelled=False).count()

    def clear() -> None:
        HouseholdMonth.objects.all().delete()

    def timed(fn) -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    first, again, changed = [], [], []
    written = {}
    for _ in range(args.runs):
        clear()
        first.append(timed(lambda: written.__setitem__("first", history_snapshot(actor=operator()).written)))
        again.append(timed(lambda: written.__setitem__("again", history_snapshot(actor=operator()).written)))
        with transaction.atomic(), connection.cursor() as cur:
            # 1 % of the households: a different wage (then put back after the run).
            cur.execute("UPDATE registry_household SET wage_income = wage_income + 1 WHERE id % 100 = 7")
        changed.append(
            timed(lambda: written.__setitem__("changed", history_snapshot(actor=operator()).written))
        )
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("UPDATE registry_household SET wage_income = wage_income - 1 WHERE id % 100 = 7")
    clear()

    rows = [
        ["first snapshot of the month", f"{written['first']:,}", f"{statistics.median(first):.2f} s"],
        ["again, nothing changed", f"{written['again']:,}", f"{statistics.median(again):.2f} s"],
        [
            "again, 1 % of households changed",
            f"{written['changed']:,}",
            f"{statistics.median(changed):.2f} s",
        ],
    ]
    worst = max(statistics.median(first), statistics.median(again), statistics.median(changed))
    verdict = "met" if worst <= TARGET_S else "MISSED"
    body = (
        f"### {db.label}\n\n{machine()}; {households:,} households ({note}); median of {args.runs}.\n\n"
        + table(["run", "rows written", "time"], rows)
        + f"\nTarget ≤ {TARGET_S:.0f} s: {verdict} (slowest {worst:.2f} s).\n"
    )
    print(body)
    if not args.no_write:
        intro = (
            "## `snapshot.py` — the monthly history of a county (`fangfan snapshot`)\n\n"
            "One `INSERT … SELECT … ON CONFLICT` per run; the current month rewrites only rows that changed.\n"
        )
        current = read_section("snapshot") or intro
        write_section("snapshot", replace_marked(current, f"snapshot/{db.vendor}", body))
        print("written to docs/benchmarks.md (section snapshot)", file=sys.stderr)
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    sys.exit(main())
