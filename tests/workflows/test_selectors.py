"""我的待办's reads (selectors.waiting_for, inbox_rows): the cases of the user's steps, ordered by 办结期限, read
without joining every case to its step (benchmarks/chains.py: 10 000 open cases at a county's step)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from workflows_factory import household, start, walk

from fangfan.workflows import selectors
from fangfan.workflows.models import Case
from fangfan.workflows.selectors import inbox_rows, waiting_badge, waiting_count, waiting_for

pytestmark = pytest.mark.django_db


def test_inbox_lists_the_users_cases_by_due_date(users):
    cases = [walk(start(household(household_type="exited"), users), users, to="县级审定") for _ in range(3)]
    Case.objects.filter(pk=cases[2].pk).update(due_on=cases[0].due_on - timedelta(days=2))
    Case.objects.filter(pk=cases[1].pk).update(due_on=cases[0].due_on - timedelta(days=1))
    county = users["county_review"]
    assert [c.pk for c in inbox_rows(county)] == [cases[2].pk, cases[1].pk, cases[0].pk]
    assert [c.pk for c in inbox_rows(county, limit=2)] == [cases[2].pk, cases[1].pk]
    assert waiting_count(county) == 3
    assert inbox_rows(users["town_station"]) == [] and inbox_rows(users["neighbour_station"]) == []
    with CaptureQueriesContext(connection) as seen:
        row = inbox_rows(county)[0]
        shown = (row.household.number, row.household.head_name, row.process.name, row.current_step.name)
    assert len(selectors._my_steps(county, "county")) > 1
    # the ids of every step in one statement, then the rows (the user's steps were read once, above)
    assert all(shown) and len(seen) == 2


def test_inbox_ids_merged_from_each_step_equal_the_plain_order(users):
    """The ids read step by step and merged are the waiting cases in (办结期限, id) order, page by page, whatever
    step each case waits at (cases spread over the reviewer's steps, with equal due dates)."""
    from fangfan.workflows.models import Step

    county = users["county_review"]
    steps = selectors._my_steps(county, "county")
    assert len(steps) > 1
    cases = [walk(start(household(household_type="exited"), users), users, to="县级审定") for _ in range(7)]
    for n, case in enumerate(cases):
        Case.objects.filter(pk=case.pk).update(
            due_on=case.due_on - timedelta(days=n % 3),
            current_step=Step.objects.get(pk=steps[n % len(steps)]),
        )
    plain = list(waiting_for(county).order_by("due_on", "id").values_list("pk", flat=True))
    assert sorted(plain) == sorted(c.pk for c in cases)
    assert selectors._waiting_ids(county, offset=0, limit=500) == plain
    for offset in range(0, 8, 3):
        assert selectors._waiting_ids(county, offset=offset, limit=3) == plain[offset : offset + 3]
    assert selectors._waiting_ids(users["town_station"], offset=0, limit=10) == []


def test_waiting_cases_are_filtered_by_step_ids_not_a_join(users):
    """The county's open cases are counted and ordered from ``case_waiting_idx`` alone: no join to the steps."""
    sql = str(waiting_for(users["county_review"]).order_by("due_on", "id").values("pk").query)
    assert "workflows_step" not in sql and "current_step_id" in sql


def test_inbox_pages_and_badge_equal_the_whole_list_and_its_count(client, users, monkeypatch):
    """我的待办 in pages (``offset``/``limit``, the page's next link) lists exactly the whole list in the same order;
    the navigation's badge is the exact count below the cap, "99+"-style at it."""
    from django.urls import reverse

    cases = [walk(start(household(household_type="exited"), users), users, to="县级审定") for _ in range(5)]
    for n, case in enumerate(cases):
        Case.objects.filter(pk=case.pk).update(due_on=case.due_on - timedelta(days=n % 3))
    county = users["county_review"]
    whole = [c.pk for c in inbox_rows(county)]
    assert sorted(whole) == sorted(c.pk for c in cases)
    paged = [c.pk for offset in range(0, 6, 2) for c in inbox_rows(county, limit=2, offset=offset)]
    assert paged == whole
    assert waiting_badge(county) == waiting_count(county) == 5
    monkeypatch.setattr(selectors, "BADGE_CAP", 5)
    assert waiting_badge(county) == "4+"
    monkeypatch.setattr(selectors, "BADGE_CAP", 6)
    assert waiting_badge(county) == 5

    from fangfan.workflows import views

    monkeypatch.setattr(views, "INBOX_PAGE_SIZES", (2, 500))
    client.force_login(county)
    shown = []
    for number in (1, 2, 3):
        page = client.get(reverse("workflows:inbox"), {"page": number}).content.decode()
        shown += [pk for pk in whole if f'name="ids" value="{pk}"' in page]
        assert ('data-testid="inbox-next"' in page) == (number < 3)
    assert sorted(shown) == sorted(whole) and len(shown) == 5
