"""The main pages' exact query counts (issue 17): a page that starts reading per row, or gains a query, fails here
and says by how much. Counted on the second request of a signed-in user (the first warms the session and the
per-process caches, which earlier tests may or may not have warmed), over a small village with a bit of every
kind of work: monitored and exited households, a warning in its verification task, a risk point, a measure, a
contact, a case. A changed count is fine when the change is meant: write the new figure and why. (−3 on every
page: the session's last-seen time is written at most once a minute, no longer on every request; the county user
reads its second-factor device, +1. The inbox reads its page's ids one statement per step (each from its own index)
and merges them, +7; the 措施落实 list reads its page's ids, then those rows, +1: issues 18/19's page targets.
Then: the inbox reads every step's ids in one ``UNION ALL`` statement, its steps once per request and takes the
badge from what it read, −9; the three doubts are counted in one statement, −2 on the start page; the 措施落实
list reads its total with its page's ids and leaves the doubts to a request of their own, −4; the signed-in user
is read with its region (the page header names it), −1 on every page; a fragment htmx loads renders no menu; the
监测对象台账 reads each head's masked ID number with the household's row, −1, and the catalogue's names once
instead of joining each measure to them, +1; the menu's 我的待办 badge reads the user's steps as a subquery of its
count, −1 for those who have the entry.)
Measured the same on SQLite and PostgreSQL (a broad search, which PostgreSQL plans without parallel workers, is not
among these pages)."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from factories import bundled_warning, case, household, measure, monitored, risk_point

from fangfan.assistance.contacts import contact_record
from fangfan.registry.services import helpers_assign

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(users):
    """A village of 东风村 with work of every kind (see the module's docstring); returns a household to open."""
    station, clerk = users["town_station"], users["village_clerk"]
    home = monitored(members=[("李四", date(1975, 3, 1), "户主"), ("李小", date(2010, 6, 1), "子")])
    exited = household(household_type="exited", exit_year=2019, exited_class="enjoying")
    household()
    bundled_warning(home)
    rp = risk_point(home, station)
    measure(home, station, risk_point=rp)
    helpers_assign(households=[home, exited], helper=users["helper"], actor=clerk, on=date.today())
    contact_record(household=home, actor=users["helper"], on=date.today(), way="phone", living="生活正常")
    case(household(), users)
    return home


# role → exact queries of the start page (home), second request; the same on SQLite and PostgreSQL.
HOME = {
    "village_clerk": 20,
    "helper": 21,
    "town_station": 26,
    "town_leader": 23,
    "county_review": 23,
    "department": 14,
}


@pytest.mark.parametrize("role", sorted(HOME))
def test_start_page(client, users, world, role, django_assert_num_queries):
    client.force_login(users[role])
    assert client.get(reverse("home")).status_code == 200
    with django_assert_num_queries(HOME[role]):
        assert client.get(reverse("home")).status_code == 200


def _detail(home) -> str:
    return reverse("registry:household_detail", args=[home.pk])


# page → (role, address(world's household), exact queries), the same on SQLite and PostgreSQL.
PAGES = {
    "household_list": ("village_clerk", lambda home: reverse("registry:household_list"), 5),
    "household_detail": ("village_clerk", _detail, 25),
    "case_inbox": ("village_clerk", lambda home: reverse("workflows:inbox"), 5),
    "task_inbox": ("village_clerk", lambda home: reverse("monitoring:task_list"), 8),
    "measure_list": ("town_station", lambda home: reverse("assistance:measure_list"), 6),
    "measure_doubts": ("town_station", lambda home: reverse("assistance:measure_doubts"), 3),
    "ledger_monitored": ("town_station", lambda home: reverse("reports:ledger", args=["monitored"]), 13),
    "contact_ledger": ("town_station", lambda home: reverse("contacts:contact_ledger"), 6),
}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_main_page(client, users, world, page, django_assert_num_queries):
    role, url, queries = PAGES[page]
    client.force_login(users[role])
    address = url(world)
    assert client.get(address).status_code == 200
    with django_assert_num_queries(queries):
        assert client.get(address).status_code == 200
