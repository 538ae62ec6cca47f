"""A town's 措施落实 list page (帮扶措施, issue 18): target ≤ 5 ms of database time.

    .venv/bin/python benchmarks/measures_list.py                  # SQLite, var/bench/list-250000.sqlite3 (shared)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fangfan_bench_list .venv/bin/python benchmarks/measures_list.py

On the list benchmark's county database (built when missing). Every 监测对象 of the county gets a risk point and
two measures in rotating states, types and planned dates (set-based, marked so that the script removes them at the
end): about 11 000 risk points and 22 000 measures, some 1 400 in the town. Measured, median of ``--runs`` with the
test client: the town station's list page 1 (with the three doubt counts it shows), the same filtered to the
measures still to carry out, page 5, and the department's 待落实措施; database time and the whole request.
"""

from __future__ import annotations

import argparse
import sys

from common import (
    BENCH_DIR,
    bootstrap,
    login,
    machine,
    measure,
    ms,
    read_section,
    replace_marked,
    table,
    write_section,
)

TARGET_MS = 5.0
MARK = "benchmark:measures_list"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=250_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    return parser.parse_args(argv)


def seed_measures(today) -> tuple[int, int]:
    """Risk points and measures for every 监测对象, written with two INSERT … SELECT each; returns the counts."""
    from django.db import connection, transaction

    from fangfan.accounts.models import User
    from fangfan.assistance.models import Measure, MeasureType
    from fangfan.monitoring.models import RiskPoint

    actor = User.objects.get(username="taoxi_station")
    types = list(MeasureType.objects.order_by("id").values_list("id", "department"))
    states = ["planned", "in_progress", "done", "failed"]
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO monitoring_riskpoint (household_id, region_code, risk_type, channel, found_on, deadline, "
            "state, evidence, description, created_by_id, created_at) "
            "SELECT id, region_id, 'illness', 'cadre', %s, %s, 'open', '{}', %s, %s, %s FROM registry_household "
            "WHERE monitoring_type <> '' AND NOT cancelled",
            [today, today, MARK, actor.pk, today],
        )
        for offset in (0, 7):
            type_case = " ".join(f"WHEN {i} THEN {t}" for i, (t, _d) in enumerate(types))
            dept_case = " ".join(f"WHEN {i} THEN '{d}'" for i, (_t, d) in enumerate(types))
            state_case = " ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(states))
            cur.execute(
                "INSERT INTO assistance_measure (household_id, region_code, risk_id, measure_type_id, department, "
                "responsible, planned_on, done_on, amount, state, note, created_by_id, created_at, updated_at) "
                f"SELECT r.household_id, r.region_code, r.id, CASE (r.id + {offset}) %% {len(types)} {type_case} END, "
                f"CASE (r.id + {offset}) %% {len(types)} {dept_case} END, '', %s, NULL, NULL, "
                f"CASE (r.id + {offset}) %% 4 {state_case} END, %s, %s, %s, %s "
                "FROM monitoring_riskpoint r WHERE r.description = %s",
                [today, MARK, actor.pk, today, today, MARK],
            )
    if connection.vendor == "postgresql":
        # VACUUM as autovacuum would (off on this server): index-only scans need the visibility map, and the rows
        # an earlier run deleted would otherwise stay in every scan (as screening.py does).
        with connection.cursor() as cur:
            cur.execute("VACUUM (ANALYZE) monitoring_riskpoint")
            cur.execute("VACUUM (ANALYZE) assistance_measure")
    return (
        RiskPoint.objects.filter(description=MARK).count(),
        Measure.objects.filter(note=MARK).count(),
    )


def remove_measures() -> None:
    from django.db import transaction

    from fangfan.assistance.models import Measure
    from fangfan.monitoring.models import RiskPoint

    with transaction.atomic():
        Measure.objects.filter(note=MARK).delete()
        RiskPoint.objects.filter(description=MARK).delete()


def main(argv=None) -> int:
    args = parse_args(argv)
    db = bootstrap(sqlite_file=BENCH_DIR / f"list-{args.households}.sqlite3")
    import list_query  # the county database is the list benchmark's
    from django.test import Client
    from django.utils import timezone

    from fangfan.accounts.models import User
    from fangfan.demo.generator import DEFAULT_SEED

    note = list_query.prepare(db, args.households, DEFAULT_SEED)
    print(f"{db.label}: {note}", file=sys.stderr)
    remove_measures()  # a run that was interrupted
    risks, measures = seed_measures(timezone.localdate())
    try:
        station = User.objects.get(username="taoxi_station")
        department = User.objects.filter(role="department", department="civil").first()
        rows = []
        cases = [
            ("镇 · 措施落实 · 第1页", station, "/assistance/"),
            ("镇 · 措施落实 · 疑点计数（页面显示后的第二个请求）", station, "/assistance/doubts/"),
            ("镇 · 措施落实 · 待落实 · 第1页", station, "/assistance/?state=pending"),
            ("镇 · 措施落实 · 第5页", station, "/assistance/?page=5"),
        ]
        if department is not None:
            cases.append(("县 · 民政 · 待落实措施 · 第1页", department, "/assistance/todo/"))
        worst = 0.0
        for label, user, path in cases:
            client = Client(SERVER_NAME="localhost")
            login(client, user)
            status = client.get(path).status_code
            m = measure(lambda c=client, p=path: c.get(p), runs=args.runs)
            worst = max(worst, m.db)
            ok = "met" if m.db <= TARGET_MS else "MISSED"
            cpu = ms(m.db_cpu) if db.vendor == "sqlite" else "—"
            rows.append([label, str(status), str(m.queries), ms(m.db), cpu, ms(m.total), ok])
    finally:
        remove_measures()
    body = (
        f"### {db.label}\n\n{machine()}; county database ({note}); {risks:,} risk points and {measures:,} "
        f"measures generated for the run; median of {args.runs}.\n\n"
        + table(
            [
                "page",
                "status",
                "queries",
                "database ms",
                "… of it CPU ms (SQLite)",
                "total ms",
                f"≤ {TARGET_MS:.0f} ms",
            ],
            rows,
        )
    )
    print(body)
    if not args.no_write:
        intro = (
            "## `measures_list.py` — a town's 措施落实 list (帮扶措施)\n\n"
            "Database time of the page as the town station sees it, and of its doubt counts (the second request the "
            "page makes once shown); the target is 5 ms each.\n"
        )
        current = read_section("measures_list") or intro
        write_section("measures_list", replace_marked(current, f"measures_list/{db.vendor}", body))
        print("written to docs/benchmarks.md (section measures_list)", file=sys.stderr)
    return 0 if worst <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
