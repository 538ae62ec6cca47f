"""Monthly history (issue 18 item 7): ``history_snapshot`` / ``fangfan snapshot`` keep every household's figures per
month, idempotently; a past month is only filled where nothing is kept; the household page draws the months."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from conftest import NEIGHBOUR_VILLAGE, OTHER_VILLAGE, TOWN, VILLAGE, operator
from django.core.management import CommandError, call_command
from registry_factory import make_household

from fangfan.core.errors import DomainError
from fangfan.core.models import AuditEvent
from fangfan.registry.history import history_snapshot, income_months, month_parse
from fangfan.registry.models import Household, HouseholdMonth

TODAY = date(2026, 12, 7)
THIS_MONTH = date(2026, 12, 1)


@pytest.fixture
def three(regions):
    return [
        make_household("H1", VILLAGE, income={"wage_income": Decimal("12000")}),
        make_household("H2", OTHER_VILLAGE, household_type="exited", exit_year=2019, exited_class="enjoying"),
        make_household("H3", NEIGHBOUR_VILLAGE),
    ]


def test_本月记录每户一条_重复运行不再写入(three):
    first = history_snapshot(actor=operator(), today=TODAY)
    assert (first.month, first.households, first.written, first.backfilled) == (THIS_MONTH, 3, 3, False)
    row = HouseholdMonth.objects.get(household=three[0], month=THIS_MONTH)
    assert row.region_code == VILLAGE
    assert row.wage_income == Decimal("12000") and row.per_capita_income == three[0].per_capita_income
    assert HouseholdMonth.objects.get(household=three[1]).exited_class == "enjoying"

    again = history_snapshot(actor=operator(), today=TODAY)
    assert again.written == 0
    assert HouseholdMonth.objects.count() == 3


def test_本月内信息变化_再次记录只更新变化的户(three):
    history_snapshot(actor=operator(), today=TODAY)
    Household.objects.filter(pk=three[0].pk).update(
        wage_income=Decimal("3000"), per_capita_income=Decimal("3000")
    )
    result = history_snapshot(actor=operator(), today=TODAY)
    assert result.written == 1
    row = HouseholdMonth.objects.get(household=three[0], month=THIS_MONTH)
    assert row.wage_income == Decimal("3000") and row.per_capita_income == Decimal("3000")


def test_本月再次记录_变化的户更新_新户补记_其余不动_与逐户比对一致(three):
    """The current month's run (changed rows updated, then missing rows inserted) leaves each household's row equal
    to its figures now, counts exactly the rows it wrote, and leaves the unchanged rows as they were."""
    history_snapshot(actor=operator(), today=TODAY)
    before = {r.household_id: r.taken_at for r in HouseholdMonth.objects.all()}
    Household.objects.filter(pk=three[0].pk).update(region_id=OTHER_VILLAGE)  # moved village
    Household.objects.filter(pk=three[1].pk).update(size=5, exited_class="monitored")
    Household.objects.filter(pk=three[2].pk).update(education_secure=None)  # a NULL compares as a value
    new = make_household("H4", VILLAGE)
    cancelled = make_household("H5", VILLAGE)
    Household.objects.filter(pk=cancelled.pk).update(cancelled=True)

    result = history_snapshot(actor=operator(), today=TODAY)

    from fangfan.registry.history import MONTH_COLUMNS

    changed = {three[0].pk, three[1].pk, new.pk}
    changed |= {three[2].pk} if three[2].education_secure is not None else set()
    assert result.written == len(changed)
    for household in Household.objects.filter(cancelled=False):
        row = HouseholdMonth.objects.get(household=household, month=THIS_MONTH)
        assert row.region_code == household.region_id
        assert {c: getattr(row, c) for c in MONTH_COLUMNS} == {
            c: getattr(household, c) for c in MONTH_COLUMNS
        }
        if household.pk not in changed:
            assert row.taken_at == before[household.pk]
    assert not HouseholdMonth.objects.filter(household=cancelled).exists()


def test_过去的月份只补记没有记录的户_已有记录不改写(three):
    past = date(2026, 10, 1)
    HouseholdMonth.objects.create(
        household=three[0], month=past, region_code=VILLAGE, household_type="general", size=1,
        net_income=Decimal("9000"), per_capita_income=Decimal("9000"), taken_at="2026-10-31T12:00:00+08:00",
    )  # fmt: skip
    result = history_snapshot(actor=operator(), month=past, today=TODAY)
    assert result.backfilled and result.written == 2
    kept = HouseholdMonth.objects.get(household=three[0], month=past)
    assert kept.per_capita_income == Decimal("9000") and not kept.backfilled
    assert HouseholdMonth.objects.get(household=three[1], month=past).backfilled


def test_未来的月份不能记录(three):
    with pytest.raises(DomainError, match="还没有到"):
        history_snapshot(actor=operator(), month=date(2027, 1, 1), today=TODAY)
    assert not HouseholdMonth.objects.exists()


def test_按区划记录_注销户不记录(three):
    Household.objects.filter(pk=three[1].pk).update(cancelled=True)
    result = history_snapshot(actor=operator(), region_code=TOWN, today=TODAY)
    assert result.households == 1
    assert list(HouseholdMonth.objects.values_list("household__number", flat=True)) == ["H1"]


def test_每次记录写一条审计事件(three):
    before = AuditEvent.objects.filter(action="history.snapshot").count()
    history_snapshot(actor=operator(), today=TODAY)
    event = AuditEvent.objects.filter(action="history.snapshot").latest("id")
    assert AuditEvent.objects.filter(action="history.snapshot").count() == before + 1
    assert event.after["households"] == 3 and event.object_id == "2026-12"


@pytest.mark.parametrize("raw", ["2026-13", "abc", "202", "1999-01"])
def test_月份格式错误给出中文提示(raw):
    with pytest.raises(DomainError, match="月份"):
        month_parse(raw, today=TODAY)


def test_月份接受两种写法():
    assert month_parse("2026-11", today=TODAY) == date(2026, 11, 1)
    assert month_parse("202611", today=TODAY) == date(2026, 11, 1)
    assert month_parse("", today=TODAY) == THIS_MONTH


def test_命令_snapshot_重复运行不重复记录(three, capsys):
    call_command("snapshot")
    call_command("snapshot")
    out = capsys.readouterr().out.splitlines()
    assert "农户 3 户，本次写入 3 条" in out[0]
    assert "本次写入 0 条" in out[1]
    assert HouseholdMonth.objects.count() == 3


def test_命令_snapshot_月份错误不写入(three):
    with pytest.raises(CommandError, match="格式不对"):
        call_command("snapshot", "--month", "2026/1x")
    with pytest.raises(CommandError, match="不存在"):
        call_command("snapshot", "--region", "341523999000")
    assert not HouseholdMonth.objects.exists()


def test_命令_screen_筛查后记录本月(three, capsys):
    call_command("screen")
    assert "月度记录：农户 3 户" in capsys.readouterr().out
    assert HouseholdMonth.objects.count() == 3


def test_收入按月_最早的在前(three):
    for month, income in (
        (date(2026, 9, 1), "8000"),
        (date(2026, 11, 1), "9000"),
        (date(2026, 10, 1), "7000"),
    ):
        HouseholdMonth.objects.create(
            household=three[0], month=month, region_code=VILLAGE, household_type="general", size=1,
            net_income=Decimal(income), per_capita_income=Decimal(income), taken_at="2026-11-30T12:00:00+08:00",
        )  # fmt: skip
    rows = income_months(three[0], months=2)
    assert [(r.month.month, r.per_capita_income) for r in rows] == [
        (10, Decimal("7000")),
        (11, Decimal("9000")),
    ]


def test_农户页面画出按月收入(client, users, three):
    HouseholdMonth.objects.create(
        household=three[0], month=date(2026, 11, 1), region_code=VILLAGE, household_type="general", size=1,
        net_income=Decimal("9000"), per_capita_income=Decimal("9000"), taken_at="2026-11-30T12:00:00+08:00",
    )  # fmt: skip
    client.force_login(users["village_clerk"])
    page = client.get(f"/households/{three[0].pk}/").content.decode()
    assert 'id="income-chart"' in page
    assert '"2026-11"' in page and "9000" in page
