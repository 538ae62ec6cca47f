"""Every kind of bad cell in the household workbook is reported in Chinese with its sheet, row and column — and the
import writes nothing at all (households, members, audit events), DATA-FORMATS §2 and the common rules."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import NEIGHBOUR_VILLAGE, operator

sys.path.insert(0, str(Path(__file__).parent))  # the shared helpers live in test_import.py
import test_import  # noqa: E402
from test_import import (  # noqa: E402
    H1,
    H2,
    HEAD_ID,
    HH_HEADERS,
    M_HEADERS,
    counts,
    make_id,
    member_row,
    sample,
    write_csv_pair,
    write_xlsx,
)

from fangfan.core.errors import ValidationFailed
from fangfan.core.models import AuditEvent
from fangfan.registry.importing.households import households_import

pytestmark = pytest.mark.django_db
people = test_import.people  # the shared fixture

HH, MEM = "户信息", "成员信息"


def _hh(i, key, value):
    def change(households, members):
        households[i][key] = value

    return change


def _mem(i, key, value):
    def change(households, members):
        members[i][key] = value

    return change


CASES = {
    # name: (change, sheet, row, column, reason)
    "bad village code": (
        _hh(0, "行政区划代码", "341523104299"),
        HH,
        2,
        "行政区划代码",
        "系统中没有这个村，请先导入行政区划",
    ),
    "village code malformed": (
        _hh(0, "行政区划代码", "3415231042"),
        HH,
        2,
        "行政区划代码",
        "行政区划代码应为12位数字",
    ),
    "town code instead of a village": (
        _hh(0, "行政区划代码", "341523104000"),
        HH,
        2,
        "行政区划代码",
        "应为村级行政区划代码（12位，末三位不为000）",
    ),
    "village outside jurisdiction": (
        _hh(1, "行政区划代码", NEIGHBOUR_VILLAGE),
        HH,
        3,
        "行政区划代码",
        "该村不在您的管辖范围内",
    ),
    "bad ID checksum": (
        _mem(0, "证件号码", HEAD_ID[:17] + ("0" if HEAD_ID[17] != "0" else "1")),
        MEM,
        2,
        "证件号码",
        "证件号码无效：校验码错误",
    ),
    "impossible birth date in ID": (
        _mem(0, "证件号码", make_id("19701301", 11)),
        MEM,
        2,
        "证件号码",
        "证件号码无效：出生日期无效",
    ),
    "ID of wrong length": (
        _mem(0, "证件号码", "3415231970"),
        MEM,
        2,
        "证件号码",
        "证件号码无效：长度应为18位（或15位旧号、20位残疾人证号）",
    ),
    "ID as Excel scientific notation in CSV text": (
        _mem(0, "证件号码", "3.41523E+17"),
        MEM,
        2,
        "证件号码",
        "证件号码必须是文本格式，Excel 已把它变成数字（末几位已丢失），请将该列设置为文本格式后重新填写",
    ),
    "duplicate ID within the file": (_mem(3, "证件号码", HEAD_ID), MEM, 5, "证件号码", "证件号码与第2行重复"),
    "two heads": (
        _mem(1, "与户主关系", "户主"),
        MEM,
        3,
        "与户主关系",
        "每户只能有一个户主，该户已在第2行填写户主",
    ),
    "no head": (
        _mem(3, "与户主关系", "之子"),
        HH,
        3,
        "户编号",
        "该户没有户主（“成员信息”表中须有一行与户主关系为“户主”）",
    ),
    "bad yes/no": (_hh(0, "饮水安全", "也许"), HH, 2, "饮水安全", "应填“是”或“否”"),
    "bad yes/no of a member": (_mem(2, "享受低保", "有"), MEM, 4, "享受低保", "应填“是”或“否”"),
    "negative money": (_hh(0, "工资性收入", "-1"), HH, 2, "工资性收入", "金额不能为负数"),
    "money with three decimals": (
        _hh(0, "转移性收入", "100.123"),
        HH,
        2,
        "转移性收入",
        "金额最多保留两位小数",
    ),
    "money not a number": (_hh(0, "财产性收入", "三百"), HH, 2, "财产性收入", "应为金额数字（元）"),
    "required money blank": (
        _hh(1, "生产经营性支出", ""),
        HH,
        3,
        "生产经营性支出",
        "必填，请填写金额（元），没有请填 0",
    ),
    "bad YYYYMM": (
        _hh(0, "识别监测时间", "2024-13"),
        HH,
        2,
        "识别监测时间",
        "年月格式应为 YYYYMM，例如 202405",
    ),
    "unknown 户类型": (_hh(0, "户类型", "贫困户"), HH, 2, "户类型", "应为以下之一：一般农户、脱贫户"),
    "unknown 监测对象类型": (
        _hh(0, "监测对象类型", "困难户"),
        HH,
        2,
        "监测对象类型",
        "应为以下之一：脱贫不稳定户、边缘易致贫户、突发严重困难户、脱贫监测户、边缘户",
    ),
    "unknown 住房安全等级": (_hh(0, "住房安全等级", "E"), HH, 2, "住房安全等级", "应为以下之一：A、B、C、D"),
    "unknown 与户主关系": (
        _mem(2, "与户主关系", "儿子"),
        MEM,
        4,
        "与户主关系",
        "应为以下之一：户主、配偶、之子、之女、之儿媳、之女婿、之孙子、之孙女、之父、之母、之兄弟姐妹、其他",
    ),
    "unknown 文化程度": (
        _mem(0, "文化程度", "中专"),
        MEM,
        2,
        "文化程度",
        "应为以下之一：文盲或半文盲、小学、初中、高中、大专、本科及以上",
    ),
    "unknown 健康状况": (
        _mem(0, "健康状况", "良好"),
        MEM,
        2,
        "健康状况",
        "应为以下一项或多项（用“、”分隔）：健康、长期慢性病、患有大病、残疾",
    ),
    "migrant months out of range": (
        _mem(0, "务工时间（月）", "13"),
        MEM,
        2,
        "务工时间（月）",
        "务工时间应为 0–12 的整数（月）",
    ),
    "member of an unknown household": (
        _mem(3, "户编号", "34152310420199999"),
        MEM,
        5,
        "户编号",
        "户编号在“户信息”表和您的管辖范围内都不存在",
    ),
    "exited household without 脱贫年度": (_hh(0, "脱贫年度", ""), HH, 2, "脱贫年度", "脱贫户须填写脱贫年度"),
    "脱贫年度 not a year": (_hh(0, "脱贫年度", "19"), HH, 2, "脱贫年度", None),
    "脱贫户分类 on a general household": (
        _hh(1, "脱贫户分类", "享受政策"),
        HH,
        3,
        "脱贫户分类",
        "只有脱贫户才填写脱贫户分类",
    ),
    "duplicate 户编号": (_hh(1, "户编号", H1), HH, 3, "户编号", "户编号与第2行重复"),
    "blank name": (_mem(0, "姓名", ""), MEM, 2, "姓名", "必填"),
    "bad phone": (
        _hh(0, "联系电话", "call me"),
        HH,
        2,
        "联系电话",
        "联系电话格式不正确（应为数字，可含“-”）",
    ),
    "monitoring state without type": (
        _hh(0, "监测状态", "监测中"),
        HH,
        2,
        "监测状态",
        "填写监测状态时须填写监测对象类型",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_bad_cell_is_reported_and_nothing_is_written(tmp_path, regions, people, case, fmt):
    change, sheet, row, column, reason = CASES[case]
    households, members = sample()
    change(households, members)
    path = (
        write_xlsx(tmp_path / "b.xlsx", households, members)
        if fmt == "xlsx"
        else write_csv_pair(tmp_path / "csv", households, members)
    )
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        households_import(path=path, actor=people["village_clerk"])
    assert counts() == before
    problems = exc.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    problem = problems[0]
    expected_sheet = sheet if fmt == "xlsx" else ""
    expected_file = "b.xlsx" if fmt == "xlsx" else f"{sheet}.csv"
    assert (problem.file, problem.sheet, problem.row, problem.column) == (
        expected_file,
        expected_sheet,
        row,
        column,
    )
    if reason is not None:
        assert problem.reason == reason
    assert "未导入任何数据" in exc.value.message


def test_missing_header_is_reported(tmp_path, regions, people):
    households, members = sample()
    headers = [h for h in M_HEADERS if h != "证件号码"]
    with pytest.raises(ValidationFailed) as exc:
        households_import(
            path=write_xlsx(tmp_path / "b.xlsx", households, members, m_headers=headers), actor=operator()
        )
    [problem] = exc.value.problems
    assert (problem.sheet, problem.row, problem.column, problem.reason) == (
        MEM,
        1,
        "证件号码",
        "缺少必需的列（表头）",
    )


def test_a_column_given_twice_is_refused_naming_both(tmp_path, regions, people):
    """A corrected copy of 证件号码 beside the old one (here under its alias 身份证号码): which one is right cannot
    be guessed, so the file is refused — before, the first was taken and the second silently dropped."""
    households, members = sample()
    for m in members:
        m["身份证号码"] = m["证件号码"]
    before = counts()
    headers = [*M_HEADERS, "身份证号码"]
    with pytest.raises(ValidationFailed) as exc:
        households_import(
            path=write_xlsx(tmp_path / "b.xlsx", households, members, m_headers=headers),
            actor=people["village_clerk"],
        )
    assert counts() == before
    [problem] = exc.value.problems
    first = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[M_HEADERS.index("证件号码")]
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[len(M_HEADERS)]
    assert (problem.sheet, problem.row, problem.column) == (MEM, 1, "证件号码")
    assert problem.value == "证件号码、身份证号码"
    assert problem.reason == f"这一列出现了 2 次（{first}、{last} 列），请只保留一列"


def test_a_csv_column_given_twice_is_named_by_number(tmp_path, regions, people):
    households, members = sample()
    headers = [*HH_HEADERS, "户编号"]
    with pytest.raises(ValidationFailed) as exc:
        households_import(
            path=write_csv_pair(tmp_path / "c", households, members, hh_headers=headers), actor=operator()
        )
    [problem] = exc.value.problems
    assert (problem.file, problem.sheet, problem.row, problem.column) == ("户信息.csv", "", 1, "户编号")
    assert (
        problem.reason
        == f"这一列出现了 2 次（第 {HH_HEADERS.index('户编号') + 1}、{len(headers)} 列），请只保留一列"
    )


def test_numeric_id_cell_in_xlsx_is_refused_showing_the_damaged_value(tmp_path, regions, people):
    households, members = sample()
    before = counts()
    book = write_xlsx(tmp_path / "b.xlsx", households, members, numeric={(MEM, 0, "证件号码")})
    with pytest.raises(ValidationFailed) as exc:
        households_import(path=book, actor=people["village_clerk"])
    assert counts() == before
    [problem] = exc.value.problems
    assert (problem.sheet, problem.row, problem.column) == (MEM, 2, "证件号码")
    assert problem.reason.startswith("证件号码必须是文本格式，Excel 已把它变成数字")
    # What Excel keeps of the number: 15 significant digits, then zeros — not the ID that was typed.
    assert problem.value == HEAD_ID[:15] + "000" and problem.value != HEAD_ID
    assert "（值：341523197001010000）" in str(problem) or problem.value in str(problem)


def test_id_already_in_another_household(tmp_path, regions, people):
    households, members = sample()
    households_import(
        path=write_xlsx(tmp_path / "a.xlsx", households, members), actor=people["village_clerk"]
    )
    before = counts()
    other = [member_row("34152310420100003", "张三", HEAD_ID, "户主")]
    from test_import import household_row

    book = write_xlsx(tmp_path / "b.xlsx", [household_row("34152310420100003")], other)
    with pytest.raises(ValidationFailed) as exc:
        households_import(path=book, actor=people["village_clerk"])
    assert counts()[:2] == before[:2]
    [problem] = exc.value.problems
    assert (problem.sheet, problem.row, problem.column) == (MEM, 2, "证件号码")
    assert problem.reason == "该证件号码已登记在系统中的其他农户（同一人只能属于一户，迁入请先办理转户）"
    # Nothing written but the one audit event of the disclosure (issue 16 point 10): the count, not the number.
    assert counts()[2] == before[2] + 1
    event = AuditEvent.objects.get(action="member.elsewhere_shown")
    assert event.actor == people["village_clerk"]
    assert event.after == {"count": 1, "via": "household_import", "dry_run": False}
    assert HEAD_ID not in str(event.after) + event.note + event.object_label


def test_a_dry_run_in_another_jurisdiction_that_shows_an_id_is_registered_is_audited(
    tmp_path, regions, people
):
    """Issue 16 point 10: a neighbouring village's clerk learns from a dry run that a person is registered (in
    东风村): the message stays (it prevents a second registration), and the disclosure is audited once."""
    households, members = sample()
    households_import(
        path=write_xlsx(tmp_path / "a.xlsx", households, members), actor=people["village_clerk"]
    )
    from test_import import household_row

    number = NEIGHBOUR_VILLAGE + "00001"
    book = write_xlsx(
        tmp_path / "n.xlsx",
        [household_row(number, NEIGHBOUR_VILLAGE)],
        [member_row(number, "张三", HEAD_ID, "户主")],
    )
    with pytest.raises(ValidationFailed) as exc:
        households_import(path=book, actor=people["neighbour_clerk"], dry_run=True)
    assert [p.reason for p in exc.value.problems] == [
        "该证件号码已登记在系统中的其他农户（同一人只能属于一户，迁入请先办理转户）"
    ]
    [event] = AuditEvent.objects.filter(action="member.elsewhere_shown")
    assert event.actor == people["neighbour_clerk"] and event.region_code == NEIGHBOUR_VILLAGE
    assert event.after == {"count": 1, "via": "household_import", "dry_run": True}
    assert HEAD_ID not in str(event.after)


def test_household_number_of_another_jurisdiction(tmp_path, regions, people):
    households, members = sample()
    households_import(
        path=write_xlsx(tmp_path / "a.xlsx", households, members), actor=people["village_clerk"]
    )
    with pytest.raises(ValidationFailed) as exc:
        households_import(
            path=write_xlsx(tmp_path / "b.xlsx", households[1:], members[3:]), actor=people["neighbour_clerk"]
        )
    reasons = {(p.sheet, p.column, p.reason) for p in exc.value.problems}
    assert (HH, "行政区划代码", "该村不在您的管辖范围内") in reasons


def test_every_problem_is_collected(tmp_path, regions, people):
    households, members = sample()
    households[0]["工资性收入"] = "-5"
    households[1]["户类型"] = "贫困户"
    members[0]["证件号码"] = "123"
    members[2]["参加城乡居民基本医疗保险"] = "maybe"
    with pytest.raises(ValidationFailed) as exc:
        households_import(
            path=write_xlsx(tmp_path / "b.xlsx", households, members), actor=people["village_clerk"]
        )
    where = sorted((p.sheet, p.row, p.column) for p in exc.value.problems)
    assert where == sorted(
        [
            (HH, 2, "工资性收入"),
            (HH, 3, "户类型"),
            (MEM, 2, "证件号码"),
            (MEM, 4, "参加城乡居民基本医疗保险"),
        ]
    )


def test_dry_run_reports_the_same_problems(tmp_path, regions, people):
    households, members = sample()
    members[1]["与户主关系"] = "户主"
    book = write_xlsx(tmp_path / "b.xlsx", households, members)
    with pytest.raises(ValidationFailed) as real:
        households_import(path=book, actor=people["village_clerk"])
    with pytest.raises(ValidationFailed) as dry:
        households_import(path=book, actor=people["village_clerk"], dry_run=True)
    assert dry.value.problems == real.value.problems


def test_no_recognisable_sheet(tmp_path, regions, people):
    path = tmp_path / "x.csv"
    path.write_text("甲,乙\n1,2\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        households_import(path=path, actor=operator())
    assert "没有找到“户信息”或“成员信息”表" in exc.value.message


def test_unsupported_file_type(tmp_path, regions):
    path = tmp_path / "x.txt"
    path.write_text("x")
    with pytest.raises(ValidationFailed) as exc:
        households_import(path=path, actor=operator())
    assert "不支持的文件类型" in exc.value.message


def test_a_role_without_import_is_refused(tmp_path, regions, people):
    households, members = sample()
    with pytest.raises(ValidationFailed):
        households_import(path=write_xlsx(tmp_path / "b.xlsx", households, members), actor=people["helper"])


def test_removed_member_cannot_reappear_silently(tmp_path, regions, people):
    from datetime import date

    from fangfan.registry.models import Member
    from fangfan.registry.services import id_index, member_remove

    households, members = sample()
    households_import(
        path=write_xlsx(tmp_path / "a.xlsx", households, members), actor=people["village_clerk"]
    )
    spouse = Member.objects.get(id_index=id_index(members[1]["证件号码"]))
    member_remove(member=spouse, actor=people["village_clerk"], reason="死亡", on=date(2025, 1, 1))
    with pytest.raises(ValidationFailed) as exc:
        households_import(
            path=write_xlsx(tmp_path / "b.xlsx", households, members), actor=people["village_clerk"]
        )
    [problem] = exc.value.problems
    assert problem.row == 3 and problem.reason == "该成员在系统中已办理减少，如需恢复请在系统中办理增加成员"
    assert H2  # the other household imports fine once the row is fixed


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_file_with_headers_only_is_refused(tmp_path, regions, people, kind):
    """Issue 17: a workbook with only its header rows used to pass the check (and "import" nothing)."""
    path = (
        write_csv_pair(tmp_path / "c", [], []) if kind == "csv" else write_xlsx(tmp_path / "b.xlsx", [], [])
    )
    before = counts()
    with pytest.raises(ValidationFailed, match="没有数据行（只有表头或是空的）"):
        households_import(path=path, actor=operator(), dry_run=True)
    assert counts() == before


def test_an_empty_csv_is_refused(tmp_path, regions, people):
    path = tmp_path / "户信息.csv"
    path.write_bytes(b"")
    with pytest.raises(ValidationFailed, match="文件是空的"):
        households_import(path=path, actor=operator())
