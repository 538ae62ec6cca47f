"""The importer's fast paths give exactly the answers of the functions they stand in for, and garbage in any cell
of an otherwise valid file is only ever a ``ValidationFailed`` (hypothesis)."""

from __future__ import annotations

import string
import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
import test_import  # noqa: E402
from test_import import HH_HEADERS, M_HEADERS, sample, write_csv_pair  # noqa: E402

from fangfan.core.errors import ValidationFailed
from fangfan.registry.derive import name_initials
from fangfan.registry.idnumber import IdNumberError, check_digit, parse_id
from fangfan.registry.importing.cells import _id_fast, fast_initials
from fangfan.registry.importing.households import households_import

people = test_import.people
TODAY = date(2026, 6, 1)


def _reference(raw: str):
    info = parse_id(raw, today=TODAY)
    card = (info.disability_category_label, info.disability_grade_label) if info.is_disability_card else None
    return (info.original if card else info.id18), info.id18, info.birth_date, info.sex, card


def _same(raw: str) -> None:
    try:
        expected = _reference(raw)
    except IdNumberError as exc:
        with pytest.raises(IdNumberError) as got:
            _id_fast(raw, TODAY)
        assert str(got.value) == str(exc)
        return
    assert _id_fast(raw, TODAY) == expected


@st.composite
def valid_ids(draw):
    born = draw(st.dates(min_value=date(1890, 1, 1), max_value=TODAY))
    seq = draw(st.integers(0, 999))
    first17 = f"{draw(st.integers(110000, 659999))}{born:%Y%m%d}{seq:03d}"
    return first17 + check_digit(first17)


@given(valid_ids())
def test_fast_id_path_accepts_what_parse_id_accepts(raw):
    _same(raw)
    _same(raw.lower())


@given(st.text(alphabet="0123456789Xx", min_size=16, max_size=20))
def test_fast_id_path_refuses_what_parse_id_refuses(raw):
    _same(raw)


