"""Every ledger's rows equal the records it summarises, built here independently (plain ORM reads and Python), for
a village, a town and a county; the .xlsx prints as DATA-FORMATS §5 asks; the command writes them."""

from __future__ import annotations

import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import COUNTY, OTHER_VILLAGE, TOWN, VILLAGE
from django.core.management import call_command
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from ledger_factory import build

from fangfan.assistance.models import Measure
from fangfan.core.errors import DomainError
from fangfan.monitoring.choices import RiskType
from fangfan.monitoring.models import RiskPoint
from fangfan.regions.codes import code_range
from fangfan.registry.models import Household
from fangfan.reports.ledgers import LEDGERS, ledger_get, ledgers_for
from fangfan.reports.ledgers.base import scope_build
from fangfan.reports.ledgers.writer import ledger_write

pytestmark = pytest.mark.django_db
RISKS = dict(RiskType.choices)


@pytest.fixture
def world(users):
    return build(users)


def _inside(code: str, place: str) -> bool:
    lo, hi = code_range(place)
    return lo <= code < hi


def _rows(code: str, user, **scope):
    ledger = ledger_get(code)
    return list(ledger.rows(scope_build(user, **scope)))


def _households(place: str):
    return [h for h in Household.objects.all() if _inside(h.region_id, place) and not h.cancelled]


def _at_risk(h) -> bool:
    return bool(h.monitoring_type) and h.monitoring_state != "eliminated"


def _helper(h) -> str:
    current = [a for a in h.helper_assignments.all() if a.ended_on is None]
    return current[0].helper.full_name if current else ""


@pytest.mark.parametrize(
    ("who", "place"), [("village_clerk", VILLAGE), ("town_station", TOWN), ("county_review", COUNTY)]
)
def test_monitored_ledger_equals_the_monitored_households(world, users, who, place):
    rows = _rows("monitored", users[who])
    expected = [h for h in _households(place) if h.monitoring_type]
    assert sorted(r[2] for r in rows) == sorted(h.number for h in expected)
    # risk not eliminated first
    flags = [_at_risk(Household.objects.get(number=r[2])) for r in rows]
    assert flags == sorted(flags, reverse=True)
    by_number = {r[2]: r for r in rows}
    for h in expected:
        row = by_number[h.number]
        head = h.members.get(is_head=True)
        assert row[3] == h.head_name
        assert row[4] == head.id_masked and "*" in row[4]
        assert row[5] == h.size
        assert row[6] == h.get_monitoring_type_display()
        risks = [RISKS[r.risk_type] for r in h.risk_points.order_by("found_on")]
        assert row[8] == "、".join(dict.fromkeys(risks))
        measures = [m.measure_type.name for m in h.measures.order_by("planned_on", "id")]
        assert row[10] == "、".join(dict.fromkeys(measures))
        assert row[11] == _helper(h)
        assert row[12] == h.get_monitoring_state_display()
        assert row[13].replace("-", "") == h.eliminated_month
    assert world["cancelled"].number not in by_number


@pytest.mark.parametrize("code", ["monitored", "edge", "exited", "contacts"])
def test_pages_read_in_parts_keep_the_ledger_order(world, users, code):
    """The ledgers whose first rows come first read them and the rest as two index-ordered parts: every page, also
    one across the boundary between the parts, equals the slice of the whole list, and the whole list is in the
    order of one sort (first ones first, then village and 户编号) with the same rows."""
    ledger = ledger_get(code)
    scope = scope_build(users["county_review"])
    at = ledger.columns.index("户编号") - 1  # the rows come without 序号
    whole = [r[at] for r in ledger.rows(scope)]
    first = {"monitored": _at_risk, "edge": _at_risk}.get(
        code, lambda h: h.exited_class == "monitored" or _at_risk(h)
    )
    by_number = {h.number: h for h in _households(COUNTY)}
    ordered = sorted(whole, key=lambda n: (not first(by_number[n]), by_number[n].region_id, n))
    assert whole == ordered and len(whole) == ledger.count(scope) > 3
    assert any(first(by_number[n]) for n in whole) and not all(first(by_number[n]) for n in whole)
    for size in (1, 2, 3):
        paged = []
        for offset in range(0, len(whole) + size, size):
            paged += [r[at] for r in ledger.rows(scope, offset=offset, limit=size)]
        assert paged == whole


