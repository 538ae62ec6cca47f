"""Issue 21.2, bad files never hurt: each importer, through its command, fed generated broken files (see
``import_fuzz``) — no traceback, nothing half written when a file is refused, every refusal in Chinese naming the
file (and, for a cell at fault, its row and column). ``benchmarks/fuzz_imports.py`` runs the same cases by the
ten thousand."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from import_fuzz import IMPORTERS, cases, run_case, seed

pytestmark = pytest.mark.usefixtures("audit_triggers_back")

EXAMPLES = 60  # per importer: a few hundred in all on each database


@pytest.fixture
def seeded(committed_db):
    seed()


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
