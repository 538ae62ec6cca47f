"""A measure carries its household's M8 priority (``Measure.priority``: 0 for a 监测对象 whose risk is not eliminated
or a 脱贫监测户, 1 otherwise), kept by the triggers of assistance migration 0006 whoever writes; the 措施落实 list
sorts by it and must give the order the plan's rule gives (监测对象和脱贫监测户排在最前, then the planned date)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from db_triggers import trigger_names
from django.db import connection
from django.utils import timezone
from factories import household, measure, monitored

from fangfan.assistance import selectors
from fangfan.assistance.models import Measure
from fangfan.registry.models import Household

pytestmark = pytest.mark.django_db

TRIGGERS = {
    "sqlite": {
        "assistance_measure_priority_insert",
        "assistance_measure_priority_move",
        "registry_household_priority_measures",
    },
    "postgresql": {"assistance_measure_priority_set", "registry_household_priority_measures"},
}


def stored(m: Measure) -> int:
    return Measure.objects.filter(pk=m.pk).values_list("priority", flat=True).get()


def plain_priority(h: Household) -> int:
    """The plan's rule written plainly (方案 四(一)2, M8)."""
    if h.exited_class == "monitored":
        return 0
    return 0 if h.monitoring_type and h.monitoring_state != "eliminated" else 1


def test_the_triggers_are_there_after_the_migrations():
    """A later migration that rebuilds the household or measure table on SQLite drops its triggers: it must create
    them again, or this fails."""
    assert trigger_names() >= TRIGGERS[connection.vendor]


def test_a_new_measure_takes_its_households_priority(users):
    station = users["town_station"]
    watched = measure(monitored(), station)
    exited_monitored = measure(household(household_type="exited", exited_class="monitored"), station)
    stable = measure(household(household_type="exited", exited_class="stable"), station)
    eliminated = measure(household(monitoring_type="marginal", monitoring_state="eliminated"), station)
    assert [stored(m) for m in (watched, exited_monitored, stable, eliminated)] == [0, 0, 1, 1]


def test_the_households_change_reaches_its_measures_whoever_writes_it(users):
    station = users["town_station"]
    home = monitored()
    first, second = measure(home, station), measure(home, station, code="temporary_aid")
    other = measure(monitored(), station)

    Household.objects.unscoped().filter(pk=home.pk).update(monitoring_state="eliminated")  # 风险消除
    assert (stored(first), stored(second), stored(other)) == (1, 1, 0)

    home.refresh_from_db()
    home.exited_class = "monitored"  # a full save() of the model, as a form does
    home.household_type = "exited"
    home.save()
    assert (stored(first), stored(second)) == (0, 0)

    with connection.cursor() as cursor:  # raw SQL, as a bulk path would
        cursor.execute(
            "UPDATE registry_household SET exited_class = 'stable', monitoring_type = '' WHERE id = %s",
            [home.pk],
        )
    assert (stored(first), stored(second), stored(other)) == (1, 1, 0)


def test_a_stale_or_moved_measure_is_corrected(users):
    station = users["town_station"]
    home, calm = monitored(), household()
    m = measure(home, station)
    loaded = Measure.objects.unscoped().get(pk=m.pk)
    Household.objects.unscoped().filter(pk=home.pk).update(monitoring_state="eliminated")
    loaded.note = "已联系"
    loaded.save()  # writes back the priority it loaded (0): the trigger puts the household's again
    assert stored(m) == 1

    Household.objects.unscoped().filter(pk=home.pk).update(monitoring_state="monitoring")
    Measure.objects.unscoped().filter(pk=m.pk).update(household=calm)
    assert stored(m) == 1
    Measure.objects.unscoped().filter(pk=m.pk).update(household=home)
    assert stored(m) == 0
    Measure.objects.unscoped().filter(pk=m.pk).update(priority=1)
    assert stored(m) == 0


def test_the_list_order_is_the_plans_rule(users):
    """Page by page, the list equals the measures sorted by the rule written plainly, then planned date and id,
    after households changed state under their measures."""
    station = users["town_station"]
    today = timezone.localdate()
    homes = [
        monitored(),
        household(),
        household(household_type="exited", exited_class="monitored"),
        household(),
    ]
    for n, home in enumerate(homes * 3):
        measure(home, station, planned_on=today - timedelta(days=n % 5))
    Household.objects.unscoped().filter(pk=homes[0].pk).update(monitoring_state="eliminated")
    Household.objects.unscoped().filter(pk=homes[1].pk).update(
        monitoring_type="sudden", monitoring_state="monitoring"
    )

    households = {h.pk: h for h in Household.objects.unscoped().filter(pk__in=[h.pk for h in homes])}
    expected = sorted(
        Measure.objects.unscoped().filter(household__in=homes),
        key=lambda m: (plain_priority(households[m.household_id]), m.planned_on, m.pk),
    )
    paged = selectors.PagedByIds(selectors.measure_list(station, selectors.MeasureFilters()))
    assert [m.pk for start in range(0, 12, 5) for m in paged[start : start + 5]] == [m.pk for m in expected]
