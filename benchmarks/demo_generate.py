"""Benchmark: building the demo town (``fangfan demo``) — the default 6 000 households and a county of 250 000.

    .venv/bin/python benchmarks/demo_generate.py                         # 6 000 and 250 000, temporary SQLite
    .venv/bin/python benchmarks/demo_generate.py --households 20000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fangfan_bench_demo .venv/bin/python benchmarks/demo_generate.py

Each size runs once on an empty database (SQLite: a fresh temporary file; PostgreSQL: the database of
``DATABASE_URL``, emptied first — its name must contain "bench"). Reported: wall time and the generator's own split
(generate rows in Python, insert through the fast path, build indexes + users + commit, ANALYZE), and rows per
second. Results go to section ``demo`` of docs/benchmarks.md, one subsection per database.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from common import (
    bootstrap,
    machine,
    migrate,
    operator,
    read_section,
    replace_marked,
    table,
    wipe_database,
    write_section,
)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, action="append", help="sizes (default 6000 and 250000)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    sizes = args.households or [6000, 250_000]
    tmp = Path(tempfile.mkdtemp(prefix="fangfan-demo-bench-"))
    db = bootstrap(sqlite_file=tmp / "demo.sqlite3")
    from django.db import connection

    from fangfan.demo.generator import DEFAULT_SEED, demo_generate

    seed = DEFAULT_SEED if args.seed is None else args.seed
    rows = []
    for size in sizes:
        wipe_database(db)
        if db.vendor == "sqlite":
            connection.close()
        migrate()
        summary = demo_generate(households=size, seed=seed, actor=operator())
        t = summary.timings
        rows.append(
            [
                f"{summary.households:,}",
                f"{summary.members:,}",
                f"{summary.seconds:.1f}",
                f"{t.get('generate', 0):.1f}",
                f"{t.get('insert', 0):.1f}",
                f"{t.get('finish', 0):.1f}",
                f"{t.get('analyze', 0):.1f}",
                f"{summary.members / t['insert']:,.0f}" if t.get("insert") else "",
                f"{(summary.households + summary.members) / summary.seconds:,.0f}",
            ]
        )
        print(f"{db.label}: {size} households → {summary.as_dict()}", flush=True)
    connection.close()
    shutil.rmtree(tmp, ignore_errors=True)
    if not args.no_write:
        header = [
            "households",
            "members",
            "total s",
            "generate s",
            "insert s",
            "indexes+commit s",
            "analyze s",
        ]
        header += ["members/s inserting", "rows/s overall"]
        body = (
            f"**{db.label}** — `demo_generate` on an empty database, seed {seed}; {machine()}.\n\n"
            + table(header, rows)
        )
        current = read_section("demo") or ""
        write_section("demo", replace_marked(current, f"demo/{db.vendor}", body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
