"""The household list gives the same rows, in the same order, and the same totals whichever way it is written for
the database: for a county sorted by 年人均纯收入 the jurisdiction is written so that SQLite walks the income index
(``filters.household_list``), totals without a search come from the kept counts, and a broad search loads its
total afterwards — for a village, a town, a county and a province user."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from conftest import NEIGHBOUR_VILLAGE, OTHER_VILLAGE, VILLAGE
from django.db import connection
from django.urls import reverse
from registry_factory import make_household

from fangfan.registry import filters
from fangfan.registry.filters import household_filter, household_list, probes
from fangfan.registry.models import Household
from fangfan.registry.selectors import household_count, household_page, list_page, serial_plan

LIST = reverse("registry:household_list")
SORTS = ["per_capita_income", "-per_capita_income", "number", "-number", "size", "-size"]
FILTERS = [
    {},
    {"household_type": "exited"},
    {"exited_class": "enjoying"},
    {"monitoring_type": "marginal"},
    {"monitoring_state": "monitoring"},
    {"suggestion": "marginal"},
    {"suggestion": "none"},
    {"differs": "1"},
    {"cancelled": "1"},
    {"village": OTHER_VILLAGE},
    {"household_type": "general", "monitoring_type": "sudden"},
]
# … and 户编号 digits: a town's code (walked in list order), a village's, the beginning of a few numbers (read by id).
SEARCHES = ["w", "wj", "wjg", "王", "王建", "0011", "341523104", OTHER_VILLAGE, f"{VILLAGE}000"]
ROLES = ["village_clerk", "town_station", "county_review", "province_record"]


@pytest.fixture
def spread(users):
    """Households of all kinds in two towns, with equal incomes (the tie-break), no members (no income) and
    cancelled ones."""
    ill = {"health": "患有大病"}
    made = []
    kinds = [
        {},
        {"household_type": "exited", "exited_class": "enjoying"},
        {"household_type": "exited", "exited_class": "not_enjoying"},
        {"monitoring_type": "marginal", "monitoring_state": "monitoring"},
        {"monitoring_type": "sudden", "monitoring_state": "eliminated"},
        {"household_type": "exited", "exited_class": "monitored", "monitoring_type": "unstable"},
    ]
    names = ["王建国", "王佳", "吴江", "张三", "王建华", "李四"]
    for i in range(24):
        village = [VILLAGE, OTHER_VILLAGE, NEIGHBOUR_VILLAGE][i % 3]
        members = [(names[i % 6], date(1960 + i, 1, 1), "户主", ill if i % 4 == 0 else {})]
        members += [(f"成员{i}", date(1990, 1, 1), "配偶")] * (i % 3)
        made.append(
            make_household(
                f"L-{i:03d}",
                village,
                members=members,
                income={"wage_income": Decimal(3000 + (i % 7) * 2500)},
                cancelled=i % 11 == 5,
                **kinds[i % 6],
            )
        )
    Household.objects.create(number="L-empty", region_id=VILLAGE, household_type="general")  # no members
    gone = make_household(  # a match who has left the household: not found
        "L-gone",
        OTHER_VILLAGE,
        members=[("李五", date(1960, 1, 1), "户主"), ("王建军", date(1990, 1, 1), "之子")],
    )
    gone.members.filter(name="王建军").update(status="removed")
    for k in range(9):  # households numbered the national way (village code and serial)
        village = [VILLAGE, OTHER_VILLAGE, NEIGHBOUR_VILLAGE][k % 3]
        made.append(
            make_household(f"{village}{k:05d}", village, members=[(names[k % 6], date(1970, 1, 1), "户主")])
        )
    return made


def _ids(qs) -> list[int]:
    return list(qs.values_list("pk", flat=True))


@pytest.mark.parametrize("role", ROLES)
def test_same_rows_same_order_same_totals(users, spread, role):
    user = users[role]
    searches = [{"q": q, **f} for q in SEARCHES for f in ({}, {"village": OTHER_VILLAGE}, {"cancelled": "1"})]
    searches += [{"q": q, "household_type": "exited", "sort": "-size"} for q in SEARCHES]
    searches += [{"q": q, "sort": sort} for q in SEARCHES for sort in ("-number", "per_capita_income")]
    for params in [{**f, "sort": s} for f in FILTERS for s in SORTS] + searches:
        qs, cleaned = household_list(user, params)
        reference, _ = household_filter(Household.objects.for_user(user, "household.view"), params)
        assert _ids(qs) == _ids(reference), params
        counted, _ = household_list(user, params, for_count=True)
        assert household_count(counted, user=user, params=cleaned) == reference.count(), params
        # The list's own pages (4 rows each): the same rows, and an exact total unless a broad search leaves it
        # to the second request.
        pages = []
        for n in (1, 2, 3):
            page = list_page(user, qs, cleaned, page=n, per_page=4)
            if page.number != n:  # past the end: the last page again
                break
            pages.append(page)
        assert [r.pk for page in pages for r in page.rows] == _ids(reference)[:12], params
        for page in pages:
            if not page.capped:
                assert page.count == reference.count(), params


def test_households_without_income_come_last_either_way(users, spread):
    for sort in ("per_capita_income", "-per_capita_income"):
        qs, _ = household_list(users["county_review"], {"sort": sort})
        rows = list(qs.values_list("number", "per_capita_income"))
        assert rows[-1] == ("L-empty", None)
        incomes = [income for _number, income in rows[:-1]]
        assert incomes == sorted(incomes, reverse=sort.startswith("-"))


def test_only_a_county_or_more_sorted_by_income_is_steered(users, spread):
    def steered(role, params):
        qs, _ = household_list(users[role], params)
        return '+"registry_household"."region_id"' in str(qs.query)

    if connection.vendor != "sqlite":
        assert not steered(
            "county_review", {"sort": "per_capita_income"}
        )  # PostgreSQL plans this well itself
        return
    assert steered("county_review", {"sort": "per_capita_income"})
    assert steered("county_review", {"sort": "-size"})
    assert steered("province_record", {"sort": "-per_capita_income", "household_type": "exited"})
    assert not steered("county_review", {"sort": "number"})
    assert not steered("town_station", {"sort": "per_capita_income"})
    assert not steered("village_clerk", {"sort": "per_capita_income"})


def test_a_broad_search_loads_its_total_afterwards(client, users, regions):
    for i in range(55):
        make_household(f"S-{i:03d}", VILLAGE, members=[("王建", date(1970, 1, 1), "户主")])
    make_household("S-other", VILLAGE, members=[("李四", date(1970, 1, 1), "户主")])
    station = users["county_review"]  # a county: the broad search probes households in list order
    qs, cleaned = household_list(station, {"q": "wj"})
    page = household_page(qs, page=1)
    assert page.capped and page.count == 51 and page.has_next and len(page.rows) == 50
    last = household_page(qs, page=2)
    assert not last.has_next and len(last.rows) == 5 and last.count == 55 and last.capped

    client.force_login(station)
    searched = client.post(LIST, {"q": "wj"})["Location"]  # the search text stays in the session
    response = client.get(searched)
    assert response.context["page"].capped
    assert "51 户以上" in response.content.decode()
    token = searched.split("s=", 1)[1]
    exact = client.get(reverse("registry:household_count"), {"s": token}, headers={"HX-Request": "true"})
    assert "共 55 户" in exact.content.decode()
    # A narrow search still counts on the page.
    assert not client.get(client.post(LIST, {"q": "wjx"})["Location"]).context["page"].capped


@pytest.mark.django_db
def test_postgresql_has_the_descending_income_index():
    """Migration 0007: PostgreSQL reads a county's list sorted by income descending (NULL last) from an index of
    its own; SQLite has none (it cannot declare NULLS LAST in an index)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "registry_household")
    assert ("hh_income_desc_idx" in constraints) is (connection.vendor == "postgresql")