def test_a_town_page_reads_index_ordered_parts_not_a_case_sort(world, users):
    """A town's page of the 监测对象台账 and its count: two parts in (village, 户编号) order with the filter of the
    partial index ``hh_monitored_idx`` (benchmark: SQLite reads the page's rows from it and counts from it alone);
    one query sorted by a CASE read and sorted every household of the town (57 ms)."""
    index = next(i for i in Household._meta.indexes if i.name == "hh_monitored_idx")
    ledger = ledger_get("monitored")
    scope = scope_build(users["town_station"])
    with CaptureQueriesContext(connection) as queries:
        list(ledger.rows(scope, offset=0, limit=50))
        ledger.count(scope)
    reads = [q["sql"] for q in queries if 'FROM "registry_household"' in q["sql"]]
    assert len(reads) == 4  # the two parts' pages and counts
    for sql in reads:
        assert "CASE" not in sql and 'NOT ("registry_household"."monitoring_type" = \'\')' in sql
        assert '"registry_household"."cancelled"' in sql
    assert all(" ORDER BY " in sql and " LIMIT " in sql for sql in reads[:2])
    assert index.condition == Q(cancelled=False) & ~Q(monitoring_type="")


def test_monitored_ledger_whole_ids_only_when_asked_and_allowed(world, users):
    rows = _rows("monitored", users["town_station"], reveal_ids=True)
    heads = {h.number: h.members.get(is_head=True).id_number for h in _households(TOWN)}
    assert all(r[4] == heads[r[2]] for r in rows)
    ledger = ledger_get("monitored")
    scope = scope_build(users["town_leader"], reveal_ids=True)  # no household.view_id
    with pytest.raises(DomainError):
        ledger_write(ledger, scope, Path("/dev/null"))


def test_a_month_lists_the_households_identified_by_then(world, users):
    from django.utils import timezone

    last = timezone.localdate().replace(day=1) - __import__("datetime").timedelta(days=1)
    rows = _rows("monitored", users["town_station"], month=f"{last:%Y-%m}")
    expected = [h for h in _households(TOWN) if h.monitoring_type and h.identified_month <= f"{last:%Y%m}"]
    assert sorted(r[2] for r in rows) == sorted(h.number for h in expected)
    assert len(expected) < len([h for h in _households(TOWN) if h.monitoring_type])


def test_edge_ledger(world, users):
    rows = _rows("edge", users["town_station"], village=OTHER_VILLAGE, region=TOWN)
    expected = [h for h in _households(OTHER_VILLAGE) if h.monitoring_type == "marginal"]
    assert sorted(r[2] for r in rows) == sorted(h.number for h in expected)
    for row in rows:
        h = Household.objects.get(number=row[2])
        assert row[1] == "新河村" and row[4] == h.size and row[10] == h.get_monitoring_state_display()


def test_exited_ledger_puts_monitored_first(world, users):
    rows = _rows("exited", users["county_review"])
    expected = [h for h in _households(COUNTY) if h.household_type == "exited"]
    assert sorted(r[2] for r in rows) == sorted(h.number for h in expected)
    firsts = [
        (h.exited_class == "monitored" or _at_risk(h))
        for h in (Household.objects.get(number=r[2]) for r in rows)
    ]
    assert firsts == sorted(firsts, reverse=True) and any(firsts) and not all(firsts)
    for row in rows:
        h = Household.objects.get(number=row[2])
        assert row[7] == (h.get_exited_class_display() or "未分类")
        assert row[10] == _helper(h)


def test_risks_ledger(world, users):
    rows = _rows("risks", users["town_station"])
    expected = [r for r in RiskPoint.objects.all() if _inside(r.region_code, TOWN)]
    assert len(rows) == len(expected) > 0
    assert sorted((r[1], r[5]) for r in rows) == sorted(
        (r.household.number, r.found_on.isoformat()) for r in expected
    )
    for row in rows:
        point = next(r for r in expected if r.household.number == row[1])
        assert row[7] == "、".join(m.measure_type.name for m in Measure.objects.filter(risk=point))
        assert row[8] == point.get_state_display()


def test_measures_ledger_is_the_assistance_export(world, users):
    rows = _rows("measures", users["village_clerk"])
    expected = [m for m in Measure.objects.all() if _inside(m.region_code, VILLAGE)]
    assert len(rows) == len(expected) > 0
    assert sorted((r[1], r[4], r[12]) for r in rows) == sorted(
        (m.household.number, m.measure_type.name, m.get_state_display()) for m in expected
    )


def test_contacts_ledger(world, users):
    from django.utils import timezone

    month = f"{timezone.localdate():%Y-%m}"
    rows = _rows("contacts", users["town_station"], month=month)
    expected = [h for h in _households(TOWN) if h.household_type == "exited" or _at_risk(h)]
    assert sorted(r[1] for r in rows) == sorted(h.number for h in expected)
    for row in rows:
        h = Household.objects.get(number=row[1])
        contacts = list(h.contacts.filter(contacted_on__gte=timezone.localdate().replace(day=1)))
        assert row[4] == len(contacts)
        assert row[3] == (_helper(h) or "未落实")
        assert row[7] == ("生活正常" if contacts else "")


