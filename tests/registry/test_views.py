"""Household pages: the list (jurisdiction, filters, search, sort, paging, htmx fragment, constant query count),
the household page (masked IDs, audited reveal, income formula, three-state indicators, history), and 404 for a
neighbour on every household URL."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from registry_factory import make_household

from fangfan.core.models import AuditEvent
from fangfan.registry.models import Household

VILLAGE = "341523104201"  # 东风村
OTHER_VILLAGE = "341523104202"  # 新河村
NEIGHBOUR_VILLAGE = "341523105201"  # 复元村 (千人桥镇)
LIST = reverse("registry:household_list")


@pytest.fixture
def homes(users):
    """Households in the clerk's village, another village of the town, and the neighbouring town."""
    return {
        "zhang": make_household(
            "H-DF-001",
            VILLAGE,
            members=[
                ("张三丰", date(1968, 3, 1), "户主"),
                ("李秀英", date(1970, 7, 9), "配偶", {"female": True}),
                ("张小明", date(2012, 5, 20), "之子", {"school_status": "小学"}),
            ],
            income={"wage_income": Decimal("9000"), "transfer_income": Decimal("3000")},
        ),
        "wang": make_household(
            "H-DF-002",
            VILLAGE,
            members=[("王大力", date(1955, 1, 2), "户主", {"health": "患有大病"})],
            household_type="exited",
            exited_class="enjoying",
            income={"wage_income": Decimal("4500")},
        ),
        "other": make_household("H-XH-001", OTHER_VILLAGE, members=[("张三", date(1980, 1, 1), "户主")]),
        "neighbour": make_household(
            "H-FY-001", NEIGHBOUR_VILLAGE, members=[("张山", date(1981, 1, 1), "户主")]
        ),
    }


def _numbers(response) -> list[str]:
    return [h.number for h in response.context["page"].rows]


def test_village_clerk_sees_only_own_village(client, users, homes):
    client.force_login(users["village_clerk"])
    response = client.get(LIST)
    assert response.status_code == 200
    assert _numbers(response) == ["H-DF-001", "H-DF-002"]
    assert response.context["page"].count == 2
    assert "共 2 户" in response.content.decode()
    assert "<th>村</th>" not in response.content.decode()  # one village: no column repeating its name
    # A town user sees every village of the town, not the neighbouring town, with a 村 column.
    client.force_login(users["town_station"])
    response = client.get(LIST)
    assert _numbers(response) == ["H-DF-001", "H-DF-002", "H-XH-001"]
    assert "<th>村</th>" in response.content.decode()


def test_village_filter_cannot_reach_outside_jurisdiction(client, users, homes):
    client.force_login(users["town_station"])
    assert _numbers(client.get(LIST, {"village": OTHER_VILLAGE})) == ["H-XH-001"]
    assert _numbers(client.get(LIST, {"village": NEIGHBOUR_VILLAGE})) == []
    # The dropdown lists the town's villages only.
    villages = client.get(LIST).context["villages"]
    assert VILLAGE in villages and NEIGHBOUR_VILLAGE not in villages


def search(client, q: str, **params):
    """The list after searching for ``q`` the way the page does: the form is posted, and the address it leads to
    carries a token instead of the text."""
    posted = client.post(LIST, {"q": q, **params})
    assert posted.status_code == 303
    # No parameter carries the text; the token is random (a two-letter search may happen to lie inside it, which
    # is why the address is not simply searched for the text).
    query = parse_qs(urlsplit(posted["Location"]).query)
    assert "q" not in query and q not in [v for key, values in query.items() if key != "s" for v in values]
    assert [len(token) for token in query.get("s", [])] in ([], [8])
    return client.get(posted["Location"])


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("张三丰", ["H-DF-001"]),  # the head's name
        ("李秀", ["H-DF-001"]),  # the start of a member's name
        ("zsf", ["H-DF-001"]),  # pinyin initials of the head
        ("LXY", ["H-DF-001"]),  # a member's initials, any case
        ("wdl", ["H-DF-002"]),
        ("张", ["H-DF-001"]),  # 张三 and 张山 live outside the clerk's village
        ("赵", []),
    ],
)
def test_search_by_name_and_initials(client, users, homes, q, expected):
    client.force_login(users["village_clerk"])
    assert _numbers(search(client, q)) == expected


def _matched(response) -> dict[str, str]:
    return {h.number: h.matched for h in response.context["page"].rows}


