"""The registry dashboard: counts per village and category over the user's jurisdiction equal a hand count."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from registry_factory import make_household

from fangfan.policy.services import policy_set
from fangfan.reports.dashboard import registry_dashboard_context, registry_dashboard_panel
from fangfan.reports.selectors import CATEGORIES

VILLAGE = "341523104201"  # 东风村
OTHER_VILLAGE = "341523104202"  # 新河村
NEIGHBOUR_VILLAGE = "341523105201"
ILL = {"health": "患有大病"}


def _one(income: int, *, ill: bool = False, size: int = 1) -> dict:
    members = [("户主甲", date(1970, 1, 1), "户主", ILL if ill else {})]
    members += [(f"成员{i}", date(1975, 1, 1), "配偶" if i == 0 else "之子") for i in range(size - 1)]
    return {"members": members, "income": {"wage_income": Decimal(income)}}


@pytest.fixture
def town(users):
    hh = {
        "a": make_household(
            "D-a", VILLAGE, household_type="exited", exited_class="not_enjoying", **_one(30000)
        ),
        "b": make_household(
            "D-b", VILLAGE, household_type="exited", exited_class="not_enjoying", **_one(20000)
        ),
        "c": make_household(
            "D-c",
            VILLAGE,
            household_type="exited",
            exited_class="monitored",
            monitoring_type="unstable",
            monitoring_state="monitoring",
            **_one(3000, ill=True),
        ),
        "d": make_household("D-d", VILLAGE, **_one(20000)),
        "e": make_household("D-e", VILLAGE, **_one(20000, size=2)),
        "f": make_household(
            "D-f", VILLAGE, monitoring_type="marginal", monitoring_state="monitoring", **_one(4000, ill=True)
        ),
        "g": make_household(
            "D-g", VILLAGE, monitoring_type="sudden", monitoring_state="eliminated", **_one(20000)
        ),
        "h": make_household("D-h", VILLAGE, cancelled=True, **_one(1000, ill=True)),
        "i": make_household(
            "D-i", OTHER_VILLAGE, household_type="exited", exited_class="enjoying", **_one(10000)
        ),
        "j": make_household("D-j", OTHER_VILLAGE, **_one(3000, ill=True)),
        "k": make_household("D-k", NEIGHBOUR_VILLAGE, **_one(3000, ill=True)),
    }
    # The suggestions the rules made, which the counts rely on.
    assert [hh[x].suggestion for x in "abcfj"] == [
        "not_enjoying",
        "enjoying",
        "monitored",
        "marginal",
        "marginal",
    ]
    return hh


def _rows(context) -> dict[str, dict]:
    keys = [key for key, _label in CATEGORIES]
    return {
        row["name"]: {
            **dict(zip(keys, [c["n"] for c in row["cells"]], strict=True)),
            "differs": row["differs"]["n"],
            "total": row["total"],
        }
        for row in context["rows"]
    }


def test_town_counts_equal_a_hand_count(users, town):
    context = registry_dashboard_context(users["town_station"])
    rows = _rows(context)
    assert len(rows) == 7  # every village of the town, also those without households
    assert rows["东风村"] == {
        "not_enjoying": 2,
        "enjoying": 0,
        "monitored": 1,
        "exited_unclassified": 0,
        "marginal": 1,
        "sudden": 1,
        "general": 2,
        "differs": 1,  # b: 不享受政策 but the rules suggest 享受政策
        "total": 7,  # the cancelled household is left out
    }
    assert rows["新河村"]["enjoying"] == 1 and rows["新河村"]["general"] == 1
    assert rows["新河村"]["differs"] == 1 and rows["新河村"]["total"] == 2  # j: suggested 边缘易致贫户
    assert sum(r["total"] for r in rows.values()) == 9
    assert context["households"] == 9
    assert context["members"] == 10
    assert context["monitoring"] == 2  # c and f; g's risk is eliminated
    assert context["below_line"] == 3  # c (3000), f (4000), j (3000) < 5000
    assert context["differs"] == 2
    assert [c["n"] for c in context["column_totals"]] == [2, 1, 1, 0, 1, 1, 3]


def test_village_clerk_sees_only_their_village(users, town):
    context = registry_dashboard_context(users["village_clerk"])
    assert [row["name"] for row in context["rows"]] == ["东风村"]
    assert context["households"] == 7 and context["below_line"] == 2


def test_county_rows_are_towns(users, town):
    context = registry_dashboard_context(users["county_review"])
    rows = _rows(context)
    assert set(rows) == {"桃溪镇", "千人桥镇"}
    assert rows["桃溪镇"]["total"] == 9 and rows["千人桥镇"]["total"] == 1
    assert context["title"] == "各乡镇农户分类统计"


def _lower_line_in_新河村(users) -> None:
    policy_set(
        actor=users["town_station"],
        key="monitoring_line",
        region_code=OTHER_VILLAGE,
        year=date.today().year,
        value=2000,
    )


def test_below_line_uses_each_villages_own_line(users, town):
    _lower_line_in_新河村(users)
    context = registry_dashboard_context(users["town_station"])
    assert context["below_line"] == 2  # j (3000) is above 新河村's own line of 2000
    assert context["line"] == Decimal("5000")


def test_roles_without_household_figures_get_nothing(users, town):
    assert registry_dashboard_context(users["sys_admin"]) == {}
    assert registry_dashboard_context(users["department"]) == {}


def test_dashboard_query_count_is_constant(users, town, django_assert_max_num_queries):
    # policy values (1), overrides inside the scope (1), the kept counts (1), below the line (1), place names (1),
    # households lacking a 帮扶责任人 (1)
    with django_assert_max_num_queries(6):
        registry_dashboard_context(users["town_station"])


def test_partial_renders_table_and_chart_without_inline_script(rf, users, town):
    request = rf.get("/")
    request.user = users["town_station"]
    panel = registry_dashboard_panel(request)
    html = render_to_string(panel["template"], {"panel": panel})
    assert 'data-chart="registry-dashboard-chart"' in html
    assert '<script id="registry-dashboard-chart" type="application/json">' in html
    assert "vendor/echarts/echarts.min.js" in html
    start = html.index('type="application/json">') + len('type="application/json">')
    option = json.loads(html[start : html.index("</script>", start)])
    series = {s["name"]: s["data"] for s in option["series"]}
    assert option["xAxis"]["data"][0] == "东风村"
    assert series["不享受政策脱贫户"][0] == 2 and series["边缘易致贫户"][0] == 1
    assert "一般农户" not in series
    # A click on a bar opens its households (app.js takes "links" out of the option).
    assert option["links"][0][0] == "/households/?village=341523104201&category=not_enjoying"
    assert len(option["links"]) == len(option["series"])
    assert 'data-testid="total-households">9<' in html
    # Every <script> is either external or JSON data.
    for chunk in html.split("<script")[1:]:
        assert 'type="application/json"' in chunk.split(">")[0] or "src=" in chunk.split(">")[0]


def _listed_total(client, url: str) -> int:
    import re

    html = client.get(url).content.decode()
    return int(re.search(r"共 (\d+) 户", html).group(1))


@pytest.mark.parametrize("role", ["town_station", "county_review", "village_clerk"])
def test_every_figure_opens_the_households_it_counts(client, users, town, role):
    """Each figure of the table (a place and category, 建议不一致, the totals) links to the household list filtered
    to exactly those households: the list's total is the figure. A town's rows are villages (``village=``), a
    county's are towns (``area=``)."""
    # A general household that is 脱贫不稳定户 counts as 一般农户 — the category, not the monitoring type, decides.
    make_household("D-u", VILLAGE, monitoring_type="unstable", monitoring_state="monitoring", **_one(20000))
    user = users[role]
    client.force_login(user)
    context = registry_dashboard_context(user)
    links = [(c["n"], c["url"]) for c in context["column_totals"] if c["url"]]
    for row in context["rows"]:
        links += [(c["n"], c["url"]) for c in (*row["cells"], row["differs"]) if c["url"]]
        links.append((row["total"], row["url"]))
    assert len(links) >= 8
    for n, url in links:
        assert _listed_total(client, url) == n, url
    if role == "county_review":
        assert any("area=341523104000" in url for _n, url in links)
    general = next(c for c in context["column_totals"] if "category=general" in c["url"])
    assert general["n"] == {"village_clerk": 3, "town_station": 4, "county_review": 5}[role]