def test_ledgers_read_in_a_few_queries_not_one_per_household(world, users):
    scope = scope_build(users["county_review"])
    for code in ("monitored", "exited", "contacts", "risks", "measures"):
        with CaptureQueriesContext(connection) as queries:
            rows = list(LEDGERS[code].rows(scope))
        assert rows and len(queries) <= 8, (code, len(queries))


def test_out_of_jurisdiction_region_is_refused(users):
    with pytest.raises(DomainError):
        scope_build(users["village_clerk"], region=TOWN)


def test_the_funds_ledger_lists_the_funds_entries_of_the_month(users):
    """资金台账 through the ledger framework: the entries of the town's funds in the month, in §5's columns."""
    from fangfan.assistance import funds

    station = users["town_station"]
    fund = funds.fund_create(actor=station, name="镇慈善关爱基金", kind="charity", region_code=TOWN)
    today = timezone.localdate()
    funds.fund_receive(
        actor=station, fund=fund, amount="5000", day=today, voucher="收-001", source="爱心企业"
    )
    assert ledger_get("funds") is not None and ledger_get("consumption") is not None
    assert {lg.code for lg in ledgers_for(station)} >= {
        "monitored",
        "contacts",
        "measures",
        "funds",
        "consumption",
    }
    rows = list(LEDGERS["funds"].rows(scope_build(station, month=f"{today:%Y-%m}")))
    assert [(r[0], r[1], r[3], r[5]) for r in rows] == [
        (today.isoformat(), "收-001", Decimal("5000.00"), Decimal("5000.00"))
    ]
    assert list(LEDGERS["funds"].rows(scope_build(users["neighbour_station"], month=f"{today:%Y-%m}"))) == []


def _xlsx_xml(path: Path) -> tuple[str, str]:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/workbook.xml").decode(), z.read("xl/worksheets/sheet1.xml").decode()


def test_the_xlsx_prints_on_a4_landscape(world, users, tmp_path):
    path = tmp_path / "monitored.xlsx"
    ledger = ledger_get("monitored")
    count = ledger_write(ledger, scope_build(users["town_station"]), path)
    assert count == len(_rows("monitored", users["town_station"]))
    workbook, sheet = _xlsx_xml(path)
    setup = re.search(r"<pageSetup [^>]*>", sheet).group(0)
    assert 'paperSize="9"' in setup and 'orientation="landscape"' in setup
    # one page wide: fitToWidth's default is 1 (ECMA-376), which xlsxwriter, like Excel, leaves unwritten
    assert re.search(r'fitToWidth="(\d+)"', setup) is None or 'fitToWidth="1"' in setup
    assert 'fitToHeight="0"' in setup and '<pageSetUpPr fitToPage="1"/>' in sheet
    assert re.search(r'<definedName name="_xlnm.Print_Titles"[^>]*>[^<]*\$2:\$2</definedName>', workbook)
    assert "&amp;P" in re.search(r"<oddFooter>(.*?)</oddFooter>", sheet).group(1)
    # The grid: one conditional format (always true) with a border over every data cell, blank ones included —
    # no style per cell, no written blank cells.
    import zipfile

    last = f"{chr(ord('A') + len(ledger.columns) - 1)}{count + 2}"
    assert re.search(rf'<conditionalFormatting sqref="A3:{last}"><cfRule type="expression" dxfId="0"', sheet)
    data = sheet.split('<row r="3"')[1]
    assert "<formula>TRUE</formula>" in sheet and '<c r="A3"><v>1</v></c>' in data
    money = {c for c, title in enumerate(ledger.columns) if c in ledger.money}
    styled = {ord(col) - ord("A") for col in re.findall(r'<c r="([A-Z])\d+" s="', data)}
    assert styled <= money  # only the money columns' number format
    with zipfile.ZipFile(path) as z:
        styles = z.read("xl/styles.xml").decode()
    assert re.search(r"<dxfs count=\"1\"><dxf><border><left style=\"thin\">", styles)
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert rows[0][0].startswith("监测对象台账（桃溪镇，")
    assert list(rows[1]) == list(ledger.columns)
    assert len(rows) == count + 2 and rows[2][0] == 1


def test_command_exports_a_ledger(world, users, tmp_path, capsys):
    out = tmp_path / "risks.xlsx"
    call_command("export", "ledger", "risks", "-o", str(out), "--region", TOWN)
    assert "风险点台账" in capsys.readouterr().out
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert len(rows) - 2 == len([r for r in RiskPoint.objects.all() if _inside(r.region_code, TOWN)])
    out2 = tmp_path / "edge.xlsx"
    call_command("export", "edge", "-o", str(out2))  # a ledger's name as the kind
    assert out2.exists()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="未知的台账"):
        call_command("export", "ledger", "nonsense", "-o", str(tmp_path / "x.xlsx"))
    with pytest.raises(CommandError, match="格式不对"):
        call_command("export", "ledger", "monitored", "-o", str(tmp_path / "y.xlsx"), "--month", "2026-13-01")
