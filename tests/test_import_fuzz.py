"""Issue 21.2, bad files never hurt: each importer, through its command, fed generated broken files (see
``import_fuzz``) — no traceback, nothing half written when a file is refused, every refusal in Chinese naming the
file (and, for a cell at fault, its row and column). ``benchmarks/fuzz_imports.py`` runs the same cases by the
ten thousand."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from import_fuzz import IMPORTERS, cases, run_case, seed

EXAMPLES = 60  # per importer: a few hundred in all on each database


@pytest.fixture
def seeded(committed_db):
    seed()


@pytest.mark.usefixtures("audit_triggers_back")
@pytest.mark.parametrize("importer", IMPORTERS)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_a_broken_file_is_refused_in_chinese_or_imported_whole(seeded, importer, data):
    case = data.draw(cases(importer), label="case")
    outcome = run_case(case)
    assert outcome.kind in ("accepted", "refused"), f"{outcome.kind}: {outcome.message}\n{outcome.detail}"


# --- memory: a zip bomb and a large CSV (the benchmark does 1 000 000 rows through the whole importer) -------------

PROBE = """
import json, os, resource, sys
sys.path.insert(0, {src!r})
os.environ["DJANGO_SETTINGS_MODULE"] = "fangfan.settings"
import django
django.setup()
from pathlib import Path
from fangfan.core.errors import ValidationFailed
from fangfan.registry.importing.read import read_sources
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    read_sources(Path(sys.argv[1]), Path(sys.argv[1]).name)
    outcome = "read"
except ValidationFailed as exc:
    outcome = exc.message
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024
print(json.dumps({{"outcome": outcome, "grown_mb": grown}}, ensure_ascii=False))
"""
BOUND_MB = 300  # the reader's growth over a fresh process's; the benchmark states the whole importer's


def _streamed_sheet(path, rows):
    from xlsx_craft import streamed_sheet

    return streamed_sheet(path, rows)


def _probe(path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {k: v for k, v in os.environ.items() if k != "FANGFAN_TESTING"}
    env["FANGFAN_DATA_DIR"] = str(path.parent)
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(src=src), str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _head(r=1):
    return f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>户编号</t></is></c><c r="B{r}" t="inlineStr"><is><t>证件号码</t></is></c></row>'


def test_a_zip_bomb_of_blank_space_is_refused_within_bounded_memory(tmp_path):
    """600 MB of XML in a file of about 600 KB (≈ 1000 : 1)."""
    path = _streamed_sheet(tmp_path / "农户信息.xlsx", [_head(), *(" " * 1_048_576 for _ in range(600))])
    assert path.stat().st_size < 2_000_000
    result = _probe(path)
    assert result["outcome"] != "read"  # refused (in Chinese) before calamine holds it
    assert result["grown_mb"] < BOUND_MB, result


def test_a_dense_zip_bomb_is_read_within_bounded_memory(tmp_path):
    """300 000 rows of identical cells: about 40 MB of XML in a file of about 1 MB."""
    rows = (
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>1</t></is></c><c r="B{r}" t="inlineStr"><is><t>2</t></is></c></row>'
        for r in range(2, 300_002)
    )
    path = _streamed_sheet(tmp_path / "农户信息.xlsx", itertools.chain([_head()], rows))
    result = _probe(path)
    assert result["grown_mb"] < BOUND_MB, result


def test_a_large_csv_is_read_within_bounded_memory(tmp_path):
    """A 成员信息.csv of 300 000 rows (≈ 60 MB)."""
    from import_fuzz import M_HEADERS, _member

    folder = tmp_path / "农户信息"
    folder.mkdir()
    row = ",".join(
        str(_member("34152310420190001", "张三", "341523197001018118", "户主").get(h, "")) for h in M_HEADERS
    )
    with (folder / "成员信息.csv").open("w", encoding="utf-8") as out:
        out.write(",".join(M_HEADERS) + "\n")
        for _ in range(300_000):
            out.write(row + "\n")
    result = _probe(folder)
    assert result["grown_mb"] < BOUND_MB, result
