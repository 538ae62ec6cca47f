"""The kept household counts (``registry.counts``, triggers of migration 0004) equal a GROUP BY over the households
after every way the application writes households: services, composition changes, the importer, the recompute,
the demo generator, the bulk helpers and plain ORM updates and deletes — on SQLite and PostgreSQL alike."""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import NEIGHBOUR_VILLAGE, OTHER_VILLAGE, TOWN, VILLAGE, operator
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone
from registry_factory import make_household, make_id

sys.path.insert(0, str(Path(__file__).parent))
from test_import import household_row, member_row, sample, write_csv_pair  # noqa: E402

from fangfan.policy.services import policy_set
from fangfan.registry import bulkdb, counts, services
from fangfan.registry.importing.households import households_import
from fangfan.registry.models import COUNT_KEYS, Household, HouseholdCount, HouseholdCountDelta
from fangfan.registry.recompute import households_recompute_scope
from fangfan.reports.dashboard import registry_dashboard_context

pytestmark = pytest.mark.django_db
KEY = ["region_code", *COUNT_KEYS]
ILL = {"health": "患有大病"}


def kept() -> dict[tuple, tuple[int, int]]:
    """The counts as kept: count rows plus appended changes, without empty groups."""
    summed: dict[tuple, list[int]] = {}
    for model in (HouseholdCount, HouseholdCountDelta):
        for *key, households, people in model.objects.values_list(*KEY, "households", "people"):
            key[-1] = bool(key[-1])
            entry = summed.setdefault(tuple(key), [0, 0])
            entry[0] += households
            entry[1] += people
    return {k: (h, p) for k, (h, p) in summed.items() if h or p}


def actual() -> dict[tuple, tuple[int, int]]:
    rows = Household.objects.values_list("region_id", *COUNT_KEYS).annotate(n=Count("id"), p=Sum("size"))
    return {(*key[:-1], bool(key[-1])): (n, p or 0) for *key, n, p in rows.order_by()}


def assert_kept():
    assert kept() == actual()
    assert actual(), "the test should have households to count"


@pytest.fixture
def homes(regions):
    ill = [("病人", date(1970, 1, 1), "户主", ILL)]
    return {
        "poor": make_household("C-1", VILLAGE, members=ill, income={"wage_income": Decimal("3000")}),
        "exited": make_household(
            "C-2",
            VILLAGE,
            household_type="exited",
            exited_class="enjoying",
            members=[("甲", date(1970, 1, 1), "户主"), ("乙", date(1972, 1, 1), "配偶")],
        ),
        "other": make_household("C-3", OTHER_VILLAGE),
        "neighbour": make_household(
            "C-4", NEIGHBOUR_VILLAGE, monitoring_type="sudden", monitoring_state="monitoring"
        ),
    }


def test_households_made_through_the_orm_are_counted(homes):
    assert_kept()
    assert kept()[(VILLAGE, "exited", "enjoying", "", "", "enjoying", False)] == (1, 2)


def test_household_update_moves_the_household_between_groups(users, homes):
    services.household_update(
        household=homes["poor"], actor=users["village_clerk"], data={"wage_income": Decimal("90000")}
    )  # the suggestion 边缘易致贫户 goes away
    services.household_update(
        household=homes["other"],
        actor=users["town_station"],
        data={"household_type": "exited", "exit_year": 2020},
    )
    assert_kept()


def test_members_added_and_removed_change_the_people(users, homes):
    clerk = users["village_clerk"]
    member = services.member_add(
        household=homes["exited"],
        actor=clerk,
        data={"name": "丙", "relation": "之子", "id_number": make_id(date(2010, 1, 1))},
        reason="出生",
        on=date.today(),
    )
    assert_kept()
    services.member_remove(member=member, actor=clerk, reason="死亡", on=date.today())
    head = homes["exited"].members.get(is_head=True)
    spouse = homes["exited"].members.get(relation="配偶")
    services.head_change(household=homes["exited"], new_head=spouse, actor=clerk, on=date.today())
    assert head.pk != spouse.pk
    assert_kept()


def test_split_and_merge(users, homes):
    clerk = users["village_clerk"]
    spouse = homes["exited"].members.get(relation="配偶")
    new = services.household_split(
        household=homes["exited"], members=[spouse], new_number="C-2-1", actor=clerk, on=date.today()
    )
    assert_kept()
    services.household_merge(source=new, target=homes["exited"], actor=clerk, on=date.today())
    assert Household.objects.get(pk=new.pk).cancelled
    assert_kept()


def test_import_creates_and_updates(tmp_path, users, regions):
    households, members = sample()
    households_import(path=write_csv_pair(tmp_path / "a", households, members), actor=users["village_clerk"])
    assert_kept()
    households = [
        household_row(households[0]["户编号"], 户类型="一般农户", 脱贫年度="", 脱贫户分类=""),
        households[1],
        household_row("34152310420100003", 户类型="一般农户", 脱贫年度="", 脱贫户分类=""),
    ]
    members = [
        *members,
        member_row("34152310420100003", "赵六", make_id(date(1980, 1, 1))),
    ]
    # 户类型 is official: an existing household's changes only by 与国家系统同步 (issue 19 point 6).
    households_import(
        path=write_csv_pair(tmp_path / "b", households, members),
        actor=users["town_station"],
        sync_national=True,
    )
    assert Household.objects.filter(household_type="exited").count() == 0
    assert_kept()


