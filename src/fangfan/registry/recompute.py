"""Recompute the derived household figures of a whole region after a policy change (a new monitoring line moves
suggestions). Set-based reading: households and their active members are fetched chunk by chunk with two queries,
``derive`` runs in memory, and only the rows whose figures changed are written back with ``bulk_update``.

A county (250 000 households) runs as a background job (``households_recompute``); a village or a town is quick
enough to run in the request.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone

from fangfan.core import audit
from fangfan.core.jobs import job_handler
from fangfan.policy.models import PolicyValue
from fangfan.policy.services import policy_values
from fangfan.regions.codes import ancestors_of, code_range

from .derive import DERIVED_FIELDS, MemberFacts, derive
from .models import INCOME_FIELDS, INDICATOR_FIELDS, Household, Member

if TYPE_CHECKING:
    from fangfan.accounts.models import User

CHUNK = 2000
JOB_KIND = "households_recompute"

# What ``derive`` reads of a household, besides the derived fields it replaces.
_HOUSEHOLD_INPUTS = [
    "id",
    "region_id",
    "household_type",
    *INCOME_FIELDS,
    *INDICATOR_FIELDS,
]
_MEMBER_FACTS = [
    "birth_date",
    "school_status",
    "not_in_school_reason",
    "serious_illness",
    "disabled",
    "labour_skill",
    "resident_medical",
    "employee_medical",
    "is_head",
    "name",
]


def _policy_resolver(region_code: str) -> Callable[[str], dict[str, Decimal]]:
    """Policy values per village, computed once per distinct set of overriding regions (usually once for all)."""
    lo, hi = code_range(region_code)
    # Regions that carry an override: inside the scope, or above it.
    overriding = set(
        PolicyValue.objects.unscoped()
        .filter(region_id__gte=lo, region_id__lt=hi)
        .values_list("region_id", flat=True)
    ) | set(
        PolicyValue.objects.unscoped()
        .filter(region_id__in=ancestors_of(region_code))
        .values_list("region_id", flat=True)
    )
    cache: dict[str, dict[str, Decimal]] = {}

    def values_for(village: str) -> dict[str, Decimal]:
        # The deepest overriding region above (or at) the village decides its values.
        chain = [*ancestors_of(village), village]
        deciding = next((code for code in reversed(chain) if code in overriding), "")
        if deciding not in cache:
            cache[deciding] = policy_values(region_code=village)
        return cache[deciding]

    return values_for


def households_recompute_scope(
    *,
    region_code: str,
    actor: User,
    progress: Callable[[int, int, str], None] | None = None,
    chunk: int = CHUNK,
) -> int:
    """Recompute 家庭人口, 家庭纯收入, 年人均纯收入, 三保障 flags and the suggestion of every household in the
    region's subtree with the policy values in force; returns how many households changed."""
    lo, hi = code_range(region_code)
    # Unscoped: the consequence of a policy value the caller's right and jurisdiction were checked for
    # (``policy.services.policy_set``); the households are recomputed whoever may read them.
    scope = Household.objects.unscoped().filter(region_id__gte=lo, region_id__lt=hi)
    total = scope.count()
    values_for = _policy_resolver(region_code)
    done = changed = 0
    last_pk = 0
    now = timezone.now()
    while True:
        households = list(
            scope.filter(pk__gt=last_pk).order_by("pk").only(*_HOUSEHOLD_INPUTS, *DERIVED_FIELDS)[:chunk]
        )
        if not households:
            break
        last_pk = households[-1].pk
        facts: dict[int, list[MemberFacts]] = defaultdict(list)
        rows = (
            Member.objects.unscoped()
            .filter(household_id__in=[h.pk for h in households], status=Member.Status.ACTIVE)
            .values_list("household_id", *_MEMBER_FACTS)
        )
        for household_id, *values in rows:
            facts[household_id].append(MemberFacts(**dict(zip(_MEMBER_FACTS, values, strict=True))))
        dirty = []
        for household in households:
            derived = derive(household, facts.get(household.pk, ()), values_for(household.region_id))
            if any(getattr(household, key) != value for key, value in derived.items()):
                for key, value in derived.items():
                    setattr(household, key, value)
                dirty.append(household)
        if dirty:
            _write(dirty, now)
        changed += len(dirty)
        done += len(households)
        if progress is not None:
            progress(done, total, f"已计算 {done} / {total} 户")
    audit.record(
        actor,
        "households.recomputed",
        region_code=region_code,
        object_type="regions.region",
        object_id=region_code,
        object_label=region_code,
        after={"households": total, "changed": changed},
    )
    return changed


def _write(households: list[Household], now) -> None:
    """UPDATE the derived columns of changed households with one executemany (Django's ``bulk_update`` builds a
    CASE per column and row, which is many times slower for thousands of rows)."""
    fields = [Household._meta.get_field(name) for name in [*DERIVED_FIELDS, "updated_at"]]
    table = connection.ops.quote_name(Household._meta.db_table)
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    sql = f"UPDATE {table} SET {assignments} WHERE id = %s"  # noqa: S608 - identifiers from the model
    rows = []
    for household in households:
        household.updated_at = now
        values = [f.get_db_prep_save(getattr(household, f.attname), connection) for f in fields]
        rows.append([*values, household.pk])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, rows)


@job_handler(JOB_KIND)
def recompute_job(job, progress) -> dict:
    changed = households_recompute_scope(
        region_code=job.params["region_code"], actor=job.created_by, progress=progress
    )
    return {"changed": changed, "message": f"已重新计算，{changed} 户的测算结果有变化"}