def test_a_row_found_through_a_member_who_is_not_the_head_names_that_member(client, users, homes):
    """Listed under its head (张三丰), a household found by 李秀英's name, initials or ID digits says so."""
    client.force_login(users["village_clerk"])
    response = search(client, "李秀")
    assert _matched(response) == {"H-DF-001": "李秀英（配偶）"}
    assert "匹配：李秀英（配偶）" in response.content.decode()
    assert _matched(search(client, "lxy")) == {"H-DF-001": "李秀英（配偶）"}
    wife = homes["zhang"].members.get(name="李秀英")
    assert _matched(search(client, wife.id_last4))["H-DF-001"] == "李秀英（配偶）"
    assert _matched(search(client, wife.id_number)) == {"H-DF-001": "李秀英（配偶）"}
    # The head found, or the household by its 户编号: nothing more to say.
    assert _matched(search(client, "张三丰")) == {"H-DF-001": ""}
    assert _matched(search(client, "zs")) == {"H-DF-001": ""}
    assert "匹配：" not in search(client, "张三丰").content.decode()
    # Two members matching: both named (张三丰's son 张小明 and the head; only the son is not the head).
    assert _matched(search(client, "张")) == {"H-DF-001": "张小明（之子）"}


def test_search_by_last_four_id_digits(client, users, homes):
    member = homes["wang"].members.get()
    client.force_login(users["village_clerk"])
    assert _numbers(search(client, member.id_last4)) == ["H-DF-002"]
    # The same digits of a member in the neighbouring town find nothing for this clerk.
    neighbour = homes["neighbour"].members.get()
    found = _numbers(search(client, neighbour.id_last4))
    assert "H-FY-001" not in found


def test_search_by_household_number_or_whole_id_number(client, users, homes):
    """Five or more digits find the beginning of a 户编号; a whole valid ID number (as pasted: blanks, full-width
    digits, 15 digits) also finds the household of the member holding it — both within the jurisdiction only."""
    make_household("3415231042010019", VILLAGE, members=[("赵一", date(1990, 1, 1), "户主")])
    make_household("3415231042010190", VILLAGE, members=[("赵二", date(1991, 1, 1), "户主")])
    make_household("3415231042020019", OTHER_VILLAGE, members=[("赵三", date(1992, 1, 1), "户主")])
    client.force_login(users["village_clerk"])
    assert _numbers(search(client, "341523104201001")) == ["3415231042010019"]
    assert _numbers(search(client, "3415231042010")) == ["3415231042010019", "3415231042010190"]
    assert _numbers(search(client, "3415231042020019")) == []  # another village's household
    # Four digits stay the last four of an ID number, not a 户编号.
    assert _numbers(search(client, "0019")) == []

    wang = homes["wang"].members.get().id_number
    assert _numbers(search(client, wang)) == ["H-DF-002"]
    pasted = " ".join([wang[:6], wang[6:14], wang[14:]]).translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    )
    assert _numbers(search(client, pasted)) == ["H-DF-002"]
    # A 20-character 残疾人证号 is the ID number and two digits.
    assert _numbers(search(client, wang + "11")) == ["H-DF-002"]
    # The ID number of a member of another village finds nothing here, but does for the town.
    other = homes["other"].members.get().id_number
    assert _numbers(search(client, other)) == []
    client.force_login(users["town_station"])
    assert _numbers(search(client, other)) == ["H-XH-001"]
    assert _numbers(search(client, "34152310420")) == [
        "3415231042010019",
        "3415231042010190",
        "3415231042020019",
    ]
    # A member who left the household is not found by the number any more.
    member = homes["other"].members.get()
    member.status = "removed"
    member.save(update_fields=["status"])
    assert _numbers(search(client, other)) == []


def test_search_by_a_disability_card_number_whose_id_number_ends_in_x(client, users, regions):
    """残疾人证号 = the ID number + category + grade: with an X check character the X stands inside the number."""
    from fangfan.registry.idnumber import check_digit

    first17 = next(
        f"34152319600101{n:03d}" for n in range(1, 999) if check_digit(f"34152319600101{n:03d}") == "X"
    )
    make_household(
        "H-X-001", VILLAGE, members=[("孙残", date(1960, 1, 1), "户主", {"id_number": first17 + "X"})]
    )
    client.force_login(users["village_clerk"])
    assert _numbers(search(client, first17 + "X")) == ["H-X-001"]
    assert _numbers(search(client, first17 + "x42")) == ["H-X-001"]


