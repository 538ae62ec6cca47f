"""The town's and the county's start page: overdue items (each opening its list), the monthly figure, no chain
backlog until the approval chains exist."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from ledger_factory import build

from fangfan.assistance.models import Measure
from fangfan.monitoring.models import RiskPoint, VerificationTask

pytestmark = pytest.mark.django_db


def _value(body: str, testid: str) -> str:
    return re.search(rf'data-testid="{testid}-value">([^<]*)<', body).group(1)


def test_overdue_cards_count_what_their_lists_show(client, users):
    made = build(users, per_kind=1)
    past = timezone.localdate() - timedelta(days=40)
    RiskPoint.objects.filter(pk=made["risks"][0].pk).update(deadline=past)
    Measure.objects.filter(pk=made["measures"][0].pk).update(planned_on=past)
    hh = made["households"][0]
    VerificationTask.objects.create(household=hh, region_code=hh.region_id, due_date=past, decide_by=past)
    client.force_login(users["town_station"])
    body = client.get(reverse("home")).content.decode()
    assert _value(body, "card-late-tasks") == "1"
    assert _value(body, "card-late-risks") == "1"
    assert _value(body, "card-late-measures") == "1"
    assert 'href="/monitoring/tasks/?show=overdue"' in body
    assert 'href="/monitoring/risks/?overdue=on"' in body and 'href="/assistance/?overdue=on"' in body
    assert _value(body, "card-chain-backlog") == "0"  # the approval chains: no case open in the town
    assert reverse("reports:monthly") in body
    overdue_list = client.get("/monitoring/risks/?overdue=on").content.decode()
    assert made["risks"][0].household.number in overdue_list
    client.force_login(users["county_review"])
    assert _value(client.get(reverse("home")).content.decode(), "card-late-risks") == "1"
    client.force_login(users["village_clerk"])
    assert 'data-testid="card-late-tasks"' not in client.get(reverse("home")).content.decode()
