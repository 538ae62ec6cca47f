"""Every figure on a start page equals the count of the list its link opens — for a village clerk, a helper, a town
station and a county user, on the demo's generated data (every category of the dashboard present, warnings
screened and a month of them settled)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from conftest import operator
from django.test import Client
from django.urls import reverse

from fangfan.demo.accounts import DONGFENG
from fangfan.demo.backlog import demo_backlog
from fangfan.demo.department_data import demo_department_batches
from fangfan.demo.generator import demo_generate
from fangfan.monitoring.screening import screening_run
from fangfan.registry.filters import CATEGORIES, category_q
from fangfan.registry.models import Household

pytestmark = pytest.mark.django_db
SEED = 3

MISSING_CATEGORY = {
    "not_enjoying": {"household_type": "exited", "exited_class": "not_enjoying", "monitoring_type": ""},
    "enjoying": {"household_type": "exited", "exited_class": "enjoying", "monitoring_type": ""},
    "monitored": {
        "household_type": "exited",
        "exited_class": "monitored",
        "monitoring_type": "unstable",
        "monitoring_state": "monitoring",
    },  # fmt: skip
    "exited_unclassified": {"household_type": "exited", "exited_class": "", "monitoring_type": ""},
    "marginal": {
        "household_type": "general",
        "exited_class": "",
        "monitoring_type": "marginal",
        "monitoring_state": "monitoring",
    },  # fmt: skip
    "sudden": {
        "household_type": "general",
        "exited_class": "",
        "monitoring_type": "sudden",
        "monitoring_state": "monitoring",
    },  # fmt: skip
}


@pytest.fixture
def demo():
    demo_generate(households=300, seed=SEED, actor=operator())
    # Every category in the clerk's village (a small demo may lack one): a general household takes it on.
    for key, _label in CATEGORIES:
        village = Household.objects.filter(region_id=DONGFENG, cancelled=False)
        if key != "general" and not village.filter(category_q(key)).exists():
            pk = village.filter(category_q("general")).order_by("pk").values_list("pk", flat=True).first()
            Household.objects.filter(pk=pk).update(**MISSING_CATEGORY[key])
    demo_department_batches(seed=SEED)
    screening_run(actor=operator())
    demo_backlog(seed=SEED)


def _count(client: Client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    page = response.context["page"]
    return page.paginator.count if hasattr(page, "paginator") else page.count


def _figures(client: Client) -> list[tuple[str, int, str]]:
    """(what, figure, link) for every linked figure on the start page."""
    figures = []
    for panel in client.get(reverse("home")).context["panels"]:
        for card in panel.get("cards", []):
            figures.append((card["label"], card["value"], card["url"]))
        for row in panel.get("rows", []):
            for (key, _label), cell in zip(CATEGORIES, row["cells"], strict=True):
                figures.append((f"{row['name']} {key}", cell["n"], cell["url"]))
            figures.append((f"{row['name']} 监测对象", row["at_risk"]["n"], row["at_risk"]["url"]))
            figures.append((f"{row['name']} 建议不一致", row["differs"]["n"], row["differs"]["url"]))
            figures.append((f"{row['name']} 合计", row["total"], row["url"]))
        for (key, _label), cell in zip(CATEGORIES, panel.get("column_totals", []), strict=False):
            figures.append((f"合计 {key}", cell["n"], cell["url"]))
        if "at_risk_total" in panel:
            figures.append(("合计 监测对象", panel["at_risk_total"]["n"], panel["at_risk_total"]["url"]))
            figures.append(("合计 农户", panel["households"], panel["list_url"]))
    return figures


@pytest.mark.parametrize("username", ["dongfeng_clerk", "dongfeng_helper", "taoxi_station", "county_review"])
def test_every_figure_equals_the_list_it_opens(demo, username):
    from fangfan.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    figures = _figures(client)
    assert len(figures) > 10
    checked = 0
    for what, figure, url in figures:
        if not url:
            assert figure == 0, what  # a zero is plain text
            continue
        if what == "在册人口":
            continue  # people, not households: the list counts households
        assert urlsplit(url).path, what
        assert _count(client, url) == figure, f"{username}: {what} {figure} ≠ its list ({url})"
        checked += 1
    assert checked > 5


def test_the_clerk_sees_every_category_and_the_monitored_reconcile(demo):
    from fangfan.accounts.models import User
    from fangfan.reports.dashboard import registry_dashboard_context

    context = registry_dashboard_context(User.objects.get(username="dongfeng_clerk"))
    (row,) = context["rows"]
    assert all(cell["n"] > 0 for cell in row["cells"])
    # The card is the table's column, and every one of them has an open risk point (the warnings panel's count).
    assert context["monitoring"] == row["at_risk"]["n"] > 0
