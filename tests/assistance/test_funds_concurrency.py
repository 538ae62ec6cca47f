"""Two payments from one fund at the same time, each covered by the balance alone but not both together: exactly
one is made, the other refused in Chinese, and the balance never goes below zero. Separate connections in two
threads, on the database under test (PostgreSQL: the UPDATE's row lock; SQLite, a file: serialised writers)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from assistance_factory import fund, fund_request
from django.db import connection, connections
from django.utils import timezone

from fangfan.assistance import funds
from fangfan.assistance.choices import EntryKind, RequestState
from fangfan.assistance.models import Fund, FundEntry, FundRequest
from fangfan.core.errors import Conflict

pytestmark = pytest.mark.usefixtures("audit_triggers_back")


def test_two_concurrent_payments_exactly_one_wins(concurrent_db, users, monkeypatch):
    f = fund(users["town_station"], balance="100")
    requests = [fund_request(users, f, amount=amount, approve=True) for amount in ("70", "60")]
    barrier = threading.Barrier(2, timeout=30)
    take = funds._take
    postgres = connection.vendor == "postgresql"

    def take_together(fund_id, amount):
        # Both payments have locked their own request and checked it before either touches the balance.
        if postgres:
            barrier.wait()
        return take(fund_id, amount)

    monkeypatch.setattr(funds, "_take", take_together)
    outcomes: dict[int, object] = {}

    def pay(req):
        try:
            if not postgres:  # SQLite: the second writer waits (busy timeout) for the first to commit
                barrier.wait()
            outcomes[req.pk] = funds.fund_pay(
                actor=users["town_station"], request=req, day=timezone.localdate(), voucher=f"付{req.pk}"
            )
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcomes[req.pk] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pay, args=(r,)) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    made = [o for o in outcomes.values() if isinstance(o, FundEntry)]
    refused = [o for o in outcomes.values() if isinstance(o, Conflict)]
    assert len(made) == 1 and len(refused) == 1, outcomes
    assert "余额不足" in refused[0].message
    f.refresh_from_db()
    assert f.balance == Decimal("100") - made[0].expense >= 0
    assert FundEntry.objects.filter(fund=f, kind=EntryKind.PAYMENT).count() == 1
    states = sorted(
        FundRequest.objects.filter(pk__in=[r.pk for r in requests]).values_list("state", flat=True)
    )
    assert states == sorted([RequestState.PAID, RequestState.APPROVED])
    assert Fund.objects.filter(balance__lt=0).count() == 0
