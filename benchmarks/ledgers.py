"""Ledgers and the monthly report over a county (issue 20 items 3, 4):

    .venv/bin/python benchmarks/ledgers.py                      # SQLite, var/bench/list-250000.sqlite3 (shared)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fangfan_bench_list .venv/bin/python benchmarks/ledgers.py

On the list benchmark's county database (``list_query.prepare``). Measured: the county's 监测对象台账 written by
the ledger writer against bare xlsxwriter writing the same rows (target ≤ 1.2×), the county's monthly report
(target ≤ 2 s; this month and last month kept in the history for the run, deleted afterwards when the database had
none), and one page of a town's ledger (target ≤ 5 ms of database time). Written to ``docs/benchmarks.md``
(section ledgers).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import (
    BENCH_DIR,
    bootstrap,
    machine,
    measure,
    ms,
    operator,
    read_section,
    replace_marked,
    table,
    write_section,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=250_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    db = bootstrap(sqlite_file=BENCH_DIR / f"list-{args.households}.sqlite3")
    import list_query
    import xlsxwriter
    from django.utils import timezone

    from fangfan.accounts.models import User
    from fangfan.core.xlsx import write_printable
    from fangfan.demo.generator import DEFAULT_SEED
    from fangfan.regions.models import Region
    from fangfan.registry.history import history_snapshot
    from fangfan.registry.models import HouseholdMonth
    from fangfan.reports.ledgers import ledger_get
    from fangfan.reports.ledgers.base import scope_build
    from fangfan.reports.ledgers.writer import ledger_write
    from fangfan.reports.monthly import month_back, monthly_report

    note = list_query.prepare(db, args.households, DEFAULT_SEED)
    print(f"{db.label}: {note}", file=sys.stderr)
    county = Region.objects.filter(level=3).values_list("code", flat=True).first()
    town = Region.objects.filter(level=4).order_by("code").values_list("code", flat=True).first()
    system = User.objects.cli_account("bench")
    ledger = ledger_get("monitored")
    scope = scope_build(system, region=county)
    rows = [[n, *row] for n, row in enumerate(ledger.rows(scope), start=1)]

    def bare(path: str) -> None:
        workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_numbers": False})
        ws = workbook.add_worksheet()
        for c, title in enumerate(ledger.columns):
            ws.write_string(0, c, title)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, int):
                    ws.write_number(r, c, value)
                else:
                    ws.write_string(r, c, str(value))
        workbook.close()

    def timed(fn) -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    def printable(path: str) -> None:  # the ledger's own writer on the same already-built rows
        write_printable(
            path,
            sheet=ledger.title,
            title=ledger.title,
            headers=ledger.columns,
            rows=rows,
            widths=ledger.widths,
            numbers=ledger.numbers,
            money=ledger.money,
        )

    # The spec's ratio: the whole export (query, rows, .xlsx) against bare xlsxwriter writing the same rows, already
    # built; the writer alone on those rows is shown beside it.
    with tempfile.TemporaryDirectory() as folder:
        ours, plain, writer = [], [], []
        for _ in range(args.runs):  # interleaved, so a busy moment of the machine falls on all three
            ours.append(timed(lambda: ledger_write(ledger, scope, Path(folder) / "a.xlsx")))
            plain.append(timed(lambda: bare(str(Path(folder) / "b.xlsx"))))
            writer.append(timed(lambda: printable(str(Path(folder) / "c.xlsx"))))
    ratio = statistics.median(ours) / statistics.median(plain)
    writer_ratio = statistics.median(writer) / statistics.median(plain)

    today = timezone.localdate()
    first = today.replace(day=1)
    previous = month_back(first, 1)
    had_history = HouseholdMonth.objects.filter(month__in=[first, previous]).exists()
    if not had_history:
        history_snapshot(actor=operator(), month=previous, today=today)
        history_snapshot(actor=operator(), today=today)
    try:
        report = [timed(lambda: monthly_report(system, region=county, first=first)) for _ in range(args.runs)]
    finally:
        if not had_history:
            HouseholdMonth.objects.filter(month__in=[first, previous]).delete()

    town_user = User.objects.filter(role="town_station", region_id=town).first() or system
    town_scope = scope_build(town_user, region=town)
    page = measure(lambda: list(ledger.rows(town_scope, offset=0, limit=50)), runs=20)
    count = measure(lambda: ledger.count(town_scope), runs=20)

    body = "\n".join(
        [
            f"### {db.label}",
            "",
            f"{machine()}; {args.households:,} households; {note}; median of {args.runs} (export, report) and 20 "
            "(page).",
            "",
            table(
                ["measure", "result", "target"],
                [
                    [
                        f"county 监测对象台账 .xlsx ({len(rows):,} rows): whole export / bare xlsxwriter on the built rows",
                        f"{statistics.median(ours):.2f} s / {statistics.median(plain):.2f} s = {ratio:.2f}×",
                        "≤ 1.2×",
                    ],
                    [
                        "… of which the printable writer alone on the same built rows / bare xlsxwriter",
                        f"{statistics.median(writer):.2f} s / {statistics.median(plain):.2f} s = {writer_ratio:.2f}×",
                        "",
                    ],
                    ["county monthly report (figures)", f"{statistics.median(report):.2f} s", "≤ 2 s"],
                    [
                        "town 监测对象台账 page of 50 (database time, median)",
                        f"{ms(statistics.median(page.db_ms))} ms + count {ms(statistics.median(count.db_ms))} ms",
                        "≤ 5 ms",
                    ],
                ],
            ),
        ]
    )
    print(body)
    if not args.no_write:
        current = read_section("ledgers") or ""
        if "ledgers/" not in current:
            current = ""  # one section for both databases, from an earlier version: replaced
        write_section("ledgers", replace_marked(current, f"ledgers/{db.vendor}", body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
