"""The writes of 资金 (plan M10 镇慈善关爱基金, M12 救急难基金, M13: every step attributable).

A fund belongs to a town or a village. Its ledger is append-only: a receipt, the payment of an approved request, a
reversal (冲正) of an earlier entry — never an edit nor a delete. A payment needs a request for a household (asked
by the village clerk or the town station) approved by the town's 镇领导小组, and is made by the town station.

The balance can never go negative: the fund's row has a CHECK ``balance >= 0``, and money leaves only through one
conditional ``UPDATE … SET balance = balance - amount WHERE id = … AND balance >= amount`` inside the payment's
transaction. On PostgreSQL the row lock that UPDATE takes makes a second, concurrent payment wait and then find the
balance lowered; on SQLite writers are serialised (``BEGIN IMMEDIATE``). Either way, of two payments that each fit
alone but not together exactly one is made; the other is refused in Chinese.

先行救助: a 救急难基金 may pay a household not identified yet (neither 脱贫户 nor 监测对象), within the policy's
per-case limit ``emergency_advance_limit``. M8: a payment is a 补贴式 help, so a 不享受政策 household needs its
approved policy exception (the same check as ``services.measure_create``).

Scoping: each service checks its actor against the fund's or request's place (``_ensure``) on an object the caller
read under the user's scope; the rows it then updates or re-reads by key say ``unscoped()``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from fangfan.core import audit
from fangfan.core.errors import Conflict, ValidationFailed
from fangfan.policy.services import policy_value
from fangfan.regions.codes import Level, code_range, level_of
from fangfan.registry.choices import HouseholdType

from .choices import EntryKind, FundKind, MeasureState, RequestState
from .models import Fund, FundEntry, FundRequest, Measure
from .services import _choice, _ensure, _exception_for, _money, _not_future, _today, is_not_enjoying

if TYPE_CHECKING:
    from fangfan.accounts.models import User

ADVANCE_KEY = "emergency_advance_limit"


def is_identified(household) -> bool:
    """Identified by the chain (识别认定): a 脱贫户, or a 监测对象 of any type."""
    return household.household_type == HouseholdType.EXITED or bool(household.monitoring_type)


def covers(fund: Fund, region_code: str) -> bool:
    """The fund's place is the household's village or the town above it."""
    lo, hi = code_range(fund.region_id)
    return lo <= region_code < hi


def _amount(value) -> Decimal:
    amount = _money(value)
    if amount is None or amount <= 0:
        raise ValidationFailed("请填写大于 0 的金额")
    return amount


def _text(value, what: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(f"请填写{what}")
    return text[:limit]


def _day(value: date | None, what: str) -> date:
    if not value:
        raise ValidationFailed(f"请填写{what}")
    _not_future(value, what)
    return value


def _yuan(value: Decimal) -> str:
    return f"{value:,.2f}"


# --- the balance: the only two places that change it --------------------------------------------------------------


def _take(fund_id: int, amount: Decimal) -> Decimal:
    """Lower the balance by ``amount`` if it has that much; the balance after, or the refusal. One conditional
    UPDATE (the database decides, not a value read earlier); the CHECK constraint is the last guard."""
    try:
        with transaction.atomic():  # a savepoint: a CHECK violation leaves the caller's transaction usable
            changed = (
                Fund.objects.unscoped()
                .filter(pk=fund_id, balance__gte=amount)
                .update(balance=F("balance") - amount)
            )
    except IntegrityError:
        changed = 0
    balance = Fund.objects.unscoped().filter(pk=fund_id).values_list("balance", flat=True).get()
    if not changed:
        raise Conflict(
            f"基金余额不足：当前余额 {_yuan(balance)} 元，本次支出 {_yuan(amount)} 元。基金余额不能为负，请先登记收入。"
        )
    return balance


def _give(fund_id: int, amount: Decimal) -> Decimal:
    Fund.objects.unscoped().filter(pk=fund_id).update(balance=F("balance") + amount)
    return Fund.objects.unscoped().filter(pk=fund_id).values_list("balance", flat=True).get()


# --- funds ----------------------------------------------------------------------------------------------------------


def fund_create(*, actor: User, name: str, kind: str, region_code: str, note: str = "") -> Fund:
    """The town station sets up a fund of the town or of one of its villages (its balance starts at 0)."""
    _ensure(actor, "fund.receive", region_code, "只有镇扶贫工作站可以设立基金")
    if level_of(region_code) not in (Level.TOWN, Level.VILLAGE):
        raise ValidationFailed("基金只能属于乡镇或村")
    name = _text(name, "基金名称", 60)
    kind = _choice(FundKind.choices, kind, "基金类别")
    with transaction.atomic():
        if Fund.objects.unscoped().filter(region_id=region_code, name=name).exists():
            raise Conflict(f"已有名为“{name}”的基金")
        fund = Fund.objects.create(
            name=name, kind=kind, region_id=region_code, note=(note or "").strip()[:300], created_by=actor
        )
        audit.record(actor, "fund.created", fund, region_code=region_code, after={"name": name, "kind": kind})
    return fund


def fund_receive(
    *, actor: User, fund: Fund, amount, day: date, voucher: str, source: str, summary: str = ""
) -> FundEntry:
    """A receipt (捐赠、财政拨付…): from whom, how much, when, with its voucher number."""
    _ensure(actor, "fund.receive", fund.region_id, "只有镇扶贫工作站可以登记基金收入")
    amount = _amount(amount)
    day = _day(day, "收款日期")
    voucher = _text(voucher, "凭证号", 40)
    source = _text(source, "来源/捐赠方", 100)
    summary = (summary or "").strip()[:300] or f"收到{source}资金"
    with transaction.atomic():
        if not Fund.objects.unscoped().filter(pk=fund.pk, active=True).exists():
            raise Conflict("该基金已停用，不能再登记收入")
        balance = _give(fund.pk, amount)
        entry = FundEntry.objects.create(
            fund=fund,
            region_code=fund.region_id,
            kind=EntryKind.RECEIPT,
            day=day,
            voucher=voucher,
            summary=summary,
            source=source,
            income=amount,
            balance_after=balance,
            created_by=actor,
        )
        audit.record(
            actor,
            "fund.received",
            fund,
            region_code=fund.region_id,
            after={"entry": entry.pk, "amount": amount, "day": day, "voucher": voucher, "balance": balance},
            note=summary,
        )
    fund.balance = balance
    return entry


# --- requests -------------------------------------------------------------------------------------------------------


def _advance_limit(household) -> Decimal:
    return policy_value(ADVANCE_KEY, region_code=household.region_id, year=_today().year)


def _check_advance(fund: Fund, household, amount: Decimal) -> bool:
    """True when this is a 先行救助 (the household is not identified yet); refused when the fund may not do that
    or the amount passes the per-case limit."""
    if is_identified(household):
        return False
    if fund.kind != FundKind.EMERGENCY:
        raise ValidationFailed(
            "该户尚未认定为脱贫户或监测对象：只有救急难基金可以先行救助，其他基金须在认定后支出"
        )
    limit = _advance_limit(household)
    if amount > limit:
        raise ValidationFailed(
            f"该户尚未认定，救急难基金先行救助每案不超过 {_yuan(limit)} 元（政策参数“救急难先行救助：每案限额”），"
            f"本次 {_yuan(amount)} 元超过限额；请先完成识别认定，或减少金额"
        )
    return True


def fund_request(
    *, actor: User, fund: Fund, household, amount, reason: str, measure: Measure | None = None
) -> FundRequest:
    """Ask for a payment to a household from a fund of its village or town, for one of its measures or for the
    household as a whole. M8 and 先行救助 are checked here (and again when paying)."""
    _ensure(actor, "fund.request", household.region_id, "您的角色不能申请基金支出")
    if household.cancelled:
        raise Conflict("该户已注销，不能申请基金支出")
    if not covers(fund, household.region_id):
        raise ValidationFailed("该基金不属于本户所在的村或乡镇")
    if not fund.active:
        raise Conflict("该基金已停用")
    amount = _amount(amount)
    reason = _text(reason, "申请事由", 300)
    if measure is not None:
        if measure.household_id != household.pk:
            raise ValidationFailed("所选帮扶措施不属于该农户")
        if measure.state == MeasureState.FAILED:
            raise Conflict("该措施未落实，不能据此申请资金")
    exception = None
    if is_not_enjoying(household):  # M8: a payment is a 补贴式 help
        exception = _exception_for(household, measure.exception if measure is not None else None)
    advance = _check_advance(fund, household, amount)
    with transaction.atomic():
        req = FundRequest.objects.create(
            fund=fund,
            household=household,
            region_code=household.region_id,
            measure=measure,
            exception=exception,
            amount=amount,
            reason=reason,
            advance=advance,
            requested_by=actor,
        )
        audit.record(
            actor,
            "fund.requested",
            req,
            after={
                "fund": fund.pk,
                "household": household.number,
                "measure": measure.pk if measure else None,
                "amount": amount,
                "advance": advance,
                "exception": exception.pk if exception else None,
            },
        )
    return req


def fund_decide(*, actor: User, request: FundRequest, approve: bool, note: str = "") -> FundRequest:
    """The town's 镇领导小组 approves a request (the town station may then pay it) or rejects it, with why."""
    _ensure(actor, "fund.approve", request.region_code, "只有镇领导小组可以审批基金支出")
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationFailed("不批准时请填写理由")
    with transaction.atomic():
        req = FundRequest.objects.lock(request)
        if req.state != RequestState.REQUESTED:
            raise Conflict(f"该申请{req.get_state_display()}，不能再审批")
        req.state = RequestState.APPROVED if approve else RequestState.REJECTED
        req.decided_by, req.decided_at, req.decision_note = actor, timezone.now(), note[:300]
        req.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        audit.record(
            actor,
            "fund.approved" if approve else "fund.rejected",
            req,
            before={"state": RequestState.REQUESTED},
            after={"state": req.state},
            note=note,
        )
    request.state, request.decided_by, request.decided_at = req.state, req.decided_by, req.decided_at
    request.decision_note = req.decision_note
    return req