def test_the_list_names_the_dashboards_filters_and_keeps_them(client, users, town):
    client.force_login(users["county_review"])
    url = "/households/?area=341523104000&category=marginal"
    html = client.get(url).content.decode()
    assert "范围：" in html and "统计分类：边缘易致贫户" in html and "共 1 户" in html
    assert 'type="hidden" name="category" value="marginal"' in html  # the form keeps it
    assert f'value="{VILLAGE}"' in html and f'value="{NEIGHBOUR_VILLAGE}"' not in html  # the town's villages
    assert 'href="/households/?area=341523104000"' in html  # the link that drops the category
    # The form posted (a select changed) keeps the filters it has no field for.
    response = client.post("/households/", {"area": "341523104000", "category": "marginal", "village": ""})
    assert response.status_code == 303 and "category=marginal" in response["Location"]
    # Unknown values are ignored, as for every filter (a stale bookmark still opens).
    assert _listed_total(client, "/households/?category=nonsense&area=12") == 10


def test_area_cannot_reach_outside_the_jurisdiction(client, users, town):
    client.force_login(users["village_clerk"])  # 东风村
    assert _listed_total(client, "/households/?area=341523105000") == 0  # 千人桥镇
    assert _listed_total(client, "/households/?area=341523000000") == 7  # the county: still only 东风村