def test_search_by_legacy_fifteen_digit_id_number(client, users, regions):
    home = make_household("H-15-001", VILLAGE, members=[("钱老", date(1950, 6, 15), "户主")])
    id18 = home.members.get().id_number
    id15 = id18[:6] + id18[8:17]  # the 1950s number before the century and the check character
    client.force_login(users["village_clerk"])
    assert _numbers(search(client, id15)) == ["H-15-001"]


def test_search_text_never_stands_in_an_address(client, users, homes):
    """A search is a name or ID digits: the form is posted, the session keeps the text, addresses carry a token —
    the redirect, htmx's pushed address, the sort, page, count and export links."""
    client.force_login(users["village_clerk"])
    posted = client.post(LIST, {"q": "张三丰", "sort": "-size"})
    assert posted.status_code == 303
    location = unquote(posted["Location"])
    assert "张三丰" not in location and re.search(r"[?&]s=[\w-]{6,16}(&|$)", location)
    page = client.get(posted["Location"])
    assert _numbers(page) == ["H-DF-001"]
    html = unquote(page.content.decode())
    assert 'value="张三丰"' in html  # the box shows what was searched
    assert not re.search(r"(href|hx-get)=\"[^\"]*张三丰", html)
    assert "q=" not in html.replace('name="q"', "")
    # The same text keeps its token; htmx gets the table and the address to show.
    fragment = client.post(LIST, {"q": "张三丰", "sort": "-size"}, headers={"HX-Request": "true"})
    assert unquote(fragment["HX-Push-Url"]) == location
    assert "<html" not in fragment.content.decode()
    # An address typed with ?q= becomes a token address.
    typed = client.get(LIST, {"q": "zsf"})
    assert typed.status_code == 302 and set(parse_qs(urlsplit(typed["Location"]).query)) == {"s"}
    assert _numbers(client.get(typed["Location"])) == ["H-DF-001"]


def test_a_search_token_from_another_session_searches_nothing(client, users, homes):
    client.force_login(users["village_clerk"])
    location = client.post(LIST, {"q": "zsf"})["Location"]
    other = Client()
    other.force_login(users["village_clerk"])
    response = other.get(location)
    assert _numbers(response) == ["H-DF-001", "H-DF-002"]
    assert "搜索条件已失效" in response.content.decode()


def test_filters(client, users, homes):
    client.force_login(users["village_clerk"])
    assert _numbers(client.get(LIST, {"household_type": "exited"})) == ["H-DF-002"]
    assert _numbers(client.get(LIST, {"exited_class": "enjoying"})) == ["H-DF-002"]
    assert _numbers(client.get(LIST, {"household_type": "bogus"})) == ["H-DF-001", "H-DF-002"]
    # 王大力: 4500 per person, below the line, seriously ill → the rules suggest 脱贫监测户.
    assert homes["wang"].suggestion == "monitored"
    assert _numbers(client.get(LIST, {"suggestion": "monitored"})) == ["H-DF-002"]
    assert _numbers(client.get(LIST, {"differs": "1"})) == ["H-DF-002"]


def test_per_capita_income_stored_sortable_and_shown(client, users, homes):
    zhang = homes["zhang"]
    assert zhang.size == 3
    assert zhang.net_income == Decimal("12000.00")
    assert zhang.per_capita_income == Decimal("4000.00")
    client.force_login(users["village_clerk"])
    assert _numbers(client.get(LIST, {"sort": "per_capita_income"})) == ["H-DF-001", "H-DF-002"]
    assert _numbers(client.get(LIST, {"sort": "-per_capita_income"})) == ["H-DF-002", "H-DF-001"]
    assert _numbers(client.get(LIST, {"sort": "-size"})) == ["H-DF-001", "H-DF-002"]
    assert _numbers(client.get(LIST, {"sort": "-number"})) == ["H-DF-002", "H-DF-001"]
    assert "4,000.00" in client.get(LIST).content.decode()


def test_htmx_request_gets_only_the_table(client, users, homes):
    client.force_login(users["village_clerk"])
    full = client.get(LIST).content.decode()
    fragment = client.post(LIST, {"q": "zsf"}, headers={"HX-Request": "true"}).content.decode()
    assert "<html" in full and 'hx-get="' in full and 'hx-push-url="true"' in full
    assert "<html" not in fragment and 'id="household-results"' in fragment
    assert "H-DF-001" in fragment and "H-DF-002" not in fragment


