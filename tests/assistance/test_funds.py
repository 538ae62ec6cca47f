"""资金: balances that follow the ledger and never go negative, approval before payment, reversals as new entries,
先行救助 within the policy's limit, M8, jurisdiction, and the 资金台账 export."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

import pytest
from assistance_factory import fund, fund_request, household, measure, paid_entry
from conftest import NEIGHBOUR_TOWN, NEIGHBOUR_VILLAGE, TOWN, VILLAGE
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from fangfan.assistance import funds, services
from fangfan.assistance.choices import EntryKind, RequestState
from fangfan.assistance.ledger_exports import FUND_HEADERS, fund_ledger_export, fund_ledger_rows
from fangfan.assistance.models import Fund, FundEntry, FundRequest
from fangfan.core.errors import Conflict, ValidationFailed
from fangfan.core.models import AuditEvent
from fangfan.policy.services import policy_set

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def _hh(village: str = VILLAGE, **fields):
    """An identified household (脱贫户, 享受政策): any fund may pay it."""
    return household(village, household_type="exited", exit_year=2019, exited_class="enjoying", **fields)


def _pay(users, req, voucher="付1"):
    return funds.fund_pay(actor=users["town_station"], request=req, day=TODAY(), voucher=voucher)


def _assert_books_balance(f: Fund) -> None:
    """The fund's balance is the sum of its entries, and each entry's balance is the running sum."""
    f.refresh_from_db()
    running = Decimal(0)
    for e in FundEntry.objects.filter(fund=f).order_by("id"):
        running += e.income - e.expense
        assert e.balance_after == running
        assert running >= 0
    assert f.balance == running


# --- the balance ----------------------------------------------------------------------------------------------


def test_balance_is_receipts_minus_payments_plus_reversals(users):
    f = fund(users["town_station"], balance="1000")
    funds.fund_receive(
        actor=users["town_station"], fund=f, amount="500", day=TODAY(), voucher="收2", source="某企业捐赠"
    )
    first = paid_entry(users, f, amount="300")
    paid_entry(users, f, amount="200")
    funds.fund_reverse(
        actor=users["town_station"], entry=first, day=TODAY(), voucher="冲1", reason="重复支付"
    )
    receipt = FundEntry.objects.filter(fund=f, kind=EntryKind.RECEIPT).order_by("id").last()
    funds.fund_reverse(
        actor=users["town_station"], entry=receipt, day=TODAY(), voucher="冲2", reason="金额记错"
    )
    f.refresh_from_db()
    assert f.balance == Decimal("1000") + 500 - 300 - 200 + 300 - 500
    _assert_books_balance(f)


def test_a_payment_the_balance_does_not_cover_is_refused_and_writes_nothing(users):
    f = fund(users["town_station"], balance="100")
    req = fund_request(users, f, amount="150", approve=True)
    with pytest.raises(Conflict, match="余额不足"):
        _pay(users, req)
    req.refresh_from_db()
    f.refresh_from_db()
    assert req.state == RequestState.APPROVED and f.balance == Decimal("100")
    assert not FundEntry.objects.filter(kind=EntryKind.PAYMENT).exists()
    assert not AuditEvent.objects.filter(action="fund.paid").exists()


def test_two_payments_that_fit_alone_but_not_together_one_is_refused(users):
    """The second payment reads the balance the first left, not the one loaded before (a stale object)."""
    f = fund(users["town_station"], balance="100")
    a = fund_request(users, f, amount="80", approve=True)
    b = fund_request(users, f, amount="50", approve=True)
    stale_a, stale_b = FundRequest.objects.get(pk=a.pk), FundRequest.objects.get(pk=b.pk)
    _pay(users, stale_a)
    with pytest.raises(Conflict, match="余额不足"):
        _pay(users, stale_b)
    _assert_books_balance(f)
    assert f.balance == Decimal("20")


def test_the_database_itself_refuses_a_negative_balance(users):
    f = fund(users["town_station"], balance="10")
    with pytest.raises(IntegrityError), transaction.atomic():
        Fund.objects.filter(pk=f.pk).update(balance=Decimal("-0.01"))


# --- approval ---------------------------------------------------------------------------------------------------


def test_payment_needs_the_town_leaders_approval(users):
    f = fund(users["town_station"], balance="1000")
    req = fund_request(users, f)
    with pytest.raises(Conflict, match="尚未经镇领导小组审批"):
        _pay(users, req)
    rejected = fund_request(users, f, approve=False)
    with pytest.raises(Conflict, match="未批准"):
        _pay(users, rejected)
    funds.fund_decide(actor=users["town_leader"], request=req, approve=True)
    _pay(users, req)
    with pytest.raises(Conflict, match="已支付"):
        _pay(users, req, voucher="付2")
    assert FundEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 1


def test_only_the_town_leader_approves(users, make_user):
    f = fund(users["town_station"], balance="1000")
    req = fund_request(users, f)
    neighbour_leader = make_user("town_leader", NEIGHBOUR_TOWN, username="neighbour-leader")
    for who in ("village_clerk", "town_station", "county_review", "helper"):
        with pytest.raises(PermissionDenied):
            funds.fund_decide(actor=users[who], request=req, approve=True)
    with pytest.raises(PermissionDenied):
        funds.fund_decide(actor=neighbour_leader, request=req, approve=True)
    with pytest.raises(ValidationFailed, match="理由"):
        funds.fund_decide(actor=users["town_leader"], request=req, approve=False)
    funds.fund_decide(actor=users["town_leader"], request=req, approve=True, note="同意")
    req.refresh_from_db()
    assert req.state == RequestState.APPROVED and req.decided_by == users["town_leader"]
    with pytest.raises(Conflict):
        funds.fund_decide(actor=users["town_leader"], request=req, approve=False, note="改主意")


def test_only_the_town_station_receives_and_pays(users):
    f = fund(users["town_station"], balance="1000")
    req = fund_request(users, f, approve=True)
    for who in ("village_clerk", "town_leader", "county_review"):
        with pytest.raises(PermissionDenied):
            funds.fund_receive(actor=users[who], fund=f, amount="1", day=TODAY(), voucher="x", source="某人")
        with pytest.raises(PermissionDenied):
            funds.fund_pay(actor=users[who], request=req, day=TODAY(), voucher="x")
    with pytest.raises(PermissionDenied):
        funds.fund_pay(actor=users["neighbour_station"], request=req, day=TODAY(), voucher="x")


# --- reversal -------------------------------------------------------------------------------------------------


def test_a_reversal_is_a_new_entry_and_the_original_stays(users):
    f = fund(users["town_station"], balance="1000")
    payment = paid_entry(users, f, amount="300")
    before = FundEntry.objects.filter(pk=payment.pk).values().get()
    reversal = funds.fund_reverse(
        actor=users["town_station"], entry=payment, day=TODAY(), voucher="冲1", reason="户名错误"
    )
    assert FundEntry.objects.filter(pk=payment.pk).values().get() == before
    assert reversal.pk != payment.pk and reversal.reverses_id == payment.pk
    assert reversal.kind == EntryKind.REVERSAL and reversal.income == Decimal("300")
    assert reversal.balance_after == Decimal("1000")
    assert FundRequest.objects.get(pk=payment.request_id).state == RequestState.REVERSED
    with pytest.raises(Conflict, match="已冲正"):
        funds.fund_reverse(
            actor=users["town_station"], entry=payment, day=TODAY(), voucher="冲2", reason="再冲"
        )
    with pytest.raises(Conflict, match="不能再冲正"):
        funds.fund_reverse(
            actor=users["town_station"], entry=reversal, day=TODAY(), voucher="冲3", reason="再冲"
        )
    # Never an edit nor a delete.
    with pytest.raises(RuntimeError):
        payment.save()
    with pytest.raises(RuntimeError):
        payment.delete()
    assert AuditEvent.objects.filter(action="fund.reversed").count() == 1


def test_reversing_a_receipt_already_spent_is_refused(users):
    f = fund(users["town_station"], balance="100")
    paid_entry(users, f, amount="80")
    receipt = FundEntry.objects.get(fund=f, kind=EntryKind.RECEIPT)
    with pytest.raises(Conflict, match="余额不足"):
        funds.fund_reverse(
            actor=users["town_station"], entry=receipt, day=TODAY(), voucher="冲", reason="退回"
        )
    _assert_books_balance(f)


# --- 先行救助 and M8 ---------------------------------------------------------------------------------------------


def test_emergency_fund_pays_an_unidentified_household_within_the_limit(users):
    f = fund(users["town_station"], kind="emergency", balance="10000")
    hh = household()  # 一般农户, not a monitoring object: not identified yet
    assert not funds.is_identified(hh)
    req = fund_request(users, f, hh, amount="3000", approve=True)
    assert req.advance
    entry = _pay(users, req)
    assert entry.summary.startswith("先行救助")
    with pytest.raises(ValidationFailed, match="先行救助每案不超过 3,000.00 元"):
        fund_request(users, f, hh, amount="3000.01")
    charity = fund(users["town_station"], kind="charity", balance="10000")
    with pytest.raises(ValidationFailed, match="只有救急难基金可以先行救助"):
        fund_request(users, charity, hh, amount="100")
    # The limit is a policy parameter: the town raises it for this year.
    policy_set(
        actor=users["town_station"], key=funds.ADVANCE_KEY, region_code=TOWN, year=TODAY().year, value="5000"
    )
    assert fund_request(users, f, hh, amount="4000").advance
    # An identified household has no such limit.
    monitored = household(monitoring_type="marginal", monitoring_state="monitoring")
    assert not fund_request(users, f, monitored, amount="8000").advance


def test_a_lowered_limit_stops_an_approved_advance_at_payment(users):
    f = fund(users["town_station"], kind="emergency", balance="10000")
    req = fund_request(users, f, household(), amount="2500", approve=True)
    policy_set(
        actor=users["town_station"], key=funds.ADVANCE_KEY, region_code=TOWN, year=TODAY().year, value="2000"
    )
    with pytest.raises(ValidationFailed, match="先行救助"):
        _pay(users, req)


def test_m8_a_not_enjoying_household_needs_its_approved_exception(users):
    f = fund(users["town_station"], balance="10000")
    hh = household(household_type="exited", exit_year=2018, exited_class="not_enjoying")
    with pytest.raises(ValidationFailed, match="不享受政策"):
        fund_request(users, f, hh)
    exc = services.exception_request(
        household=hh,
        actor=users["village_clerk"],
        cause="disaster",
        problem="housing",
        reason="暴雨致房屋倒塌",
    )
    with pytest.raises(ValidationFailed, match="待镇审批"):
        fund_request(users, f, hh)
    services.exception_decide(exception=exc, actor=users["town_station"], approve=True)
    req = fund_request(users, f, hh)
    assert req.exception_id == exc.pk


def test_a_request_is_for_a_household_of_the_funds_place(users):
    f = fund(users["town_station"], balance="1000")
    other_town = fund(users["neighbour_station"], region=NEIGHBOUR_TOWN, balance="1000")
    with pytest.raises(ValidationFailed, match="不属于本户"):
        fund_request(users, other_town)
    with pytest.raises(PermissionDenied):
        funds.fund_request(
            actor=users["village_clerk"],
            fund=f,
            household=household(NEIGHBOUR_VILLAGE),
            amount="1",
            reason="x",
        )
    with pytest.raises(PermissionDenied):
        funds.fund_request(actor=users["helper"], fund=f, household=household(), amount="1", reason="x")
    hh = _hh()
    m = measure(hh, users["town_station"], code="charity_fund")
    req = fund_request(users, f, hh, measure=m)
    assert req.measure_id == m.pk
    with pytest.raises(ValidationFailed, match="不属于该农户"):
        fund_request(users, f, _hh(), measure=m)


def test_every_write_is_audited(users):
    f = fund(users["town_station"], balance="1000")
    payment = paid_entry(users, f)
    funds.fund_reverse(actor=users["town_station"], entry=payment, day=TODAY(), voucher="冲", reason="错")
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "fund.created",
        "fund.received",
        "fund.requested",
        "fund.approved",
        "fund.paid",
        "fund.reversed",
    } <= actions


# --- pages ----------------------------------------------------------------------------------------------------


def test_a_neighbouring_towns_users_get_404_on_every_fund_url(client, users, make_user):
    f = fund(users["town_station"], balance="1000")
    req = fund_request(users, f)
    entry = paid_entry(users, f)
    hh = household()
    urls = [
        ("get", reverse("assistance:fund_ledger", args=[f.pk])),
        ("get", reverse("assistance:fund_export", args=[f.pk])),
        ("get", reverse("assistance:fund_receive", args=[f.pk])),
        ("post", reverse("assistance:fund_receive", args=[f.pk])),
        ("get", reverse("assistance:fund_pay", args=[req.pk])),
        ("post", reverse("assistance:fund_pay", args=[req.pk])),
        ("get", reverse("assistance:fund_reverse", args=[entry.pk])),
        ("post", reverse("assistance:fund_reverse", args=[entry.pk])),
        ("get", reverse("assistance:fund_request_add", args=[hh.pk])),
        ("post", reverse("assistance:fund_request_add", args=[hh.pk])),
    ]
    leader_urls = [("post", reverse("assistance:fund_decide", args=[req.pk]))]
    neighbours = {
        "neighbour_station": users["neighbour_station"],
        "neighbour_clerk": users["neighbour_clerk"],
        "neighbour_leader": make_user("town_leader", NEIGHBOUR_TOWN, username="nl"),
    }
    for who, user in neighbours.items():
        client.force_login(user)
        for method, url in urls + leader_urls:
            status = getattr(client, method)(url, {}).status_code
            if user.can(_action(url)):
                assert status == 404, (who, method, url, status)
    # The fund list does not show it either.
    client.force_login(users["neighbour_station"])
    assert f.name not in client.get(reverse("assistance:fund_list")).content.decode()


def _action(url: str) -> str:
    from django.urls import resolve

    from fangfan.core.permissions import declared_permission

    return declared_permission(resolve(url).func)


def test_the_pages_from_request_to_payment(client, users):
    f = fund(users["town_station"], balance="1000", name="桃溪镇慈善关爱基金")
    hh = _hh()
    m = measure(hh, users["town_station"], code="charity_fund", amount="600")
    client.force_login(users["village_clerk"])
    page = client.get(reverse("assistance:fund_list")).content.decode()
    assert "桃溪镇慈善关爱基金" in page and "1000.00" in page
    # The village sees its town's fund but not its ledger (other villages' households).
    assert client.get(reverse("assistance:fund_ledger", args=[f.pk])).status_code == 404
    url = reverse("assistance:fund_request_add", args=[hh.pk]) + f"?measure={m.pk}"
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"fund": f.pk, "measure": m.pk, "amount": "600", "reason": "大病住院自付费用高"}
    )
    assert response.status_code == 302
    req = FundRequest.objects.get()
    assert req.measure_id == m.pk and req.state == RequestState.REQUESTED
    detail = client.get(reverse("registry:household_detail", args=[hh.pk])).content.decode()
    assert 'data-testid="household-fund-request"' in detail and "待审批" in detail
    client.force_login(users["town_leader"])
    listing = client.get(reverse("assistance:fund_requests")).content.decode()
    assert 'data-testid="approve"' in listing
    client.post(reverse("assistance:fund_decide", args=[req.pk]), {"decision": "approve", "note": ""})
    client.force_login(users["town_station"])
    assert client.get(reverse("assistance:fund_pay", args=[req.pk])).status_code == 200
    response = client.post(
        reverse("assistance:fund_pay", args=[req.pk]), {"day": TODAY().isoformat(), "voucher": "付9"}
    )
    assert response.status_code == 302
    ledger = client.get(reverse("assistance:fund_ledger", args=[f.pk])).content.decode()
    assert "400.00" in ledger and ledger.count('data-testid="entry-row"') == 2
    # A payment over the balance: the refusal on the form, in Chinese.
    big = fund_request(users, f, amount="999", approve=True)
    response = client.post(
        reverse("assistance:fund_pay", args=[big.pk]), {"day": TODAY().isoformat(), "voucher": "付10"}
    )
    assert response.status_code == 422 and "余额不足" in response.content.decode()


# --- the 资金台账 -----------------------------------------------------------------------------------------------


def _sheet(data: bytes) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def test_the_ledger_export_rows_are_the_entries_and_it_prints_on_a4_landscape(users):
    f = fund(users["town_station"], balance="1000", name="桃溪镇慈善关爱基金")
    hh = _hh()
    m = measure(hh, users["town_station"], code="charity_fund")
    req = fund_request(users, f, hh, measure=m, amount="250.5", approve=True)
    payment = _pay(users, req, voucher="付77")
    funds.fund_reverse(actor=users["town_station"], entry=payment, day=TODAY(), voucher="冲77", reason="错付")
    # Expected, built from the entries themselves.
    expected = []
    for n, e in enumerate(FundEntry.objects.filter(fund=f).order_by("id"), start=1):
        paid = e.request_id is not None
        expected.append(
            [
                n,
                e.day.isoformat(),
                e.voucher,
                e.summary,
                float(e.income) if e.income else "",
                float(e.expense) if e.expense else "",
                float(e.balance_after),
                hh.number if paid else "",
                hh.head_name if paid else "",
                "慈善关爱基金" if paid else "",
                users["town_leader"].full_name if paid else "",
            ]
        )
    assert len(expected) == 3
    assert [
        [*r[:4], *(float(v) if v != "" else "" for v in r[4:7]), *r[7:]]
        for r in fund_ledger_rows(users["town_station"], f)
    ] == expected
    out = io.BytesIO()
    assert fund_ledger_export(actor=users["town_station"], path=out, fund=f) == 3
    rows = _sheet(out.getvalue())
    assert "资金台账" in rows[0][0] and "桃溪镇慈善关爱基金" in rows[0][0]
    assert rows[1] == FUND_HEADERS
    assert [[int(r[0]), *r[1:]] for r in rows[2:]] == expected
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        book = z.read("xl/workbook.xml").decode()
    assert 'orientation="landscape"' in sheet and 'paperSize="9"' in sheet
    assert 'fitToPage="1"' in sheet and 'fitToHeight="0"' in sheet
    assert "<oddFooter>" in sheet and "&amp;P" in sheet
    assert "_xlnm.Print_Titles" in book and "$2:$2" in book
    assert AuditEvent.objects.filter(action="fund.ledger_exported").exists()


def test_the_ledger_rows_follow_the_users_jurisdiction(users):
    f = fund(users["town_station"], balance="1000")
    assert len(fund_ledger_rows(users["town_station"])) == 1
    assert fund_ledger_rows(users["neighbour_station"]) == []
    assert fund_ledger_rows(users["neighbour_station"], f) == []
    assert fund_ledger_rows(users["village_clerk"], f) == []  # the town's ledger is not the village's
    assert len(fund_ledger_rows(users["county_review"], f)) == 1


def test_the_ledger_export_page(client, users):
    f = fund(users["town_station"], balance="1000")
    client.force_login(users["town_leader"])
    response = client.get(reverse("assistance:fund_export", args=[f.pk]))
    assert response.status_code == 200
    rows = _sheet(b"".join(response.streaming_content))
    assert rows[1] == FUND_HEADERS and len(rows) == 3
