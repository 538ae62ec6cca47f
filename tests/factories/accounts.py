"""Accounts for tests: one per role, bound where that role works (a village role in 东风村, a town role in 桃溪镇,
the county and province roles above them), with the shared test password hashed once per hasher."""

from __future__ import annotations

import functools
import itertools

from conftest import COUNTY, PASSWORD, PROVINCE, TOWN, VILLAGE
from django.conf import settings

from fangfan.accounts.models import User
from fangfan.accounts.roles import Role

# Where each role works by default (docs/roles.md): the level its account is bound to.
ROLE_PLACES = {
    Role.VILLAGE_CLERK: VILLAGE,
    Role.HELPER: VILLAGE,
    Role.TOWN_STATION: TOWN,
    Role.TOWN_LEADER: TOWN,
    Role.DEPARTMENT: TOWN,
    Role.COUNTY_REVIEW: COUNTY,
    Role.PROVINCE_RECORD: PROVINCE,
    Role.SYS_ADMIN: COUNTY,
    Role.SEC_ADMIN: COUNTY,
    Role.AUDIT_ADMIN: COUNTY,
}

_serial = itertools.count(1)


@functools.cache
def _hashed(hasher: str) -> str:
    from django.contrib.auth.hashers import make_password

    return make_password(PASSWORD)


def user(
    role: str,
    region: str | None = None,
    *,
    username: str | None = None,
    department: str = "",
    full_name: str = "测试用户",
    **extra,
) -> User:
    """An active account of ``role`` in ``region`` (default: the role's place in ``ROLE_PLACES``); a department
    account is 医保's unless told another department. Needs the region tree (the ``regions`` fixture)."""
    if role == Role.SYSTEM:
        return User.objects.cli_account(username or "pytest")
    if role == Role.DEPARTMENT and not department:
        department = "medical"
    region = region or ROLE_PLACES[Role(role)]
    return User.objects.create(
        username=username or f"{role}-{region}-{department or 'x'}-{next(_serial)}",
        password=_hashed(settings.PASSWORD_HASHERS[0]),
        role=role,
        region_id=region,
        department=department,
        full_name=full_name,
        **extra,
    )


def one_per_role() -> dict[str, User]:
    """An account of every working and administrator role at its default place, keyed by role."""
    return {str(role): user(role) for role in ROLE_PLACES}