def fund_pay(*, actor: User, request: FundRequest, day: date, voucher: str) -> FundEntry:
    """The town station pays an approved request: the balance falls by the amount in one conditional UPDATE (never
    below zero), the ledger gets the payment, the request becomes 已支付."""
    _ensure(actor, "fund.pay", request.region_code, "只有镇扶贫工作站可以支付")
    day = _day(day, "支付日期")
    voucher = _text(voucher, "凭证号", 40)
    with transaction.atomic():
        req = (
            FundRequest.objects.unscoped()
            .select_for_update(of=("self",))
            .select_related("fund", "household", "measure__measure_type")
            .get(pk=request.pk)
        )
        if req.state != RequestState.APPROVED:
            if req.state == RequestState.REQUESTED:
                raise Conflict("该申请尚未经镇领导小组审批，不能支付")
            raise Conflict(f"该申请{req.get_state_display()}，不能支付")
        fund = req.fund
        if not fund.active:
            raise Conflict("该基金已停用，不能支付")
        if req.advance:
            _check_advance(fund, req.household, req.amount)
        balance = _take(fund.pk, req.amount)
        what = req.measure.measure_type.name if req.measure_id else fund.get_kind_display()
        entry = FundEntry.objects.create(
            fund=fund,
            region_code=req.region_code,
            kind=EntryKind.PAYMENT,
            day=day,
            voucher=voucher,
            summary=f"{'先行救助' if req.advance else '支付'}：{what}（{req.reason}）"[:300],
            expense=req.amount,
            balance_after=balance,
            request=req,
            household=req.household,
            created_by=actor,
        )
        req.state = RequestState.PAID
        req.save(update_fields=["state"])
        audit.record(
            actor,
            "fund.paid",
            req,
            before={"state": RequestState.APPROVED},
            after={
                "state": req.state,
                "entry": entry.pk,
                "amount": req.amount,
                "day": day,
                "voucher": voucher,
                "balance": balance,
            },
        )
    request.state = req.state
    return entry


