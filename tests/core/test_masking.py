"""``core.masking``: the one way an ID number or phone is shown by default (DOMAIN.md §8) — never every digit — and
the same masked form on the page and in every file that leaves the system."""

from __future__ import annotations

import io
import sys
from datetime import date
from pathlib import Path

import pytest
from conftest import VILLAGE
from django.urls import reverse
from python_calamine import CalamineWorkbook
from registry_factory import make_household

from fangfan.core.masking import mask_id, mask_phone

sys.path.insert(0, str(Path(__file__).parents[1] / "monitoring"))


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("1234567", "12***67"),  # a 7-digit local number: used to show all 7 digits on the page
        ("05641234567", "056****4567"),
        ("13800138000", "138****8000"),
        ("056412345678", "056*****5678"),
        ("0564-1234567", "056*****4567"),
        ("12345678", "12****78"),
        ("123456", "******"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(phone, shown):
    assert mask_phone(phone) == shown


@pytest.mark.parametrize("digits", range(1, 21))
def test_mask_phone_never_shows_every_digit(digits):
    phone = "1234567890" * 2
    shown = mask_phone(phone[:digits])
    assert len(shown) == digits and "*" in shown
    assert sum(c != "*" for c in shown) <= max(0, digits - 3)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("110105194912310022", "110105********0022"),
        ("11010519491231002x", "110105********002X"),
        ("110105491231002", "110105*****1002"),
        ("11010519491231002X42", "110105********002X**"),  # 残疾人证号: category and grade stay hidden
        (" 110105194912310022 ", "110105********0022"),
        ("1234567890", "**********"),
        ("", ""),
    ],
)
def test_mask_id(raw, shown):
    assert mask_id(raw) == shown


@pytest.mark.django_db
@pytest.mark.parametrize("phone", ["1234567", "13800138000", "056412345678"])
def test_page_and_household_export_show_the_same_masked_phone_and_id(client, users, tmp_path, phone):
    from fangfan.registry.exporter import households_export

    household = make_household(
        "H-MASK-001", VILLAGE, members=[("张三", date(1970, 5, 1), "户主", {"phone": phone})], phone=phone
    )
    member = household.members.get()
    client.force_login(users["village_clerk"])
    page = client.get(reverse("registry:household_detail", args=[household.pk])).content.decode()
    assert mask_phone(phone) in page and phone not in page and member.id_masked in page

    path = tmp_path / "out.xlsx"
    households_export(actor=users["village_clerk"], path=path, members=True)
    book = CalamineWorkbook.from_path(str(path))
    hh_rows = book.get_sheet_by_name("农户清单").to_python()
    assert hh_rows[1][hh_rows[0].index("联系电话")] == mask_phone(phone)
    m_rows = book.get_sheet_by_name("成员信息").to_python()
    assert m_rows[1][m_rows[0].index("证件号码")] == member.id_masked == mask_id(member.id_number)
    assert m_rows[1][m_rows[0].index("联系电话")] == mask_phone(phone)

    csv_path = tmp_path / "out.csv"
    households_export(actor=users["village_clerk"], path=csv_path)
    text = csv_path.read_text(encoding="utf-8-sig")
    assert mask_phone(phone) in text and phone not in text


@pytest.mark.django_db
def test_department_page_and_unmatched_download_show_the_same_masked_id(client, users, regions, tmp_path):
    from screening_support import import_rows

    unknown = "110105491231002"  # a legacy 15-digit number: masked 6 + 5 + 4 on the page and in the file
    summary = import_rows(
        tmp_path,
        "medical",
        [{"证件号码": unknown, "姓名": "李四", "结算日期": "2026-03-01", "个人自付金额": "300"}],
        actor=users["department"],
    )
    client.force_login(users["department"])
    page = client.get(reverse("department:batch_detail", args=[summary.batch_id])).content.decode()
    download = client.get(reverse("department:batch_unmatched", args=[summary.batch_id]))
    rows = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(download.streaming_content)))
    cells = [str(c) for row in rows.get_sheet_by_index(0).to_python() for c in row]
    from fangfan.registry.idnumber import convert_15_to_18

    shown = mask_id(convert_15_to_18(unknown))  # what the 15-digit number is stored as (its 18-digit form)
    assert shown in page and shown in cells
    assert not any(unknown in c or "19491231002" in c for c in cells) and "19491231002" not in page
