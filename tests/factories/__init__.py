"""Test factories, plain functions writing through the ORM or the services (factory_boy is no dependency): a
region, an account per role, a household with members, a warning, a risk point, a measure, an approval case.

    from factories import household, user, warning
    home = household(members=[("李四", date(1980, 1, 1), "户主")], monitoring_type="marginal")
    clerk = user("village_clerk")

Every factory needs the database (and the region tree: the ``regions`` fixture, which ``users`` pulls in)."""

from .accounts import ROLE_PLACES, one_per_role, user
from .assistance import measure
from .monitoring import bundled_warning, risk_point, warning
from .regions import region
from .registry import household, make_household, make_id, make_member, monitored
from .workflows import case

__all__ = [
    "ROLE_PLACES",
    "bundled_warning",
    "case",
    "household",
    "make_household",
    "make_id",
    "make_member",
    "measure",
    "monitored",
    "one_per_role",
    "region",
    "risk_point",
    "user",
    "warning",
]