def fund_reverse(*, actor: User, entry: FundEntry, day: date, voucher: str, reason: str) -> FundEntry:
    """冲正: a new entry that undoes a receipt or a payment (the original stays as it was). Reversing a payment
    returns the money and marks its request 已冲正; reversing a receipt is refused if the balance no longer has it."""
    _ensure(actor, "fund.pay", entry.region_code, "只有镇扶贫工作站可以冲正")
    day = _day(day, "冲正日期")
    voucher = _text(voucher, "凭证号", 40)
    reason = _text(reason, "冲正原因", 200)
    with transaction.atomic():
        original = FundEntry.objects.unscoped().select_related("fund").get(pk=entry.pk)
        if original.kind == EntryKind.REVERSAL:
            raise Conflict("冲正记录不能再冲正")
        if FundEntry.objects.unscoped().filter(reverses=original).exists():  # its reversal, if any
            raise Conflict("该记录已冲正")
        if original.kind == EntryKind.PAYMENT:
            amount = original.expense
            balance = _give(original.fund_id, amount)
            money = {"income": amount}
        else:
            amount = original.income
            balance = _take(original.fund_id, amount)
            money = {"expense": amount}
        try:
            with transaction.atomic():
                reversal = FundEntry.objects.create(
                    fund=original.fund,
                    region_code=original.region_code,
                    kind=EntryKind.REVERSAL,
                    day=day,
                    voucher=voucher,
                    summary=f"冲正{original.get_kind_display()}（凭证号 {original.voucher}）：{reason}"[:300],
                    balance_after=balance,
                    request=original.request,
                    household=original.household,
                    reverses=original,
                    created_by=actor,
                    **money,
                )
        except IntegrityError:
            raise Conflict("该记录已冲正") from None
        if original.request_id:
            FundRequest.objects.unscoped().filter(pk=original.request_id).update(state=RequestState.REVERSED)
        audit.record(
            actor,
            "fund.reversed",
            original.fund,
            region_code=original.region_code,
            after={"entry": reversal.pk, "reverses": original.pk, "amount": amount, "balance": balance},
            note=reason,
        )
    return reversal


__all__ = [
    "ADVANCE_KEY",
    "covers",
    "fund_create",
    "fund_decide",
    "fund_pay",
    "fund_receive",
    "fund_request",
    "fund_reverse",
    "is_identified",
]
