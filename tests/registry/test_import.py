"""Importing the household workbook (DATA-FORMATS §2): what a clean file writes, re-import changing nothing, updates,
dry runs, CSV encodings, and the template round trip. The helpers here build workbooks and CSV pairs for the other
import and export tests."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter
from conftest import OTHER_VILLAGE, VILLAGE, operator
from django.db import connection

from fangfan.core.errors import ValidationFailed
from fangfan.core.models import AuditEvent
from fangfan.registry.formats import HOUSEHOLD_COLUMNS, MEMBER_COLUMNS
from fangfan.registry.idnumber import check_digit
from fangfan.registry.importing.households import households_import
from fangfan.registry.models import Household, Member
from fangfan.registry.services import id_index

pytestmark = pytest.mark.django_db

HH_HEADERS = [c.header for c in HOUSEHOLD_COLUMNS]
M_HEADERS = [c.header for c in MEMBER_COLUMNS]
H1, H2 = "34152310420100001", "34152310420100002"


def make_id(birth: str, seq: int) -> str:
    """A valid 18-character ID number born on ``birth`` (YYYYMMDD)."""
    first17 = f"341523{birth}{seq:03d}"
    return first17 + check_digit(first17)


HEAD_ID = make_id("19700101", 11)
SPOUSE_ID = make_id("19720305", 22)
CHILD_ID = make_id(f"{date.today().year - 10}0601", 31)
SINGLE_ID = make_id("19500707", 41)


def household_row(number: str = H1, village: str = VILLAGE, **over) -> dict:
    row = {
        "户编号": number,
        "行政区划代码": village,
        "户类型": "脱贫户",
        "脱贫年度": "2019",
        "脱贫户分类": "享受政策",
        "监测对象类型": "",
        "监测状态": "",
        "识别监测时间": "",
        "风险消除时间": "",
        "分类定级": "",
        "联系电话": "13800138000",
        "工资性收入": "24000",
        "生产经营性收入": "6000",
        "生产经营性支出": "2000",
        "财产性收入": "300",
        "转移性收入": "3600.50",
        "合规自付支出": "0",
        "吃穿不愁": "是",
        "住房安全等级": "B",
        "饮水安全": "是",
    }
    row.update(over)
    return row


def member_row(
    number: str = H1, name: str = "张三", id_number: str = HEAD_ID, relation: str = "户主", **over
) -> dict:
    row = {
        "户编号": number,
        "姓名": name,
        "证件号码": id_number,
        "与户主关系": relation,
        "文化程度": "初中",
        "在校生状况": "非在校生",
        "义务教育阶段未上学原因": "",
        "健康状况": "健康",
        "残疾类别": "",
        "残疾等级": "",
        "劳动技能": "普通劳动力",
        "务工时间（月）": "10",
        "务工地": "江苏省苏州市",
        "参加城乡居民基本医疗保险": "是",
        "参加职工基本医疗保险": "否",
        "参加城乡居民基本养老保险": "是",
        "享受低保": "否",
        "特困供养": "否",
        "联系电话": "",
    }
    row.update(over)
    return row


def sample() -> tuple[list[dict], list[dict]]:
    """Two households of 东风村: an exited household of three, a general household of one."""
    households = [
        household_row(H1),
        household_row(H2, 户类型="一般农户", 脱贫年度="", 脱贫户分类="", 联系电话=""),
    ]
    members = [
        member_row(H1, "张三", HEAD_ID, "户主"),
        member_row(H1, "李四", SPOUSE_ID, "配偶", 健康状况="患有大病", 劳动技能="弱劳动力或半劳动力"),
        member_row(
            H1,
            "张小明",
            CHILD_ID,
            "之子",
            **{"文化程度": "", "在校生状况": "小学", "劳动技能": "", "务工时间（月）": "", "务工地": ""},
        ),
        member_row(
            H2, "王五", SINGLE_ID, "户主", **{"劳动技能": "丧失劳动力", "务工时间（月）": "0", "务工地": ""}
        ),
    ]
    return households, members


def write_xlsx(
    path: Path,
    households: list[dict],
    members: list[dict],
    *,
    hh_headers: list[str] | None = None,
    m_headers: list[str] | None = None,
    numeric: set[tuple[str, int, str]] = frozenset(),
) -> Path:
    """A workbook with sheets 户信息 and 成员信息; ``numeric`` names cells (sheet, data row index, header) written
    as numbers, the way Excel stores a number typed into a General cell."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    for sheet, rows, headers in (
        ("户信息", households, hh_headers or HH_HEADERS),
        ("成员信息", members, m_headers or M_HEADERS),
    ):
        ws = book.add_worksheet(sheet)
        for col, header in enumerate(headers):
            ws.write_string(0, col, header)
        for r, row in enumerate(rows):
            for col, header in enumerate(headers):
                value = row.get(header, "")
                if (sheet, r, header) in numeric:
                    ws.write_number(r + 1, col, float(value))
                elif value != "":
                    ws.write_string(r + 1, col, str(value))
    book.close()
    return path


