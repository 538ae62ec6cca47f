"""帮扶措施 for tests, through the service (M8 and the catalogue apply), optionally moved on to a state."""

from __future__ import annotations

from django.utils import timezone

from fangfan.assistance import services
from fangfan.assistance.models import Measure


def measure(
    household, actor, *, code: str = "medical_aid", risk_point=None, state: str = "", **kwargs
) -> Measure:
    """A measure of the catalogue entry ``code`` planned today by ``actor``; ``state``: progressed to it (e.g.
    ``done``) with a note."""
    kwargs.setdefault("planned_on", timezone.localdate())
    m = services.measure_create(household=household, actor=actor, measure=code, risk=risk_point, **kwargs)
    if state:
        services.measure_progress(measure=m, actor=actor, state=state, note="测试说明")
    return m
