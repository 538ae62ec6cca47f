"""Warnings and risk points for tests: a warning as the screening engine inserts it (pending, no task yet), a risk
point through the service that registers one (as the town station would)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from django.utils import timezone

from fangfan.monitoring.models import EarlyWarning, RiskPoint

_serial = itertools.count(1)


def warning(
    household,
    *,
    rule_code: str | None = None,
    risk_type: str = "illness",
    source: str = "medical",
    channel: str = "department",
    kind: str = "risk",
    explanation: str = "",
    created_at: datetime | None = None,
    evidence: dict | None = None,
) -> EarlyWarning:
    """A pending warning as the screening engine inserts it (no task yet): a 医保 hit unless told otherwise."""
    n = next(_serial)
    return EarlyWarning.objects.create(
        household=household,
        region_code=household.region_id,
        rule_code=rule_code if rule_code is not None else f"TEST_RULE_{n}",
        risk_type=risk_type,
        kind=kind,
        channel=channel,
        source=source,
        dedupe_key=f"test-{n}",
        explanation=explanation or f"测试预警 {n}：住院个人自付 8000 元，超过 6000 元",
        evidence=evidence if evidence is not None else {"个人自付金额": "8000.00"},
        created_at=created_at or timezone.now(),
    )


def bundled_warning(household, **kwargs) -> EarlyWarning:
    """A warning already in its household's verification task (``warning.task_id`` set)."""
    from fangfan.accounts.models import User
    from fangfan.monitoring.services import tasks_bundle

    w = warning(household, **kwargs)
    tasks_bundle(household_ids=[household.pk], actor=User.objects.cli_account("test"))
    w.refresh_from_db()
    return w


def risk_point(household, actor, *, risk_type: str = "illness", found_on: date | None = None) -> RiskPoint:
    """An open risk point registered by ``actor`` (``assistance.services.risk_register``), found ten days ago."""
    from fangfan.assistance import services

    return services.risk_register(
        household=household,
        actor=actor,
        risk_type=risk_type,
        channel="inspection",
        found_on=found_on or timezone.localdate() - timedelta(days=10),
        description="督查暗访发现家庭成员患大病",
    )
