"""Run every benchmark script in this folder and collect how each run went.

    .venv/bin/python benchmarks/run_all.py                       # every script, SQLite (each its own file)
    .venv/bin/python benchmarks/run_all.py --households 50000    # passed on to every script
    .venv/bin/python benchmarks/run_all.py --postgres            # SQLite, then PostgreSQL
    .venv/bin/python benchmarks/run_all.py --only list_query -- --runs 10   # after --: passed on as is

A benchmark is any ``benchmarks/*.py`` other than ``common.py`` and this file; each writes its own figures into its
section of docs/benchmarks.md. With ``--postgres`` each script gets its own database on the server of
``--pg-url`` (``<name>_<script>``, created when missing), so that one script's data never empties another's.
The runs (script, database, exit status, time) go to section ``runs``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from common import machine, table, write_section

HERE = Path(__file__).resolve().parent
NOT_BENCHMARKS = {"common.py", "run_all.py"}


def scripts(only: list[str]) -> list[Path]:
    found = sorted(
        p for p in HERE.glob("*.py") if p.name not in NOT_BENCHMARKS and not p.name.startswith("_")
    )
    if only:
        wanted = {name.removesuffix(".py") for name in only}
        missing = wanted - {p.stem for p in found}
        if missing:
            raise SystemExit(f"no such benchmark: {', '.join(sorted(missing))}")
        found = [p for p in found if p.stem in wanted]
    return found


def pg_url_for(base: str, script: str) -> str:
    parts = urlsplit(base)
    name = parts.path.lstrip("/") or "fangfan_bench"
    return urlunsplit(parts._replace(path=f"/{name}_{script}"))


def ensure_pg_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough = []
    if "--" in argv:
        at = argv.index("--")
        argv, passthrough = argv[:at], argv[at + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", default=[], metavar="NAME")
    parser.add_argument("--households", type=int)
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("FANGFAN_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/fangfan_bench"),
    )
    args = parser.parse_args(argv)
    extra = (["--households", str(args.households)] if args.households else []) + passthrough
    targets = [("sqlite", None)] + ([("postgresql", args.pg_url)] if args.postgres else [])
    rows = []
    failed = 0
    for script in scripts(args.only):
        for label, base in targets:
            env = dict(os.environ)
            env.pop("DATABASE_URL", None)
            if base:
                url = pg_url_for(base, script.stem)
                ensure_pg_database(url)
                env["DATABASE_URL"] = url
            print(f"=== {script.stem} on {label}", flush=True)
            started = time.perf_counter()
            rc = subprocess.call([sys.executable, str(script), *extra], env=env, cwd=HERE.parent)  # noqa: S603
            took = time.perf_counter() - started
            failed += rc != 0
            rows.append([script.stem, label, "ok" if rc == 0 else f"failed ({rc})", f"{took:.0f} s"])
            print(
                f"--- {script.stem} on {label}: {'ok' if rc == 0 else f'exit {rc}'} in {took:.0f} s",
                flush=True,
            )
    body = f"Last `run_all.py` ({machine()}):\n\n" + table(["benchmark", "database", "result", "time"], rows)
    write_section("runs", body)
    print(table(["benchmark", "database", "result", "time"], rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