@given(valid_ids(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_fast_id_path_on_one_changed_character(raw, position, char):
    _same(raw[:position] + char + raw[position + 1 :])


COMMON = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石单解仇朴查区长乐重行朝发红华国建明强平安乐和春秋东西南北"


@given(
    st.text(
        alphabet=st.one_of(
            st.sampled_from(COMMON),
            st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5),
            st.sampled_from("·•- aZ"),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_fast_initials_equal_name_initials(name):
    assert fast_initials(name) == name_initials(name)


def test_fast_initials_on_names_that_are_phrases():
    for name in [
        "单田芳",
        "曾国藩",
        "解放军",
        "长乐",
        "朝阳",
        "重庆",
        "行长",
        "欧阳修",
        "司马光",
        "张三丰",
        "阿·买买提",
    ]:
        assert fast_initials(name) == name_initials(name), name


GARBAGE = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=string.digits + ".-+eE ,", max_size=25),
    st.sampled_from(
        ["", " ", "是", "否", "户主", "0", "-0", "1e400", "NaN", "Infinity", "00000000000000000000"]
    ),
)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sheet=st.sampled_from(["household", "member"]),
    row=st.integers(0, 3),
    column=st.integers(0, 40),
    value=GARBAGE,
)
def test_garbage_in_any_cell_is_only_ever_a_validation_failure(
    tmp_path_factory, people, sheet, row, column, value
):
    from django.db import transaction

    households, members = sample()
    if sheet == "household":
        households[row % len(households)][HH_HEADERS[column % len(HH_HEADERS)]] = value
    else:
        members[row % len(members)][M_HEADERS[column % len(M_HEADERS)]] = value
    folder = write_csv_pair(tmp_path_factory.mktemp("g"), households, members)

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            households_import(path=folder, actor=people["village_clerk"])
            raise Rollback
    except (ValidationFailed, Rollback):
        pass


@given(
    st.lists(
        st.tuples(
            st.dates(min_value=date(1930, 1, 1), max_value=date(2025, 12, 31)),
            st.sampled_from(["", "非在校生", "小学", "七至九年级", "普通高中", "学龄前"]),
            st.sampled_from(["", "送教上门"]),
            st.booleans(),
            st.booleans(),
            st.sampled_from(["", "普通劳动力", "丧失劳动力", "无劳动力"]),
            st.sampled_from([None, True, False]),
            st.sampled_from([None, True, False]),
        ),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from(["general", "exited"]),
    st.integers(0, 80000),
)
def test_light_member_facts_derive_the_same(members, household_type, wage):
    from decimal import Decimal

    from fangfan.policy.parameters import PARAMETERS
    from fangfan.registry.derive import MemberFacts, derive
    from fangfan.registry.importing.layout import M_FIELDS, M_POS
    from fangfan.registry.importing.plan import _facts, _HouseholdView

    values = {k: v.default for k, v in PARAMETERS.items()}
    household = _HouseholdView(
        {
            "household_type": household_type,
            "wage_income": Decimal(wage),
            "business_income": Decimal(0),
            "business_expense": Decimal(0),
            "property_income": Decimal(100),
            "transfer_income": Decimal(0),
            "compliant_self_paid": Decimal(0),
            "housing_grade": "",
            "water_safe": None,
            "food_clothing_secure": True,
        }
    )
    light, full = [], []
    for i, (born, school, reason, serious, disabled, labour, resident, employee) in enumerate(members):
        row = [None] * len(M_FIELDS)
        for key, value in (
            ("school_status", school),
            ("not_in_school_reason", reason),
            ("serious_illness", serious),
            ("disabled", disabled),
            ("labour_skill", labour),
            ("resident_medical", resident),
            ("employee_medical", employee),
            ("is_head", i == 0),
        ):
            row[M_POS[key]] = value
        light.append(_facts(row, born))
        full.append(
            MemberFacts(
                birth_date=born,
                school_status=school,
                not_in_school_reason=reason,
                serious_illness=serious,
                disabled=disabled,
                labour_skill=labour,
                resident_medical=resident,
                employee_medical=employee,
                is_head=i == 0,
            )
        )
    assert derive(household, light, values, today=TODAY) == derive(household, full, values, today=TODAY)


def test_bulk_rows_cover_every_column_of_the_models():
    """The importer writes raw rows (no model defaults): a field added to Household or Member must be added to the
    importer too, or this fails before an import does."""
    from fangfan.registry.importing.layout import H_ALL, M_FIELDS, M_ID_FIELDS
    from fangfan.registry.models import Household, Member

    household = {f.name for f in Household._meta.concrete_fields}
    assert household == {"id", "number", *H_ALL, "cancelled", "cancelled_reason", "created_at", "updated_at"}
    member = {f.name for f in Member._meta.concrete_fields}
    extra = {"status", "joined_reason", "joined_date", "left_reason", "left_date", "created_at", "updated_at"}
    assert member == {"id", "household", "household_region", *M_ID_FIELDS, *M_FIELDS, *extra}


# --- a CSV file's lines, split where they are used (``core.tabular.Lines``) ----------------------------------------

PLAIN_CSV = [
    "户编号,姓名,证件号码\n1,张三,x\n2,李四,y\n",
    "户编号,姓名,证件号码\r\n1,张三,x\r\n\r\n2,李四\r\n,,\r\n  , ,\r\n3,王五,z,多余\r\n4, 赵六 ,w",
    "户编号,姓名\n\n\n1,张三\n   \n2,\n",
    " 户编号 ,姓名\n1,张三",
]


def _both_ways(tmp_path, content: str, monkeypatch, encoding="utf-8-sig"):
    from fangfan.core import tabular

    path = tmp_path / "成员信息.csv"
    path.write_bytes(content.encode(encoding))
    fast = tabular.read_csv_table(path, path.name)
    monkeypatch.setattr(tabular, "plain_lines", lambda content: None)
    slow = tabular.read_csv_table(path, path.name)
    monkeypatch.undo()
    return fast, slow


@pytest.mark.parametrize("content", PLAIN_CSV)
def test_plain_csv_lines_split_as_the_csv_module_does(tmp_path, monkeypatch, content):
    from fangfan.registry.importing.read import subtable as _subtable

    fast, slow = _both_ways(tmp_path, content, monkeypatch)
    assert fast.lines is not None and slow.lines is None  # the fast path was taken, and the other one
    assert fast.headers == slow.headers and fast.count == slow.count
    for position in range(len(slow.headers)):
        assert fast.column(position) == slow.column(position)
    picks = list(range(slow.count))[::-2]
    part = _subtable(fast, picks)
    assert part.lines is not None and part.count == len(picks)
    assert fast.rows == slow.rows  # the whole file, split here
    assert part.rows == [slow.rows[k] for k in picks]  # a slice, split in "its worker"
    assert part.columns() == _subtable(slow, picks).columns()


@given(
    st.lists(
        st.lists(st.text(alphabet="张三 1X,\t\u3000-", max_size=6), min_size=0, max_size=5), max_size=12
    ),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
)
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_plain_csv_lines_on_generated_files(tmp_path, monkeypatch, rows, newline, trailing):
    content = newline.join(["户编号,姓名,证件号码", *(",".join(r) for r in rows)]) + (
        newline if trailing else ""
    )
    fast, slow = _both_ways(tmp_path, content, monkeypatch)
    assert fast.headers == slow.headers
    assert fast.rows == slow.rows


@pytest.mark.parametrize(
    "content",
    ['户编号,姓名\n1,"张,三"\n', "户编号,姓名\n1,张\r三\n", "\n户编号,姓名\n1,张三\n", ""],
)
def test_csv_with_quotes_or_stray_returns_goes_the_csv_module_way(tmp_path, content):
    from fangfan.core import tabular

    path = tmp_path / "成员信息.csv"
    path.write_bytes(content.encode("utf-8"))
    try:
        table = tabular.read_csv_table(path, path.name)
    except (
        ValidationFailed
    ) as exc:  # only the csv module refuses a file: "文件是空的", a line break in a cell
        assert "文件是空的" in str(exc) or "不是正确的 CSV 格式" in str(exc)
        return
    assert table.lines is None


def test_plain_csv_in_gb18030(tmp_path, monkeypatch):
    fast, slow = _both_ways(tmp_path, "户编号,姓名\n1,张三\n2,李四\n", monkeypatch, encoding="gb18030")
    assert fast.lines is not None and fast.rows == slow.rows == [(2, ["1", "张三"]), (3, ["2", "李四"])]