def write_csv_pair(
    folder: Path,
    households: list[dict] | None,
    members: list[dict] | None,
    *,
    encoding: str = "utf-8-sig",
    hh_headers: list[str] | None = None,
    m_headers: list[str] | None = None,
    names: tuple[str, str] = ("户信息.csv", "成员信息.csv"),
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows, headers in (
        (names[0], households, hh_headers or HH_HEADERS),
        (names[1], members, m_headers or M_HEADERS),
    ):
        if rows is None:
            continue
        with (folder / name).open("w", newline="", encoding=encoding) as f:
            writer = csv.writer(f)
            writer.writerow(headers)
            for row in rows:
                writer.writerow([row.get(h, "") for h in headers])
    return folder


def counts() -> tuple[int, int, int]:
    return Household.objects.count(), Member.objects.count(), AuditEvent.objects.count()


@pytest.fixture
def people(regions):
    """Users of the roles the import and export tests need, without password hashing (Argon2 is slow on purpose)."""
    from conftest import NEIGHBOUR_TOWN, NEIGHBOUR_VILLAGE, TOWN

    from fangfan.accounts.models import User

    def make(username: str, role: str, region: str) -> User:
        return User.objects.create(username=username, role=role, region_id=region, full_name="测试用户")

    return {
        "village_clerk": make("clerk", "village_clerk", VILLAGE),
        "other_village_clerk": make("clerk2", "village_clerk", OTHER_VILLAGE),
        "helper": make("helper", "helper", VILLAGE),
        "town_station": make("station", "town_station", TOWN),
        "town_leader": make("leader", "town_leader", TOWN),
        "neighbour_station": make("n-station", "town_station", NEIGHBOUR_TOWN),
        "neighbour_clerk": make("n-clerk", "village_clerk", NEIGHBOUR_VILLAGE),
    }


@pytest.fixture
def book(tmp_path, regions):
    households, members = sample()
    return write_xlsx(tmp_path / "户信息导入模板.xlsx", households, members)


def test_clean_workbook_creates_households_and_members(book, people):
    summary = households_import(path=book, actor=people["village_clerk"])
    assert (summary.households_created, summary.members_created) == (2, 4)
    assert (summary.households_updated, summary.members_updated) == (0, 0)
    h1 = Household.objects.get(number=H1)
    assert h1.region_id == VILLAGE and h1.household_type == "exited" and h1.exit_year == 2019
    assert h1.exited_class == "enjoying" and h1.housing_grade == "B" and h1.water_safe is True
    assert h1.phone == "13800138000"
    assert h1.transfer_income == Decimal("3600.50")
    # Derived figures (national formula): 24000 + 6000 − 2000 + 300 + 3600.50 = 31900.50 over 3 people.
    assert h1.size == 3 and h1.net_income == Decimal("31900.50")
    assert h1.per_capita_income == Decimal("10633.50")
    assert h1.head_name == "张三" and h1.head_initials == "zs"
    assert h1.suggestion == "enjoying" and h1.suggestion_reason
    h2 = Household.objects.get(number=H2)
    assert h2.has_labour is False and h2.size == 1
    head = Member.objects.get(id_index=id_index(HEAD_ID))
    assert head.is_head and head.relation == "户主" and head.household == h1
    assert head.id_number == HEAD_ID and head.id_masked == "341523********" + HEAD_ID[-4:]
    assert head.id_last4 == HEAD_ID[-4:] and head.birth_date == date(1970, 1, 1) and head.sex == "男"
    assert head.name_initials == "zs" and head.resident_medical is True and head.employee_medical is False
    spouse = Member.objects.get(id_index=id_index(SPOUSE_ID))
    assert spouse.serious_illness and not spouse.disabled and spouse.sex == "女"
    # Stored encrypted: the column never holds the plain number or phone.
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM registry_member WHERE id = %s", [head.pk])
        assert cursor.fetchone()[0].startswith("aesgcm:")
        cursor.execute("SELECT phone FROM registry_household WHERE id = %s", [h1.pk])
        assert cursor.fetchone()[0].startswith("aesgcm:")
    event = AuditEvent.objects.get(action="household.imported")
    assert event.actor == people["village_clerk"] and event.after["households_created"] == 2
    assert event.after["members_created"] == 4 and event.after["file"] == "户信息导入模板.xlsx"
    assert not AuditEvent.objects.filter(action="household.updated").exists()


def test_reimporting_the_same_file_changes_nothing(book, people):
    households_import(path=book, actor=people["village_clerk"])
    stamps = dict(Household.objects.values_list("number", "updated_at"))
    member_stamps = dict(Member.objects.values_list("id_index", "updated_at"))
    before = counts()
    summary = households_import(path=book, actor=people["village_clerk"])
    assert (summary.households_created, summary.households_updated, summary.households_unchanged) == (0, 0, 2)
    assert (summary.members_created, summary.members_updated, summary.members_unchanged) == (0, 0, 4)
    # Decided: an import that changes nothing writes nothing at all, not even an audit event.
    assert counts() == before
    assert dict(Household.objects.values_list("number", "updated_at")) == stamps
    assert dict(Member.objects.values_list("id_index", "updated_at")) == member_stamps


def test_changed_rows_are_updated_and_audited(tmp_path, book, people):
    households_import(path=book, actor=people["village_clerk"])
    households, members = sample()
    households[0]["工资性收入"] = "12000"
    members[1]["健康状况"] = "健康"
    members.append(member_row(H2, "王小五", make_id("19800808", 51), "之子"))
    summary = households_import(
        path=write_xlsx(tmp_path / "二次.xlsx", households, members), actor=people["village_clerk"]
    )
    assert (summary.households_created, summary.households_updated, summary.households_unchanged) == (0, 2, 0)
    assert (summary.members_created, summary.members_updated, summary.members_unchanged) == (1, 1, 3)
    h1 = Household.objects.get(number=H1)
    assert h1.wage_income == Decimal("12000.00") and h1.per_capita_income == Decimal("6633.50")
    assert not Member.objects.get(id_index=id_index(SPOUSE_ID)).serious_illness
    assert Household.objects.get(number=H2).size == 2
    events = AuditEvent.objects.filter(action="household.updated").order_by("id")
    assert events.count() == 2
    first = events.get(object_label=f"户 {H1}")
    assert first.before["工资性收入"] == "24000.00" and first.after["工资性收入"] == "12000.00"
    assert first.after["成员"]["更新"] == 1
    assert "证件号码" in first.after["成员"] and SPOUSE_ID not in str(first.after)
    from fangfan.core.audit import verify_chain

    assert verify_chain()[1] is None


def test_an_import_anchors_its_last_audit_event(tmp_path, book, people, django_capture_on_commit_callbacks):
    """The per-household events an import bulk-inserts after its summary event are the chain's head: anchored, so
    deleting them is found (core.anchor)."""
    from fangfan.core.anchor import anchor_head
    from fangfan.core.audit import verify_chain

    households_import(path=book, actor=people["village_clerk"])
    households, members = sample()
    households[0]["工资性收入"] = "12000"
    households[1]["工资性收入"] = "13000"
    with django_capture_on_commit_callbacks(execute=True):
        households_import(
            path=write_xlsx(tmp_path / "二次.xlsx", households, members), actor=people["village_clerk"]
        )
    last = AuditEvent.objects.order_by("-id").first()
    assert last.action == "household.updated"
    assert (anchor_head().event_id, anchor_head().hash) == (last.pk, last.hash)
    assert verify_chain()[1] is None


def test_households_and_members_not_in_the_file_are_kept(tmp_path, book, people):
    households_import(path=book, actor=people["village_clerk"])
    households, members = sample()
    summary = households_import(
        path=write_xlsx(
            tmp_path / "只有一户.xlsx", households[:1], [m for m in members[:3] if m["与户主关系"] != "之子"]
        ),
        actor=people["village_clerk"],
    )
    assert summary.households_unchanged == 1 and Household.objects.count() == 2
    assert Member.objects.filter(status="active").count() == 4
    assert Household.objects.get(number=H1).size == 3


def test_dry_run_reports_and_writes_nothing(book, people):
    before = counts()
    summary = households_import(path=book, actor=people["village_clerk"], dry_run=True)
    assert summary.dry_run and summary.households_created == 2 and summary.members_created == 4
    assert counts() == before
    assert "试导入" in summary.describe()


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_pair_in_each_encoding(tmp_path, regions, people, encoding):
    households, members = sample()
    folder = write_csv_pair(tmp_path / "csv", households, members, encoding=encoding)
    summary = households_import(path=folder, actor=people["town_station"])
    assert (summary.households_created, summary.members_created) == (2, 4)
    assert Member.objects.get(id_index=id_index(HEAD_ID)).name == "张三"


def test_csv_files_are_recognised_by_their_headers(tmp_path, regions, people):
    households, members = sample()
    folder = write_csv_pair(tmp_path / "csv", households, members, names=("hh.csv", "people.csv"))
    summary = households_import(path=folder, actor=operator())
    assert summary.members_created == 4


def test_national_export_headers_are_accepted(tmp_path, regions, people):
    """Aliases of the national system's export: 户主关系, 身份证号, and derived columns such as 人均纯收入 ignored."""
    households, members = sample()
    for row in households:
        row["人均纯收入"] = "99999"
    for row in members:
        row["身份证号"] = row.pop("证件号码")
        row["户主关系"] = row.pop("与户主关系")
    hh_headers = [*HH_HEADERS, "人均纯收入", "备注"]
    m_headers = [
        ("身份证号" if h == "证件号码" else "户主关系" if h == "与户主关系" else h) for h in M_HEADERS
    ]
    m_headers = [f" {h} " for h in m_headers]  # headers are matched after trimming
    for row in members:
        for key in list(row):
            row[f" {key} "] = row.pop(key)
    book = write_xlsx(
        tmp_path / "国家系统导出.xlsx", households, members, hh_headers=hh_headers, m_headers=m_headers
    )
    summary = households_import(path=book, actor=people["village_clerk"])
    assert summary.members_created == 4 and summary.ignored_columns == ["备注"]
    assert Household.objects.get(number=H1).per_capita_income == Decimal("10633.50")


def test_member_rows_may_join_a_household_already_in_the_system(tmp_path, book, people):
    households_import(path=book, actor=people["village_clerk"])
    folder = write_csv_pair(tmp_path / "m", None, [member_row(H2, "王二", make_id("19900101", 61), "之子")])
    summary = households_import(path=folder, actor=people["village_clerk"])
    assert summary.members_created == 1 and summary.households_updated == 1
    assert Household.objects.get(number=H2).size == 2


def test_head_can_change_by_import(tmp_path, book, people):
    households_import(path=book, actor=people["village_clerk"])
    households, members = sample()
    members[0]["与户主关系"] = "配偶"
    members[1]["与户主关系"] = "户主"
    households_import(
        path=write_xlsx(tmp_path / "换户主.xlsx", households, members), actor=people["village_clerk"]
    )
    assert Member.objects.get(is_head=True, household__number=H1).id_index == id_index(SPOUSE_ID)
    assert Household.objects.get(number=H1).head_name == "李四"


def test_disability_card_and_legacy_numbers(tmp_path, regions, people):
    households, members = sample()
    members[1]["证件号码"] = SPOUSE_ID + "43"  # 残疾人证号: 肢体 三级
    members[1]["健康状况"] = ""
    legacy = "341523500707411"  # 15-digit, born 1950-07-07
    members[3]["证件号码"] = legacy
    households_import(
        path=write_xlsx(tmp_path / "b.xlsx", households, members), actor=people["village_clerk"]
    )
    spouse = Member.objects.get(id_index=id_index(SPOUSE_ID))
    assert spouse.disabled and spouse.disability_category == "肢体" and spouse.disability_grade == "三级"
    assert spouse.id_number == SPOUSE_ID + "43"
    old = Member.objects.get(household__number=H2)
    assert old.id_number == "341523195007074117"[:17] + old.id_number[17] and old.birth_date == date(
        1950, 7, 7
    )


def test_full_width_digits_and_lower_case_x_are_normalised(tmp_path, regions, people):
    households, members = sample()
    x_id = next(make_id("19800101", s) for s in range(100, 999) if make_id("19800101", s).endswith("X"))
    members[3]["证件号码"] = x_id.lower().replace("1", "１")
    households_import(
        path=write_xlsx(tmp_path / "b.xlsx", households, members), actor=people["village_clerk"]
    )
    assert Member.objects.get(household__number=H2).id_number == x_id


def test_template_round_trips(tmp_path, regions, people):
    """The downloadable template: fixed headers on both sheets, and its example rows import cleanly."""
    from python_calamine import CalamineWorkbook

    from fangfan.registry.template import households_template

    path = tmp_path / "模板.xlsx"
    path.write_bytes(households_template())
    wb = CalamineWorkbook.from_path(str(path))
    assert wb.sheet_names == ["户信息", "成员信息", "填写说明"]
    assert wb.get_sheet_by_name("户信息").to_python()[0] == HH_HEADERS
    assert wb.get_sheet_by_name("成员信息").to_python()[0] == M_HEADERS
    # An untouched template is refused: it has no data rows (issue 17: it used to "pass" and import nothing)...
    with pytest.raises(ValidationFailed, match="没有数据行"):
        households_import(path=path, actor=people["village_clerk"], dry_run=True)
    # ...and filled with the examples of 填写说明 it imports.
    guide = [r for r in wb.get_sheet_by_name("填写说明").to_python() if any(c != "" for c in r)]
    hh_at = next(i for i, r in enumerate(guide) if r[1:2] == ["户编号"] and "行政区划代码" in r)
    m_at = next(i for i, r in enumerate(guide) if r[1:2] == ["户编号"] and "证件号码" in r)
    hh = dict(zip(guide[hh_at][1:], guide[hh_at + 1][1:], strict=False))
    mem = dict(zip(guide[m_at][1:], guide[m_at + 1][1:], strict=False))
    filled = write_xlsx(tmp_path / "填好的.xlsx", [hh], [mem])
    summary = households_import(path=filled, actor=people["village_clerk"])
    assert (summary.households_created, summary.members_created) == (1, 1)


def test_template_formats_id_and_phone_columns_as_text():
    import io
    import re
    import zipfile

    from fangfan.registry.template import households_template

    with zipfile.ZipFile(io.BytesIO(households_template())) as z:
        styles = z.read("xl/styles.xml").decode()
        sheet2 = z.read("xl/worksheets/sheet2.xml").decode()
    xfs = re.findall(r"<xf [^>]*>", styles.split("<cellXfs")[1])
    text_styles = {
        str(i) for i, xf in enumerate(xfs) if 'numFmtId="49"' in xf
    }  # the built-in text format "@"
    id_column = re.search(r'<col min="3" max="3"[^>]*style="(\d+)"', sheet2).group(1)
    assert id_column in text_styles
    assert "<dataValidation" in sheet2 and "户主" in sheet2


def test_village_outside_town_is_refused_for_a_clerk_of_another_village(tmp_path, regions, people):
    households, members = sample()
    households[1]["行政区划代码"] = OTHER_VILLAGE
    with pytest.raises(ValidationFailed) as exc:
        households_import(
            path=write_xlsx(tmp_path / "b.xlsx", households, members), actor=people["village_clerk"]
        )
    assert [p.reason for p in exc.value.problems] == ["该村不在您的管辖范围内"]


def test_optional_columns_missing_from_the_file_keep_stored_values(tmp_path, book, people):
    households_import(path=book, actor=people["village_clerk"])
    households, members = sample()
    hh_headers = [h for h in HH_HEADERS if h not in ("联系电话", "吃穿不愁")]
    m_headers = [h for h in M_HEADERS if h not in ("健康状况", "文化程度")]
    households[0]["工资性收入"] = "30000"
    summary = households_import(
        path=write_xlsx(
            tmp_path / "少几列.xlsx", households, members, hh_headers=hh_headers, m_headers=m_headers
        ),
        actor=people["village_clerk"],
    )
    assert (summary.households_updated, summary.members_updated, summary.members_unchanged) == (1, 0, 4)
    h1 = Household.objects.get(number=H1)
    assert (
        h1.phone == "13800138000" and h1.food_clothing_secure is True and h1.wage_income == Decimal("30000")
    )
    spouse = Member.objects.get(id_index=id_index(SPOUSE_ID))
    assert spouse.health == "患有大病" and spouse.serious_illness and spouse.education == "初中"


def test_many_head_changes_in_one_import(tmp_path, regions, people):
    """Enough rows for PostgreSQL's COPY + UPDATE … FROM path: old heads step down before new heads step up."""
    households, members = [], []
    for i in range(260):
        number = f"3415231042010{i:04d}"
        households.append(household_row(number, 户类型="一般农户", 脱贫年度="", 脱贫户分类=""))
        members.append(member_row(number, "赵一", make_id("19600101", 2 * i + 1), "户主"))
        members.append(member_row(number, "钱二", make_id("19620202", 2 * i), "配偶"))
    households_import(path=write_csv_pair(tmp_path / "a", households, members), actor=people["town_station"])
    for row in members:
        row["与户主关系"] = "配偶" if row["与户主关系"] == "户主" else "户主"
    summary = households_import(
        path=write_csv_pair(tmp_path / "b", households, members), actor=people["town_station"]
    )
    assert summary.members_updated == 520 and summary.households_updated == 260
    assert set(Member.objects.filter(is_head=True).values_list("name", flat=True)) == {"钱二"}
    assert set(Household.objects.values_list("head_name", flat=True)) == {"钱二"}


def test_worker_processes_give_the_same_result(tmp_path, regions, people, monkeypatch):
    """Large files are checked in forked worker processes, slice by slice of households: same rows, same problems
    (an ID in two households of different slices, an ID already registered elsewhere)."""
    monkeypatch.setenv("FANGFAN_IMPORT_WORKERS", "2")
    households, members = [], []
    for i in range(40):
        number = f"3415231042010{i:04d}"
        households.append(household_row(number, 户类型="一般农户", 脱贫年度="", 脱贫户分类=""))
        members.append(member_row(number, "孙一", make_id("19600101", 2 * i + 1), "户主"))
        members.append(member_row(number, "周二", make_id("19620202", 2 * i), "配偶"))
    summary = households_import(
        path=write_csv_pair(tmp_path / "a", households, members), actor=people["village_clerk"]
    )
    assert (summary.households_created, summary.members_created) == (40, 80)
    assert Household.objects.count() == 40 and Member.objects.count() == 80
    assert set(Household.objects.values_list("size", flat=True)) == {2}
    again = households_import(
        path=write_csv_pair(tmp_path / "b", households, members), actor=people["village_clerk"]
    )
    assert (again.households_unchanged, again.members_unchanged) == (40, 80)

    # The same person in two households of the file (different slices: the check runs on the merged slices).
    h3, h4 = "34152310420199001", "34152310420199002"
    extra_h = [household_row(n, 户类型="一般农户", 脱贫年度="", 脱贫户分类="") for n in (h3, h4)]
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        households_import(
            path=write_csv_pair(
                tmp_path / "c",
                extra_h,
                [
                    member_row(h3, "吴三", make_id("19700101", 901), "户主"),
                    member_row(h4, "王五", make_id("19700101", 903), "户主"),
                    member_row(h4, "王六", make_id("19700101", 901), "之子"),
                ],
            ),
            actor=people["village_clerk"],
        )
    assert [(p.row, p.reason) for p in exc.value.problems] == [(4, "证件号码与第2行重复")]
    # A person already in a household that is not in the file: looked up in the database after the slices.
    with pytest.raises(ValidationFailed) as exc:
        households_import(
            path=write_csv_pair(
                tmp_path / "d",
                extra_h[:1],
                [
                    member_row(h3, "吴三", make_id("19700101", 901), "户主"),
                    member_row(h3, "郑四", make_id("19600101", 1), "之子"),  # 孙一 of the first household
                ],
            ),
            actor=people["village_clerk"],
        )
    assert [(p.row, p.reason) for p in exc.value.problems] == [
        (3, "该证件号码已登记在系统中的其他农户（同一人只能属于一户，迁入请先办理转户）")
    ]
    assert counts()[:2] == before[:2]  # the one event: that an ID is registered elsewhere was shown
    assert AuditEvent.objects.filter(action="member.elsewhere_shown").count() == 1


def test_progress_is_reported_up_to_the_total(book, people):
    calls = []
    households_import(
        path=book, actor=people["village_clerk"], progress=lambda d, t, m="": calls.append((d, t, m))
    )
    assert calls[0][0] == 0 and calls[-1] == (calls[-1][1], calls[-1][1], "完成")
    done = [d for d, _t, _m in calls]
    assert done == sorted(done) and all(d <= t for d, t, _m in calls)


def test_a_household_turned_general_keeps_no_exited_class_the_file_leaves_out(tmp_path, book, people):
    """registry.rules: a 一般农户 has no 脱贫年度 nor 脱贫户分类. A file without the 脱贫户分类 column that turns a
    脱贫户 into a 一般农户 clears the stored class (as the web edit form does), rather than keeping it."""
    households_import(path=book, actor=people["village_clerk"])
    assert Household.objects.get(number=H1).exited_class != ""
    households, members = sample()
    households[0].update({"户类型": "一般农户", "脱贫年度": ""})
    hh_headers = [h for h in HH_HEADERS if h != "脱贫户分类"]
    path = write_xlsx(tmp_path / "改为一般农户.xlsx", households, members, hh_headers=hh_headers)
    # 户类型 is an official field: a plain import keeps it (and lists the difference, issue 19 point 6) …
    summary = households_import(path=path, actor=people["village_clerk"])
    assert {d["field"] for d in summary.official_differences} == {"户类型", "脱贫年度", "脱贫户分类"}
    h1 = Household.objects.get(number=H1)
    assert (h1.household_type, h1.exit_year, h1.exited_class) == ("exited", 2019, "enjoying")
    # … 与国家系统同步 applies it, the class the file leaves out cleared with it.
    households_import(path=path, actor=people["town_station"], sync_national=True)
    h1 = Household.objects.get(number=H1)
    assert (h1.household_type, h1.exit_year, h1.exited_class) == ("general", None, "")
