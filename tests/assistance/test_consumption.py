"""消费帮扶: products and sales, totals by category and channel, the household page, the 消费帮扶台账, jurisdiction."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from assistance_factory import household, product
from conftest import NEIGHBOUR_TOWN, OTHER_VILLAGE, VILLAGE
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from fangfan.assistance import consumption
from fangfan.assistance.ledger_exports import (
    CONSUMPTION_HEADERS,
    consumption_ledger_export,
    consumption_ledger_rows,
)
from fangfan.assistance.models import Product, Sale
from fangfan.core.errors import Conflict, ValidationFailed
from fangfan.core.models import AuditEvent

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def _sell(users, p, *, quantity="10", amount="800", channel="canteen", day=None, who="village_clerk"):
    return consumption.sale_record(
        actor=users[who],
        product=p,
        channel=channel,
        buyer="县人民医院食堂",
        quantity=quantity,
        amount=amount,
        day=day or TODAY(),
    )


def test_a_sale_lowers_what_is_available_and_never_below_zero(users):
    p = product(users, available="30")
    sale = _sell(users, p, quantity="20")
    assert sale.unit == "斤" and sale.household_id == p.household_id and sale.region_code == VILLAGE
    p.refresh_from_db()
    assert p.available == Decimal("10")
    with pytest.raises(Conflict, match="超过该产品的可供数量"):
        _sell(users, p, quantity="10.01")
    with pytest.raises(ValidationFailed):
        _sell(users, p, quantity="0")
    with pytest.raises(ValidationFailed, match="不能晚于今天"):
        _sell(users, p, quantity="1", day=TODAY() + timedelta(days=1))
    with pytest.raises(ValidationFailed, match="渠道"):
        _sell(users, p, quantity="1", channel="路边摊")
    assert Sale.objects.count() == 1
    assert {"consumption.product_added", "consumption.sale_recorded"} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )


def test_who_may_record(users):
    hh = household()
    for who in ("helper", "town_leader", "county_review", "department"):
        with pytest.raises(PermissionDenied):
            consumption.product_add(actor=users[who], household=hh, category="rice", name="大米", unit="斤")
    p = product(users, hh)
    with pytest.raises(PermissionDenied):
        _sell(users, p, who="neighbour_station")
    with pytest.raises(PermissionDenied):
        _sell(users, p, who="other_village_clerk")
    _sell(users, p, who="town_station")


def test_totals_by_category_and_channel(users):
    tea = product(users)
    rice = consumption.product_add(
        actor=users["town_station"],
        household=household(OTHER_VILLAGE),
        category="rice",
        name="大米",
        unit="斤",
        available="1000",
    )
    _sell(users, tea, amount="800", channel="canteen")
    _sell(users, tea, amount="200", channel="online")
    _sell(users, rice, quantity="100", amount="350", channel="canteen", who="town_station")
    totals = consumption.sales_totals(consumption.sales_for_user(users["town_station"]))
    assert totals["total"] == Decimal("1350") and totals["sales"] == 3 and totals["households"] == 2
    labels = [label for _c, label in totals["channels"]]
    by_label = {row["label"]: dict(zip(labels, row["cells"], strict=True)) for row in totals["rows"]}
    assert by_label["茶叶"]["单位食堂采购"] == Decimal("800") and by_label["茶叶"]["电商平台"] == Decimal(
        "200"
    )
    assert by_label["大米"]["单位食堂采购"] == Decimal("350")
    assert dict(zip(labels, totals["column_totals"], strict=True))["单位食堂采购"] == Decimal("1150")
    # The village sees its own sales only.
    village = consumption.sales_totals(consumption.sales_for_user(users["village_clerk"]))
    assert village["total"] == Decimal("1000")


def test_the_summary_page_and_its_chart(client, users):
    _sell(users, product(users), amount="800")
    client.force_login(users["town_leader"])
    response = client.get(reverse("assistance:consumption"))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-chart="consumption-chart"' in page and 'id="consumption-chart"' in page
    chart = json.loads(
        response.context["totals"]["chart"] and json.dumps(response.context["totals"]["chart"])
    )
    assert chart["xAxis"]["data"] == ["茶叶"] and chart["series"][0]["name"] == "单位食堂采购"
    assert page.count('data-testid="sale-row"') == 1
    month = TODAY().strftime("%Y-%m")
    assert (
        client.get(reverse("assistance:consumption"), {"month": month, "village": VILLAGE}).status_code == 200
    )


def test_the_household_page_shows_its_sales(client, users):
    hh = household()
    p = product(users, hh)
    _sell(users, p, amount="123.45")
    client.force_login(users["village_clerk"])
    page = client.get(reverse("registry:household_detail", args=[hh.pk])).content.decode()
    assert 'data-testid="household-sales"' in page and "123.45" in page and "舒城小兰花" in page
    assert 'data-testid="add-sale"' in page
    client.force_login(users["helper"])
    page = client.get(reverse("registry:household_detail", args=[hh.pk])).content.decode()
    assert "123.45" in page and 'data-testid="add-sale"' not in page


def test_the_forms(client, users):
    hh = household()
    client.force_login(users["village_clerk"])
    url = reverse("assistance:product_add", args=[hh.pk])
    assert client.get(url).status_code == 200
    data = {"category": "eggs", "name": "土鸡蛋", "unit": "枚", "available": "500", "season": "全年"}
    assert client.post(url, data).status_code == 302
    p = Product.objects.get(name="土鸡蛋")
    sale_url = reverse("assistance:sale_add", args=[p.pk])
    assert client.get(sale_url).status_code == 200
    sale = {
        "channel": "fair",
        "buyer": "县展销会",
        "quantity": "600",
        "amount": "900",
        "day": TODAY().isoformat(),
    }
    response = client.post(sale_url, sale)
    assert response.status_code == 422 and "可供数量" in response.content.decode()
    assert client.post(sale_url, {**sale, "quantity": "300"}).status_code == 302
    assert Sale.objects.get().quantity == Decimal("300")


def test_a_neighbouring_towns_users_get_404_on_every_sale_url(client, users, make_user):
    hh = household()
    p = product(users, hh)
    urls = [reverse("assistance:product_add", args=[hh.pk]), reverse("assistance:sale_add", args=[p.pk])]
    for user in (users["neighbour_station"], users["neighbour_clerk"]):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 404, url
            assert client.post(url, {}).status_code == 404, url
    client.force_login(make_user("town_leader", NEIGHBOUR_TOWN, username="nl"))
    _sell(users, p)
    assert "舒城小兰花" not in client.get(reverse("assistance:consumption")).content.decode()


def test_the_ledger_rows_and_its_print_settings(users):
    watched = household(monitoring_type="marginal", monitoring_state="monitoring")
    plain = household(OTHER_VILLAGE)
    first = _sell(
        users,
        product(users, plain, who="town_station"),
        amount="50",
        day=TODAY() - timedelta(days=1),
        who="town_station",
    )
    second = _sell(users, product(users, watched), quantity="2.5", amount="75.5")
    rows = consumption_ledger_rows(users["town_station"])
    # Monitored households first, then by date.
    expected = [
        [
            1,
            "东风村",
            watched.number,
            watched.head_name,
            "舒城小兰花",
            "单位食堂采购",
            Decimal("2.5"),
            "斤",
            Decimal("75.5"),
            second.day.isoformat(),
        ],
        [
            2,
            "新河村",
            plain.number,
            plain.head_name,
            "舒城小兰花",
            "单位食堂采购",
            Decimal("10"),
            "斤",
            Decimal("50"),
            first.day.isoformat(),
        ],
    ]
    assert rows == expected
    assert consumption_ledger_rows(users["town_station"], VILLAGE) == [expected[0][:]]
    assert consumption_ledger_rows(users["neighbour_station"]) == []
    out = io.BytesIO()
    assert consumption_ledger_export(actor=users["town_station"], path=out, month=TODAY()) >= 1
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(out.getvalue())).get_sheet_by_index(0).to_python()
    assert "消费帮扶台账" in sheet[0][0] and sheet[1] == CONSUMPTION_HEADERS
    assert sheet[2][2] == watched.number and sheet[2][6] == 2.5 and sheet[2][8] == 75.5
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
        book = z.read("xl/workbook.xml").decode()
    assert 'orientation="landscape"' in xml and 'fitToPage="1"' in xml and "<oddFooter>" in xml
    assert "_xlnm.Print_Titles" in book


def test_the_ledger_export_page(client, users):
    _sell(users, product(users))
    client.force_login(users["village_clerk"])
    response = client.get(reverse("assistance:consumption_export"), {"month": TODAY().strftime("%Y-%m")})
    assert response.status_code == 200
    sheet = CalamineWorkbook.from_filelike(
        io.BytesIO(b"".join(response.streaming_content))
    ).get_sheet_by_index(0)
    assert len(sheet.to_python()) == 3