def _bulk(n: int, village: str = VILLAGE, start: int = 0) -> None:
    Household.objects.bulk_create(
        Household(
            number=f"B{village[-3:]}{i:05d}",
            region_id=village,
            household_type="general",
            size=1 + i % 5,
            per_capita_income=Decimal(1000 + i),
        )
        for i in range(start, start + n)
    )


def test_paging_fifty_per_page(client, users, regions):
    _bulk(120)
    client.force_login(users["village_clerk"])
    page1 = client.get(LIST).context["page"]
    assert len(page1.rows) == 50 and page1.count == 120 and page1.has_next and page1.num_pages == 3
    page3 = client.get(LIST, {"page": 3}).context["page"]
    assert len(page3.rows) == 20 and not page3.has_next and page3.number == 3
    assert page3.rows[-1].number == "B20100119"
    # A page past the end shows the last page.
    assert client.get(LIST, {"page": 99}).context["page"].number == 3
    assert client.get(LIST, {"page": "x"}).context["page"].number == 1


def test_list_without_search_is_counted_exactly_from_the_kept_counts(client, users, regions):
    _bulk(70)
    client.force_login(users["village_clerk"])
    response = client.get(LIST)
    page = response.context["page"]
    # More than a page, yet exact at once: the total comes from registry.counts, no second request.
    assert not page.capped and page.count == 70 and page.num_pages == 2 and page.has_next
    assert reverse("registry:household_count") not in response.content.decode()
    # Filters are counted from there too, and the kept counts follow every write.
    _bulk(10, start=70)
    Household.objects.filter(number__in=["B20100000", "B20100001"]).update(cancelled=True)
    assert client.get(LIST).context["page"].count == 78
    assert client.get(LIST, {"cancelled": "1"}).context["page"].count == 2
    sized = client.get(LIST, {"sort": "-size", "page": 2}).context["page"]
    sizes = [row.size for row in sized.rows]
    assert sized.count == 78 and len(sizes) == 28 and sizes == sorted(sizes, reverse=True) and sizes[-1] == 1


def test_search_counts_in_the_page_or_loads_the_exact_total_afterwards(client, users, regions):
    for i in range(70):
        make_household(f"S{i:05d}", VILLAGE, members=[(f"王建{i}", date(1980, 1, 1), "户主")])
    client.force_login(users["village_clerk"])
    # A name of two characters: its matches are counted in the page's own query, exactly.
    response = client.get(client.post(LIST, {"q": "王建"})["Location"])
    page = response.context["page"]
    assert not page.capped and page.count == 70 and page.num_pages == 2 and len(page.rows) == 50
    assert reverse("registry:household_count") not in response.content.decode()
    searched = client.post(LIST, {"q": "王建"})["Location"]
    page2 = client.get(f"{searched}&page=2").context["page"]
    assert page2.count == 70 and len(page2.rows) == 20 and not page2.has_next
    assert all(row.number.startswith("S") for row in page2.rows)  # the search held on page 2
    # A stale link past the end of a search counted exactly shows its last page, as a list without a search does
    # (test_paging_fifty_per_page).
    assert client.get(f"{searched}&page=9").context["page"].number == 2
    # One character in a village's list: its matches are read from the name index by village, counted exactly.
    page = client.get(client.post(LIST, {"q": "王"})["Location"]).context["page"]
    assert not page.capped and page.count == 70
    # A broad search (one character) over a county probes households one by one and stops after a page: the page
    # shows a floor and the exact total is loaded afterwards.
    client.force_login(users["county_review"])
    searched = client.post(LIST, {"q": "王"})["Location"]
    response = client.get(searched)
    page = response.context["page"]
    assert page.capped and page.count == 51 and page.num_pages is None and page.has_next
    assert reverse("registry:household_count") in response.content.decode()
    token = re.search(r"s=([A-Za-z0-9_-]+)", searched).group(1)
    exact = client.get(reverse("registry:household_count"), {"s": token}, headers={"HX-Request": "true"})
    assert "共 70 户" in exact.content.decode()
    assert client.get(f"{searched}&page=9").context["page"].number == 1  # past the end: the first page


