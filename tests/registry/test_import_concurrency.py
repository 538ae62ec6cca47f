"""The same household workbook imported twice at the same moment (two clerks, separate connections, on
PostgreSQL and on an SQLite file): one import creates the households, the other gets a clear answer — it either
finds them already there and changes nothing, or is refused in Chinese — and nothing is written twice."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from registry.test_import import H1, sample, write_xlsx

from fangfan.core.errors import DomainError
from fangfan.registry.importing.households import households_import
from fangfan.registry.models import Household, Member

pytestmark = pytest.mark.usefixtures("audit_triggers_back")


def test_the_same_workbook_imported_twice_at_once_is_written_once(concurrent_db, users, tmp_path):
    households, members = sample()
    book = write_xlsx(tmp_path / "户信息导入模板.xlsx", households, members)
    clerk = users["village_clerk"]
    barrier = threading.Barrier(2, timeout=30)
    answers: list[object] = []

    def run():
        try:
            barrier.wait()
            answers.append(households_import(path=book, actor=clerk))
        except DomainError as exc:
            answers.append(exc)
        except Exception as exc:  # noqa: BLE001 - an uncaught error is what the test must not see
            answers.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == 2
    assert not [a for a in answers if isinstance(a, Exception) and not isinstance(a, DomainError)], answers
    summaries = [a for a in answers if not isinstance(a, Exception)]
    assert sum(s.households_created for s in summaries) == 2  # the two households of the file, once
    for refused in [a for a in answers if isinstance(a, DomainError)]:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.message)
    assert Household.objects.filter(number=H1).count() == 1
    assert Member.objects.count() == 4
