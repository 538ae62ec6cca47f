"""The menu groups its entries by section: a section of one entry is a plain link, a larger one a drop-down (a
town station's fourteen entries no longer fit one line and broke every label into a column of characters)."""

from __future__ import annotations

from fangfan.accounts.context_processors import menu


def _item(label, group="", active=False, count=None):
    return {"label": label, "url": f"/{label}/", "group": group, "also": (), "count": count, "active": active}


def test_a_section_of_several_entries_is_one_dropdown_a_single_entry_a_link():
    entries = menu(
        [
            _item("工作台"),
            _item("导入农户", "监测对象"),
            _item("措施落实", "帮扶措施"),
            _item("资金", "帮扶措施", active=True),
            _item("我的待办", "审批", count=3),
            _item("审批事项", "审批"),
        ]
    )
    assert [e["label"] for e in entries] == ["工作台", "导入农户", "帮扶措施", "审批"]
    assert "children" not in entries[1]  # one entry: a plain link
    assert [c["label"] for c in entries[2]["children"]] == ["措施落实", "资金"] and entries[2]["active"]
    assert entries[3]["count"] == 3 and not entries[3]["active"]


def test_a_section_with_a_capped_count_shows_it():
    """我的待办's badge stops at "99+" (``workflows.selectors.waiting_badge``): its section shows "99+" too."""
    entries = menu(
        [
            _item("我的待办", "审批", count="99+"),
            _item("审批事项", "审批", count=2),
            _item("x", "审批", count=None),
        ]
    )
    assert entries[0]["count"] == "99+"
    entries = menu([_item("审批事项", "审批", count=2), _item("我的待办", "审批", count="99+")])
    assert entries[0]["count"] == "99+"


def test_the_page_shows_the_sections_as_dropdowns(client, users):
    client.force_login(users["town_station"])
    page = client.get("/").content.decode()
    assert 'class="nav-item dropdown' in page and ">帮扶措施</span>" in page
    assert 'class="dropdown-item' in page and "措施落实" in page