def test_list_query_count_is_constant(client, users, regions, django_assert_max_num_queries):
    client.force_login(users["village_clerk"])
    _bulk(5)
    client.get(LIST)  # warm the session
    searched = client.post(LIST, {"q": "zs", "sort": "-per_capita_income"})["Location"]
    # session, user, the user's region (page header), villages, rows, count, the members the search found (named
    # under each row's head); session save (3 with savepoints);
    # PostgreSQL plans a broad search's page without parallel workers (SET LOCAL and RESET, in a savepoint here);
    # the navigation's 我的待办 badge (``workflows.selectors.waiting_badge``: the user's steps, then the count).
    with django_assert_max_num_queries(11 + (4 if connection.vendor == "postgresql" else 0)):
        client.get(searched)
    _bulk(200, start=5)
    # A later page reads its ids first, then its rows (``selectors.household_page``): one statement more; and the
    # navigation's 我的待办 badge counts the cases waiting for the clerk (``workflows.selectors.waiting_badge``).
    with django_assert_max_num_queries(12):
        client.get(LIST, {"sort": "-per_capita_income", "page": 2})


def test_cancelled_households_are_left_out(client, users, homes):
    Household.objects.filter(pk=homes["wang"].pk).update(cancelled=True)
    client.force_login(users["village_clerk"])
    assert _numbers(client.get(LIST)) == ["H-DF-001"]
    assert _numbers(client.get(LIST, {"cancelled": "1"})) == ["H-DF-002"]


def test_no_name_or_id_in_household_urls(client, users, homes):
    client.force_login(users["village_clerk"])
    body = client.get(LIST).content.decode()
    assert reverse("registry:household_detail", args=[homes["zhang"].pk]) in body
    member = homes["zhang"].members.get(is_head=True)
    assert member.id_number not in body


# --- the household page --------------------------------------------------------------------------------------