@pytest.mark.parametrize("role", ["town_station", "county_review", "village_clerk"])
def test_the_cards_open_the_households_they_count(client, users, town, role):
    """监测对象（风险未消除） and 低于监测收入标准 open the list of exactly those households — the latter by the line
    in force for each household's village (新河村's own, lower line here), counted from the households since
    income is no counted column."""
    _lower_line_in_新河村(users)
    user = users[role]
    client.force_login(user)
    context = registry_dashboard_context(user)
    html = render_to_string("reports/_registry_dashboard.html", {"panel": context})
    assert 'href="/households/?at_risk=1"' in html and 'href="/households/?below_line=1"' in html
    assert _listed_total(client, "/households/?at_risk=1") == context["monitoring"]
    assert _listed_total(client, "/households/?below_line=1") == context["below_line"]
    page = client.get("/households/?below_line=1").content.decode()
    assert "年人均纯收入低于监测收入标准" in page
    # The exact total loaded afterwards (htmx) counts the same way.
    counted = client.get("/households/count/?below_line=1&at_risk=1").content.decode()
    expected = {"village_clerk": 2, "town_station": 2, "county_review": 2}[role]  # c and f: at risk and below
    assert f"共 {expected} 户" in counted, counted


def test_a_county_user_looks_at_one_town_and_its_figures_open_that_towns_households(client, users, town):
    """A town's name on the county's panel opens the panel for that town: its villages as rows, the cards and
    totals over the town only, each figure opening the households it counts; the way back names the county."""
    county = users["county_review"]
    whole = registry_dashboard_context(county)
    taoxi = next(r for r in whole["rows"] if r["code"] == "341523104000")
    assert taoxi["drill"] == "/?place=341523104000"
    context = registry_dashboard_context(county, "341523104000")
    assert context["title"] == "桃溪镇各村（社区）农户分类统计"
    assert {r["code"] for r in context["rows"]} >= {VILLAGE, OTHER_VILLAGE}
    assert all(r["code"].startswith("341523104") and r["drill"] == "" for r in context["rows"])
    assert context["households"] == 9 and context["below_line"] == 3  # 千人桥镇's household left out
    assert [p["name"] for p in context["path"]] == ["舒城县", "桃溪镇"]
    client.force_login(county)
    html = client.get("/?place=341523104000").content.decode()
    assert 'data-testid="dashboard-path"' in html and "桃溪镇各" in html
    for card in context["cards"]:
        assert "area=341523104000" in card["url"]
    links = [(c["n"], c["url"]) for r in context["rows"] for c in (*r["cells"], r["differs"]) if c["url"]]
    links += [(c["n"], c["url"]) for c in context["column_totals"] if c["url"]]
    links += [(context["below_line"], next(c["url"] for c in context["cards"] if "below_line" in c["url"]))]
    for n, url in links:
        assert _listed_total(client, url) == n, url


@pytest.mark.parametrize(
    ("role", "place"),
    [
        ("county_review", "341523105201"),  # a village: no panel of its own
        ("county_review", "341524000000"),  # another county
        ("town_station", "341523105000"),  # another town
        ("town_station", "341523104000"),  # the user's own town: the ordinary panel
        ("county_review", "abc"),
    ],
)
def test_a_place_outside_or_not_below_the_jurisdiction_shows_the_ordinary_panel(users, town, role, place):
    user = users[role]
    assert registry_dashboard_context(user, place) == registry_dashboard_context(user)