@pytest.mark.django_db
def test_list_order_indexes():
    """Migration 0009: a monitoring-object type in income order, and 家庭人口 order; on PostgreSQL the type's index
    holds income in the descending list's order (NULL last)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "registry_household")
        assert {"hh_montype_income_idx", "hh_size_cover_idx"} <= set(constraints)
        assert "hh_region_montype_idx" not in constraints
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_indexdef('hh_montype_income_idx'::regclass)")
            assert "per_capita_income DESC NULLS LAST" in cursor.fetchone()[0]


@pytest.mark.django_db
def test_unused_household_indexes_are_gone():
    """Migration 0011: no query reads the head's name or initials on the household, nor matches its village code
    or 户编号 with LIKE (PostgreSQL's ``varchar_pattern_ops`` twins); the region index itself stays."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "registry_household")
    region_only = [n for n, c in constraints.items() if c["index"] and c["columns"] == ["region_id"]]
    assert len(region_only) == 1 and not region_only[0].endswith("_like")
    assert not [n for n in constraints if n.endswith("_like")]
    assert not {"hh_initials_idx", "hh_head_name_idx"} & set(constraints)


@pytest.mark.django_db
def test_serial_plan_is_local_to_its_block():
    def workers():
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_parallel_workers_per_gather")
            return cursor.fetchone()[0]

    if connection.vendor != "postgresql":
        with serial_plan():
            assert Household.objects.count() == 0  # nothing to set on SQLite
        return
    before = workers()
    with serial_plan():
        assert workers() == "0"
    assert workers() == before
    # Inside a caller's transaction (a test, ATOMIC_REQUESTS): set back when the block ends, or rolled back with it.
    from django.db import transaction

    with transaction.atomic():
        with serial_plan():
            assert workers() == "0"
        assert workers() == before
        with pytest.raises(ZeroDivisionError), serial_plan():
            raise ZeroDivisionError
        assert workers() == before


def test_a_towns_broad_search_counts_its_matches_in_the_page(users, regions):
    """A town's (or a village's) list reads its matches from the name index, which holds each member's village:
    the page is counted exactly at once, and only the area's members are looked up."""
    for i in range(55):
        make_household(f"T-{i:03d}", VILLAGE, members=[("王建", date(1970, 1, 1), "户主")])
    make_household("T-far", NEIGHBOUR_VILLAGE, members=[("王建", date(1970, 1, 1), "户主")])
    for user, params in (
        (users["town_station"], {"q": "wj"}),
        (users["county_review"], {"q": "wj", "village": VILLAGE}),
        (users["village_clerk"], {"q": "王"}),
    ):
        assert not probes(user, {"q": params["q"], **({"village": VILLAGE} if "village" in params else {})})
        qs, cleaned = household_list(user, params)
        page = list_page(user, qs, cleaned, page=2)
        assert not page.capped and page.count == 55 and len(page.rows) == 5, user.role
    assert probes(users["county_review"], {"q": "wj"})


@pytest.mark.django_db
def test_member_keys_compare_bytes_on_postgresql():
    """Migration 0012: on PostgreSQL the blind index and the last four characters of the ID number, matched only by
    equality, are in collation "C" (their index builds after a bulk load about twice as fast) and still read from
    their indexes; the columns searched by prefix keep the database's collation (the planner's estimates)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, collation_name FROM information_schema.columns "
            "WHERE table_name = 'registry_member' AND column_name IN "
            "('id_index', 'id_last4', 'name', 'name_initials', 'status', 'household_region')"
        )
        collations = dict(cursor.fetchall())
        assert collations == {
            "id_index": "C",
            "id_last4": "C",
            "name": None,
            "name_initials": None,
            "status": None,
            "household_region": None,
        }
        cursor.execute("SET LOCAL enable_seqscan = off")
        plans = []
        for column in ("id_index", "id_last4"):
            cursor.execute(f"EXPLAIN SELECT household_id FROM registry_member WHERE {column} = %s", ["0123"])
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    assert "member_id_index_unique" in plans[0] and "member_last4_idx" in plans[1]


@pytest.mark.django_db
def test_member_household_index_answers_the_search_probe():
    """Migration 0013: the member index by household holds the initials and the name, so a broad search's probe
    (is there an active member of this household whose initials or name match?) is answered from the index."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "registry_member")
        assert constraints["member_household_idx"]["columns"] == [
            "household_id",
            "status",
            "name_initials",
            "name",
        ]
        if connection.vendor != "postgresql":
            return
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(
            "EXPLAIN SELECT 1 FROM registry_member WHERE household_id = 1 AND status = 'active' "
            "AND name_initials >= %s AND name_initials < %s",
            ["wj", "wj\U0010ffff"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using member_household_idx" in plan


def test_a_few_households_found_by_number_are_sorted_not_walked(users, spread, monkeypatch):
    """A 户编号 search matching a few households reads them from the 户编号 index and sorts them: its ORDER BY is
    written so that no list index can deliver it (PostgreSQL otherwise walked a county's (village, 户编号) index
    testing each household: 87 ms for 700 households, 0.8 ms sorted). A town's code walks the list order."""
    user = users["county_review"]
    few, _ = household_list(user, {"q": VILLAGE})
    sql = str(few.query)
    order = sql[sql.index("ORDER BY") :]
    if connection.vendor == "postgresql":
        assert "|| '')" in order
    else:
        assert order.startswith('ORDER BY +"registry_household"."region_id"')
    assert [h.number for h in few] == sorted(h.number for h in few) and len(few) == 3
    monkeypatch.setattr(filters, "_FEW_NUMBERS", 5)  # the town's six numbers are now many
    walked, _ = household_list(user, {"q": "341523104"})
    order = str(walked.query)[str(walked.query).index("ORDER BY") :]
    assert "||" not in order and "+" not in order
    assert len(walked) == 6