def test_detail_shows_income_formula_indicators_and_suggestion(client, users, homes):
    client.force_login(users["village_clerk"])
    response = client.get(reverse("registry:household_detail", args=[homes["wang"].pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "4,500.00 ÷ 1 = 4,500.00" in body
    assert "家庭纯收入 = 工资性收入 + 生产经营性收入 − 生产经营性支出 + 财产性收入 + 转移性收入" in body
    assert "系统建议，不改变正式分类；正式调整须经审批" in body
    assert homes["wang"].suggestion_reason in body
    # 吃穿不愁 and 饮水 not yet verified: shown as 未核实, not 否.
    assert body.count("未核实") >= 2
    member = homes["wang"].members.get()
    assert member.id_masked in body and member.id_number not in body
    # A village clerk may not see IDs whole: no reveal button.
    assert "查看完整证件号" not in body


def test_detail_outside_jurisdiction_is_404(client, users, homes):
    client.force_login(users["neighbour_clerk"])
    assert client.get(reverse("registry:household_detail", args=[homes["zhang"].pk])).status_code == 404
    client.force_login(users["other_village_clerk"])
    assert client.get(reverse("registry:household_detail", args=[homes["zhang"].pk])).status_code == 404


def test_reveal_id_is_audited_and_shown_once(client, users, homes):
    member = homes["zhang"].members.get(is_head=True)
    url = reverse("registry:member_reveal_id", args=[member.pk])
    client.force_login(users["town_station"])
    detail = client.get(reverse("registry:household_detail", args=[homes["zhang"].pk])).content.decode()
    assert "查看完整证件号" in detail and url in detail
    assert client.get(url).status_code == 405
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert member.id_number in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.filter(action="member.id_viewed").get()
    assert event.object_id == str(member.pk) and event.actor_username == users["town_station"].username
    assert member.id_number not in str(event.before) + str(event.after) + event.object_label
    # Roles without household.view_id are refused; a neighbour gets 404.
    client.force_login(users["village_clerk"])
    assert client.post(url).status_code == 403
    client.force_login(users["neighbour_station"])
    assert client.post(url).status_code == 404
    assert AuditEvent.objects.filter(action="member.id_viewed").count() == 1


@pytest.mark.parametrize("who", ["helper", "village_clerk", "town_station"])
def test_those_who_call_a_household_see_its_phone_whole_and_the_view_is_audited(client, users, homes, who):
    """The contact's monthly call (plan 四(二)2): the number whole, as a link that dials it, each time audited."""
    zhang = homes["zhang"]
    zhang.phone = "13800001234"
    zhang.save(update_fields=["phone"])
    url = reverse("registry:household_reveal_phone", args=[zhang.pk])
    client.force_login(users[who])
    page = client.get(reverse("registry:household_detail", args=[zhang.pk])).content.decode()
    assert "138****1234" in page and "13800001234" not in page and url in page
    assert client.get(url).status_code == 405
    response = client.post(url, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert (
        response.status_code == 200
        and 'href="tel:13800001234"' in body
        and "no-store" in response["Cache-Control"]
    )
    event = AuditEvent.objects.get(action="household.phone_viewed")
    assert (
        event.actor_username == users[who].username
        and "13800001234" not in str(event.after) + event.object_label
    )
    history = client.get(reverse("registry:household_detail", args=[zhang.pk])).content.decode()
    assert "查看完整联系电话" in history


def test_the_phone_stays_masked_for_everyone_else(client, users, homes):
    zhang = homes["zhang"]
    zhang.phone = "13800001234"
    zhang.save(update_fields=["phone"])
    url = reverse("registry:household_reveal_phone", args=[zhang.pk])
    client.force_login(users["town_leader"])  # reads the register, does not call households
    assert url not in client.get(reverse("registry:household_detail", args=[zhang.pk])).content.decode()
    assert client.post(url).status_code == 403
    client.force_login(users["neighbour_station"])
    assert client.post(url).status_code == 404
    # No phone registered: nothing to reveal.
    client.force_login(users["village_clerk"])
    wang = homes["wang"]
    assert (
        url.replace(str(zhang.pk), str(wang.pk))
        not in client.get(reverse("registry:household_detail", args=[wang.pk])).content.decode()
    )
    assert client.post(reverse("registry:household_reveal_phone", args=[wang.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action="household.phone_viewed").exists()


def test_a_members_own_phone_is_shown_masked_and_whole_only_to_those_who_call(client, users, homes):
    """A member's own 联系电话 (a migrant worker's): masked on the household page; whole, as a tel: link, to those
    who may call the household, each time audited without the number; for others 403, outside 404."""
    zhang = homes["zhang"]
    member = zhang.members.filter(status="active").order_by("pk").last()
    member.phone = "13900005678"
    member.save(update_fields=["phone"])
    url = reverse("registry:member_reveal_phone", args=[member.pk])
    client.force_login(users["helper"])
    page = client.get(reverse("registry:household_detail", args=[zhang.pk])).content.decode()
    assert "139****5678" in page and "13900005678" not in page and url in page
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200 and 'href="tel:13900005678"' in response.content.decode()
    event = AuditEvent.objects.get(action="member.phone_viewed")
    assert "13900005678" not in str(event.after) + event.object_label
    assert (
        "查看成员完整联系电话"
        in client.get(reverse("registry:household_detail", args=[zhang.pk])).content.decode()
    )
    client.force_login(users["town_leader"])
    page = client.get(reverse("registry:household_detail", args=[zhang.pk])).content.decode()
    assert "139****5678" in page and url not in page
    assert client.post(url).status_code == 403
    client.force_login(users["neighbour_station"])
    assert client.post(url).status_code == 404
    # A member without a phone: no line, nothing to reveal.
    other = zhang.members.filter(status="active").exclude(pk=member.pk).first()
    client.force_login(users["village_clerk"])
    assert client.post(reverse("registry:member_reveal_phone", args=[other.pk])).status_code == 404
    assert AuditEvent.objects.filter(action="member.phone_viewed").count() == 1


def test_history_shows_who_when_and_what_in_chinese(client, users, homes):
    zhang = homes["zhang"]
    clerk = users["village_clerk"]
    client.force_login(clerk)
    form = _household_post(zhang, wage_income="15000")
    response = client.post(reverse("registry:household_edit", args=[zhang.pk]), form)
    assert response.status_code == 302
    body = client.get(reverse("registry:household_detail", args=[zhang.pk])).content.decode()
    assert "修改农户信息" in body
    assert "工资性收入" in body and "9,000.00 → <strong>15,000.00</strong>" in body
    assert clerk.username in body and "村级经办" in body


def _household_post(household, **overrides) -> dict:
    data = {
        "household_type": household.household_type,
        "exit_year": household.exit_year or "",
        "grade": household.grade,
        "wage_income": household.wage_income,
        "business_income": household.business_income,
        "business_expense": household.business_expense,
        "property_income": household.property_income,
        "transfer_income": household.transfer_income,
        "compliant_self_paid": household.compliant_self_paid,
        "food_clothing_secure": "",
        "housing_grade": household.housing_grade,
        "water_safe": "",
        "note": "",
    }
    data.update(overrides)
    return data
