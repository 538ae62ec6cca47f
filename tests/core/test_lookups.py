"""``__in_ids`` (one array parameter instead of a placeholder per id) and the statements that run several scoped
querysets at once (``counts_together``, ``rows_together``): the same rows as the plain ORM, on both databases, and
the scope guard still checks each queryset."""

from __future__ import annotations

import pytest
from conftest import NEIGHBOUR_VILLAGE, VILLAGE
from django.db import connection
from django.test.utils import CaptureQueriesContext
from factories import household

from fangfan.core import scoping
from fangfan.core.lookups import Ids
from fangfan.core.scoping import ScopeError, counts_together, rows_together
from fangfan.registry.models import Household, Member

pytestmark = pytest.mark.django_db


@pytest.fixture
def homes(regions):
    return [household() for _ in range(4)] + [household(NEIGHBOUR_VILLAGE)]


def test_in_ids_matches_what_in_matches(homes):
    ids = [homes[0].pk, homes[2].pk, homes[4].pk, 10**9]
    plain = set(Member.objects.unscoped().filter(household_id__in=ids).values_list("pk", flat=True))
    assert plain
    for given in (ids, Ids(ids), tuple(ids), [str(i) for i in ids]):
        found = set(Member.objects.unscoped().filter(household_id__in_ids=given).values_list("pk", flat=True))
        assert found == plain
    assert set(Household.objects.unscoped().filter(pk__in_ids=Ids(ids)).values_list("pk", flat=True)) == {
        homes[0].pk,
        homes[2].pk,
        homes[4].pk,
    }


def test_in_ids_is_one_parameter_and_takes_numbers_only(homes):
    ids = [h.pk for h in homes]
    with CaptureQueriesContext(connection) as seen:
        list(Member.objects.unscoped().filter(household_id__in_ids=Ids(ids)))
    assert len(seen) == 1 and str(ids[0]) in seen[0]["sql"]
    assert list(Member.objects.unscoped().filter(household_id__in_ids=[])) == []
    with pytest.raises(ValueError):
        Ids(["1); DROP TABLE registry_household; --"])


def test_counts_together_equal_each_count_in_one_statement(users, homes):
    clerk = users["village_clerk"]
    mine = Household.objects.for_user(clerk, "household.view")
    wanted = {
        "all": mine,
        "first_two": mine.filter(pk__in=[homes[0].pk, homes[1].pk]),
        "none": mine.none(),
        "empty_in": mine.filter(pk__in=[]),
    }
    with CaptureQueriesContext(connection) as seen:
        counts = counts_together(wanted)
    assert counts == {"all": 4, "first_two": 2, "none": 0, "empty_in": 0}
    assert len(seen) == 1
    assert all(h.region_id == VILLAGE for h in mine)


def test_rows_together_keep_each_branchs_order_and_limit(users, homes):
    clerk = users["village_clerk"]
    mine = Household.objects.for_user(clerk, "household.view")
    branches = [
        mine.order_by("-id").values_list("id", "number")[:2],
        mine.order_by("id").values_list("id", "number")[:1],
    ]
    rows = rows_together(branches)
    ids = sorted(h.pk for h in homes[:4])
    assert [r[0] for r in rows] == [ids[-1], ids[-2], ids[0]]


def test_both_run_the_scope_guard_on_each_queryset(regions, homes):
    previous = scoping._exempt_caller
    scoping.set_exempt_caller(None)  # as the application reads (test code is exempt otherwise)
    try:
        with pytest.raises(ScopeError):
            counts_together({"all": Household.objects.all()})
        with pytest.raises(ScopeError):
            rows_together([Household.objects.values_list("id")[:1]])
        assert counts_together({"all": Household.objects.unscoped()}) == {"all": 5}
    finally:
        scoping.set_exempt_caller(previous)
