"""A small town for the ledger and monthly-report tests: households of every kind in two villages of 桃溪镇 and one
of the neighbouring town, with risk points, measures, helpers, contacts, tasks and monthly history."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from assistance_factory import measure, risk
from conftest import NEIGHBOUR_VILLAGE, OTHER_VILLAGE, VILLAGE
from django.utils import timezone
from registry_factory import make_household

from fangfan.assistance.models import ContactRecord
from fangfan.registry.models import HelperAssignment

_numbers = itertools.count(1)

# (household_type, exited_class, monitoring_type, monitoring_state, identified, eliminated)
KINDS = [
    ("general", "", "marginal", "monitoring", "this", ""),
    ("general", "", "marginal", "eliminated", "202401", "last"),
    ("general", "", "sudden", "monitoring", "last", ""),
    ("exited", "monitored", "unstable", "monitoring", "202406", ""),
    ("exited", "enjoying", "", "", "", ""),
    ("exited", "not_enjoying", "", "", "", ""),
    ("exited", "", "", "", "", ""),
    ("general", "", "", "", "", ""),
]


def _month(key: str, today: date) -> str:
    first = today.replace(day=1)
    if key == "this":
        return f"{first:%Y%m}"
    if key == "last":
        return f"{(first - timedelta(days=1)):%Y%m}"
    return key


def build(users, *, per_kind: int = 2) -> dict:
    """Returns {"households": [...], "risks": [...], "measures": [...]}."""
    today = timezone.localdate()
    station, helper = users["town_station"], users["helper"]
    made = {"households": [], "risks": [], "measures": []}
    for village in (VILLAGE, OTHER_VILLAGE, NEIGHBOUR_VILLAGE):
        for kind_no, (htype, eclass, mtype, mstate, ident, elim) in enumerate(KINDS):
            for copy in range(per_kind):
                hh = make_household(
                    f"{village}{next(_numbers):06d}",
                    village,
                    household_type=htype,
                    exited_class=eclass,
                    monitoring_type=mtype,
                    monitoring_state=mstate,
                    identified_month=_month(ident, today),
                    eliminated_month=_month(elim, today),
                    members=[
                        (f"户主{kind_no}{copy}", date(1970, 1, 1), "户主"),
                        ("成员", date(2000, 1, 1), "之子"),
                    ][: 1 + copy],
                )
                made["households"].append(hh)
                actor = station if village != NEIGHBOUR_VILLAGE else users["neighbour_station"]
                if mtype and copy == 0:
                    rp = risk(hh, actor, risk_type="illness")
                    made["risks"].append(rp)
                    made["measures"].append(measure(hh, actor, risk_point=rp))
                    made["measures"].append(measure(hh, actor, code="medical_aid", state="done"))
                if (htype == "exited" or mtype) and copy == 0 and village == VILLAGE:
                    HelperAssignment.objects.create(household=hh, helper=helper, started_on=today)
                    ContactRecord.objects.create(
                        household=hh,
                        contacted_on=today.replace(day=1),
                        way=ContactRecord.Way.VISIT,
                        living="生活正常",
                        recorded_by=helper,
                    )
    # one cancelled monitored household: in no ledger
    made["cancelled"] = make_household(
        f"{VILLAGE}{next(_numbers):06d}",
        VILLAGE,
        monitoring_type="marginal",
        monitoring_state="monitoring",
        identified_month=_month("this", today),
        cancelled=True,
    )
    return made
