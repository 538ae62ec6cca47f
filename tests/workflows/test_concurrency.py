"""Two approvers of the same step at the same moment (separate connections, on PostgreSQL and on an SQLite file):
exactly one wins, the other gets a Conflict (409) — the case row is locked (PostgreSQL) or the writers queue
(SQLite), and the version is re-checked."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from workflows_factory import household, start, walk

from fangfan.core.errors import Conflict
from fangfan.workflows import services
from fangfan.workflows.models import Case, CaseAction


@pytest.mark.usefixtures("audit_triggers_back")
def test_two_town_stations_approve_the_same_step_once(concurrent_db, users, make_user):
    case = walk(start(household(), users), users, to="乡镇审核")
    second = make_user("town_station", users["town_station"].region_id, username="station-2")
    seen = case.version
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def act(user):
        try:
            barrier.wait()
            services.case_act(
                case=Case.objects.get(pk=case.pk), actor=user, action="approve", expected_version=seen
            )
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=act, args=(u,)) for u in (users["town_station"], second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    case.refresh_from_db()
    assert case.current_step.name == "县级审定" and case.version == seen + 1
    assert CaseAction.objects.filter(case=case, step__name="乡镇审核", action="approve").count() == 1
