"""The importers fed broken files by the ten thousand (issue 21.2), and their memory on a zip bomb and a 1 000 000-row
CSV.

    .venv/bin/python benchmarks/fuzz_imports.py                    # 10 000 cases, then the memory runs
    .venv/bin/python benchmarks/fuzz_imports.py --cases 400 --no-memory
    .venv/bin/python benchmarks/fuzz_imports.py --memory-only --rows 1000000

The cases are ``tests/import_fuzz.py``'s (the CI test draws a few hundred of the same): each importer —
households, regions, department data, accounts — is fed its share through its command on a small seeded SQLite
database (a temporary file, or ``DATABASE_URL``), each importer in a subprocess of its own so its peak RSS is its
own. Reported per importer: cases, refusals, accepted, tracebacks, partial writes (a refused import that changed a
table), refusals not naming the file or not in Chinese, peak RSS and cases per second. The memory runs (each in a
fresh subprocess, peak RSS from ``getrusage``): a highly compressed .xlsx (zip bombs of two kinds) and a CSV of
``--rows`` members, through the household importer. Written to ``docs/benchmarks.md`` (section fuzz_imports).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cases", type=int, default=10_000, help="cases in all, shared by the four importers"
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the large CSV")
    parser.add_argument("--no-memory", action="store_true", help="skip the zip bomb and large CSV runs")
    parser.add_argument("--memory-only", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # importer name, or memory:<kind>
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--households", type=int, help=argparse.SUPPRESS)  # run_all passes it to every script
    return parser.parse_args(argv)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _setup_django(data_dir: Path) -> None:
    os.environ["FANGFAN_DATA_DIR"] = str(data_dir)
    sys.path.insert(0, str(ROOT / "tests"))
    sys.path.insert(0, str(HERE))
    from common import bootstrap, migrate

    bootstrap(sqlite_file=data_dir / "fuzz.sqlite3")
    migrate()


# --- the fuzz run, one importer per child process -----------------------------------------------------------------


def child_fuzz(importer: str, cases: int, seed: int) -> dict:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from import_fuzz import cases as case_strategy
    from import_fuzz import run_case
    from import_fuzz import seed as seed_db

    seed_db()
    counts = {"cases": 0, "refused": 0, "accepted": 0, "traceback": 0, "partial": 0, "unnamed": 0}
    defects: list[str] = []
    started = time.perf_counter()

    @settings(
        max_examples=cases,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def one(data):
        case = data.draw(case_strategy(importer))
        outcome = run_case(case)
        counts["cases"] += 1
        counts[outcome.kind] += 1
        if outcome.kind not in ("refused", "accepted") and len(defects) < 20:
            defects.append(f"{outcome.kind}: {case.describe()}: {outcome.message}\n{outcome.detail}")

    one()
    seconds = time.perf_counter() - started
    return {**counts, "seconds": seconds, "peak_mb": _peak_mb(), "defects": defects}


# --- memory: zip bombs and a large CSV ---------------------------------------------------------------------------


def _bomb_spaces(path: Path, megabytes: int) -> Path:
    """A member sheet whose XML is a header row followed by ``megabytes`` MB of spaces (compresses ≈ 1000:1)."""
    from xlsx_craft import cell

    head = '<row r="1">' + cell("A1", "户编号") + cell("B1", "证件号码") + cell("C1", "姓名") + "</row>"
    block = " " * (1024 * 1024)
    return _streamed(path, itertools.chain([head], itertools.repeat(block, megabytes)))


def _streamed(path: Path, rows) -> Path:
    from xlsx_craft import streamed_sheet

    return streamed_sheet(path, rows)


def _bomb_rows(path: Path, rows: int) -> Path:
    """A member sheet of ``rows`` identical rows of three short cells: a dense, highly compressible sheet."""

    def body():
        yield '<row r="1"><c r="A1" t="inlineStr"><is><t>户编号</t></is></c><c r="B1" t="inlineStr"><is><t>证件号码</t></is></c><c r="C1" t="inlineStr"><is><t>姓名</t></is></c></row>'
        for r in range(2, rows + 2):
            yield f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>1</t></is></c><c r="B{r}" t="inlineStr"><is><t>2</t></is></c><c r="C{r}" t="inlineStr"><is><t>3</t></is></c></row>'

    return _streamed(path, body())  # a million rows' XML need not be held in memory here


def child_prepare(kind: str, folder: Path, rows: int) -> dict:
    """Write the memory run's file into ``folder`` (a process of its own: the generator's rows are held in memory)."""
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "bomb_spaces":
        target, rows = _bomb_spaces(folder / "农户信息.xlsx", 1000), 0
    elif kind == "bomb_rows":
        target, rows = _bomb_rows(folder / "农户信息.xlsx", 1_048_000), 1_048_000
    else:
        from import_households import generate, write_csv_pair, write_regions

        write_regions(folder / "regions.csv")
        hh_rows, mem_rows = generate(max(1, int(rows / 3.38)), 1)
        target = folder / "农户信息"
        write_csv_pair(target, hh_rows, mem_rows)
        rows = len(mem_rows) - 1
    return {"target": str(target), "rows": rows}


def child_memory(kind: str, target: Path, rows: int) -> dict:
    """Import ``target`` through ``fangfan import-households`` in this fresh process; its peak RSS."""
    import gc

    from django.core.management import call_command
    from django.core.management.base import CommandError
    from import_fuzz import seed as seed_db

    seed_db()
    regions = target.parent / "regions.csv"
    if regions.exists():
        call_command("import-regions", str(regions))
    size = sum(p.stat().st_size for p in ([target] if target.is_file() else target.iterdir()))
    unzipped = 0
    if target.suffix == ".xlsx":
        with zipfile.ZipFile(target) as archive:
            unzipped = sum(i.file_size for i in archive.infolist())
    gc.collect()
    base = _peak_mb()
    started = time.perf_counter()
    try:
        call_command("import-households", str(target))
        outcome = "imported"
    except CommandError as exc:
        outcome = f"refused: {str(exc)[:120]}"
    return {
        "kind": kind,
        "rows": rows,
        "file_mb": size / 1e6,
        "unzipped_mb": unzipped / 1e6,
        "outcome": outcome,
        "seconds": time.perf_counter() - started,
        "base_mb": base,
        "peak_mb": _peak_mb(),
        # The importer's forked check workers (a large file, FANGFAN_IMPORT_WORKERS): the largest of them.
        "workers_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


# --- the parent --------------------------------------------------------------------------------------------------


def _run_child(args: list[str]) -> dict:
    env = {**os.environ}
    proc = subprocess.run(  # noqa: S603 - this script, its own arguments
        [sys.executable, __file__, *args], capture_output=True, text=True, env=env, check=False
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {"error": (proc.stderr or proc.stdout)[-2000:]}


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        with tempfile.TemporaryDirectory(prefix="fuzz-data-") as data_dir:
            _setup_django(Path(data_dir))
            if args.child.startswith("prepare:"):
                result = child_prepare(args.child.split(":", 1)[1], Path(args.path), args.rows)
            elif args.child.startswith("memory:"):
                result = child_memory(args.child.split(":", 1)[1], Path(args.path), args.rows)
            else:
                result = child_fuzz(args.child, args.cases, args.seed)
        print(json.dumps(result, ensure_ascii=False))
        return 0

    sys.path.insert(0, str(HERE))
    from common import machine, table, write_section

    importers = ("households", "regions", "department", "users")
    fuzz: dict[str, dict] = {}
    if not args.memory_only:
        share = max(1, args.cases // len(importers))
        for importer in importers:
            result = _run_child(["--child", importer, "--cases", str(share)])
            fuzz[importer] = result
            print(importer, json.dumps(result, ensure_ascii=False)[:3000], file=sys.stderr)
    memory: list[dict] = []
    if not args.no_memory:
        for kind in ("bomb_spaces", "bomb_rows", "csv"):
            with tempfile.TemporaryDirectory(prefix="fuzz-mem-") as folder:
                made = _run_child(["--child", f"prepare:{kind}", "--path", folder, "--rows", str(args.rows)])
                if "error" in made:
                    result = {"kind": kind, **made}
                else:
                    result = _run_child(
                        ["--child", f"memory:{kind}", "--path", made["target"], "--rows", str(made["rows"])]
                    )
            memory.append(result)
            print(kind, json.dumps(result, ensure_ascii=False), file=sys.stderr)
    lines = [f"Machine: {machine()} — taken while other engineers' jobs loaded the machine.", ""]
    if fuzz:
        lines += [
            f"`python benchmarks/fuzz_imports.py --cases {args.cases}`: each importer through its command on a small "
            "seeded SQLite database, in a process of its own.",
            "",
            table(
                [
                    "importer",
                    "cases",
                    "refused",
                    "accepted",
                    "tracebacks",
                    "partial writes",
                    "unnamed refusals",
                    "peak RSS (MB)",
                    "cases/s",
                ],
                [
                    [
                        name,
                        r.get("cases", "?"),
                        r.get("refused", "?"),
                        r.get("accepted", "?"),
                        r.get("traceback", "?"),
                        r.get("partial", "?"),
                        r.get("unnamed", "?"),
                        f"{r.get('peak_mb', 0):.0f}",
                        f"{r.get('cases', 0) / max(r.get('seconds', 1), 1e-9):.1f}",
                    ]
                    for name, r in fuzz.items()
                ],
            ),  # fmt: skip
        ]
    if memory:
        labels = {
            "bomb_spaces": ".xlsx zip bomb: header + 1 GB of spaces",
            "bomb_rows": ".xlsx zip bomb: 1 048 000 rows × 3 cells",
            "csv": "CSV pair (户信息.csv + 成员信息.csv), the generated county of import_households.py",
        }
        lines += [
            "",
            "Memory (through `fangfan import-households`, a fresh process each, into its temporary SQLite database; peak RSS from "
            "`getrusage`, the process's own peak including Django ≈ base):",
            "",
            table(
                [
                    "file",
                    "rows",
                    "size (MB)",
                    "unzipped (MB)",
                    "outcome",
                    "seconds",
                    "base RSS (MB)",
                    "peak RSS (MB)",
                ],
                [
                    [
                        labels.get(m.get("kind", ""), m.get("kind", "?")),
                        f"{m.get('rows', 0):,}".replace(",", " "),
                        f"{m.get('file_mb', 0):.1f}",
                        f"{m.get('unzipped_mb', 0):.0f}",
                        m.get("outcome", m.get("error", "?")[-200:]),
                        f"{m.get('seconds', 0):.1f}",
                        f"{m.get('base_mb', 0):.0f}",
                        f"{m.get('peak_mb', 0):.0f}",
                    ]
                    for m in memory
                ],
            ),  # fmt: skip
        ]
    report = "\n".join(lines)
    print(report)
    if not args.no_write:
        write_section("fuzz_imports", "## Importers fed broken files (issue 21.2)\n\n" + report)
    bad = sum(r.get("traceback", 0) + r.get("partial", 0) + r.get("unnamed", 0) for r in fuzz.values())
    return 1 if bad or any("error" in r for r in fuzz.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