def test_recompute_after_a_new_monitoring_line(users, homes):
    policy_set(
        actor=users["town_station"],
        key="monitoring_line",
        region_code=TOWN,
        year=date.today().year,
        value="25000",
    )
    assert households_recompute_scope(region_code=TOWN, actor=operator()) > 0
    assert_kept()


def _bulk_rows(n: int) -> tuple[list[str], list[tuple]]:
    """Households as the importer hands them to ``bulkdb.insert_rows``: every column, values as stored."""
    now = timezone.now()
    fields = [f for f in Household._meta.concrete_fields if not f.primary_key]
    rows = []
    for i in range(n):
        household = Household(
            number=f"B-{i}",
            region_id=VILLAGE,
            monitoring_type="marginal" if i % 2 else "",
            monitoring_state="monitoring" if i % 2 else "",
            size=3,
            created_at=now,
            updated_at=now,
        )
        rows.append(tuple(getattr(household, f.attname) for f in fields))
    return [f.attname for f in fields], rows


def test_bulk_helpers_and_plain_orm_writes(homes):
    names, rows = _bulk_rows(250)  # more than 200: PostgreSQL's UPDATE … FROM path of update_rows
    bulkdb.insert_rows(Household, names, rows)
    assert_kept()
    ids = list(Household.objects.filter(number__startswith="B-").values_list("id", flat=True))
    bulkdb.update_rows(Household, ["monitoring_state", "size"], [(pk, "eliminated", 2) for pk in ids])
    assert_kept()
    bulkdb.update_rows(Household, ["suggestion"], [(pk, "sudden_hardship") for pk in ids[:5]])
    assert_kept()
    Household.objects.filter(pk__in=ids[:3]).update(region_id=OTHER_VILLAGE, cancelled=True)
    Household.objects.filter(pk=homes["other"].pk).update(suggestion="marginal")
    assert_kept()
    Household.objects.filter(pk__in=ids).delete()
    assert_kept()


def test_demo_generation(db):
    from fangfan.demo.generator import demo_generate

    demo_generate(households=300, seed=7, actor=operator())
    assert_kept()


def test_dashboard_and_list_total_follow_an_edit_at_once(users, homes):
    from fangfan.registry.filters import household_list
    from fangfan.registry.selectors import household_count

    station = users["town_station"]
    before = registry_dashboard_context(station)
    services.household_update(
        household=homes["other"],
        actor=station,
        data={"household_type": "exited", "exit_year": 2020},
    )
    after = registry_dashboard_context(station)
    totals = dict(
        zip(
            [key for key, _label in before["categories"]],
            [c["n"] for c in after["column_totals"]],
            strict=True,
        )
    )
    assert totals["exited_unclassified"] == 1
    assert after["households"] == before["households"]
    qs, cleaned = household_list(station, {"household_type": "exited"}, for_count=True)
    assert household_count(qs, user=station, params=cleaned) == qs.count() == 2


def test_appended_changes_fold_into_the_counts(homes, monkeypatch, users):
    Household.objects.filter(pk=homes["poor"].pk).update(
        monitoring_type="marginal", monitoring_state="monitoring"
    )
    before = kept()
    counts.fold_counts()
    assert kept() == before == actual()
    if connection.vendor == "postgresql":
        assert not HouseholdCountDelta.objects.exists()
        Household.objects.filter(pk=homes["poor"].pk).update(monitoring_state="eliminated")
        assert HouseholdCountDelta.objects.exists()
        monkeypatch.setattr(counts, "FOLD_AT", 0)
        counts.count_rows(users["county_review"], "household.view")  # a read folds what piled up
        assert not HouseholdCountDelta.objects.exists()
    else:
        assert not HouseholdCountDelta.objects.exists()  # SQLite's triggers add to the counts directly
    assert kept() == actual()


def test_recount_repairs_counts_written_around_the_triggers(homes):
    counts.fold_counts()
    HouseholdCount.objects.filter(region_code=VILLAGE).update(households=99)
    assert kept() != actual()
    counts.recount([VILLAGE])
    assert_kept()
    HouseholdCount.objects.all().delete()
    counts.recount()
    assert_kept()


def test_counts_are_scoped_by_jurisdiction(users, homes):
    village = {r[0] for r in counts.count_rows(users["village_clerk"], "household.view")}
    county = {r[0] for r in counts.count_rows(users["county_review"], "household.view")}
    assert village == {VILLAGE}
    assert county == {VILLAGE, OTHER_VILLAGE, NEIGHBOUR_VILLAGE}
    assert counts.count_rows(users["sys_admin"], "household.view") == []  # no household figures for admins
