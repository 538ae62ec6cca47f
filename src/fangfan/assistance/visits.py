"""A contact that updates the registry once (plan M14): what the contact learned on a visit or a call — income items,
三保障 and water indicators, members' health, schooling, labour and work months — is applied through the registry's
own edit services (their validation, version check and audit), in the same transaction as the contact record; then
the household is re-screened at once, so the page that answers shows what changed: the values, the suggestion
before and after, and the warnings the change raised.

Re-screening belongs to ``monitoring``: it registers itself with ``registry.hooks.after_visit`` when it loads, and
this module runs the registered hooks. Moved from ``registry`` with the contacts (issue 17)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction

from fangfan.core.errors import DomainError
from fangfan.registry.hooks import AFTER_VISIT
from fangfan.registry.models import INCOME_FIELDS, INDICATOR_FIELDS, Household, Member
from fangfan.registry.services import household_update, member_update

from .contacts import contact_record
from .models import ContactRecord

if TYPE_CHECKING:
    from fangfan.accounts.models import User

# What a contact may change: the figures a family tells or a visit sees, never its identity or composition.
VISIT_HOUSEHOLD_FIELDS = [*INCOME_FIELDS, *INDICATOR_FIELDS]
VISIT_MEMBER_FIELDS = ["health", "school_status", "labour_skill", "migrant_months"]
# Under the role's right to record contacts (contact, village clerk, town station): no household.edit needed.
VISIT_ACTION = "household.contact"


@dataclass
class Change:
    label: str
    before: str
    after: str


@dataclass
class VisitOutcome:
    record: ContactRecord
    changes: list[Change] = field(default_factory=list)
    suggestion_before: str = ""
    suggestion_after: str = ""
    new_warnings: list[str] = field(default_factory=list)

    @property
    def suggestion_changed(self) -> bool:
        return self.suggestion_before != self.suggestion_after


def shown(obj, name: str, value) -> str:
    """A value as the pages write it: 是 / 否 / 未核实, a choice's label, yuan without trailing zeros."""
    model_field = obj._meta.get_field(name)
    if value is None or value == "":
        return "未核实" if model_field.get_internal_type() == "BooleanField" else "（未填）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if model_field.choices:
        return str(dict(model_field.choices).get(value, value))
    if isinstance(value, Decimal):
        text = f"{value:f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


def _label(obj, name: str) -> str:
    return str(obj._meta.get_field(name).verbose_name)


def _differing(obj, data: dict) -> dict:
    return {k: v for k, v in data.items() if getattr(obj, k) != v}


def visit_record(
    *,
    household: Household,
    actor: User,
    on: date,
    way: str,
    living: str = "",
    risks: str = "",
    needs: str = "",
    risk_found: bool = False,
    household_changes: dict | None = None,
    member_changes: dict[int, dict] | None = None,
    seen: dict | None = None,
    today: date | None = None,
) -> VisitOutcome:
    """Record a contact and apply what it learned. ``household_changes``: income items and indicators;
    ``member_changes``: {member id: {health, school_status, labour_skill, migrant_months}}; only values that differ
    from the stored ones are applied. ``seen``: the ``edit_version`` each form part was filled from ("household",
    and member ids). All or nothing: a refused value or a stale version writes nothing, not even the contact."""
    household_changes = dict(household_changes or {})
    member_changes = {int(k): dict(v) for k, v in (member_changes or {}).items()}
    seen = seen or {}
    unknown = set(household_changes) - set(VISIT_HOUSEHOLD_FIELDS)
    unknown |= {k for data in member_changes.values() for k in data} - set(VISIT_MEMBER_FIELDS)
    if unknown:
        raise DomainError(f"联系记录不能修改这些信息：{'、'.join(sorted(unknown))}")
    members = {
        m.pk: m for m in household.members.filter(status=Member.Status.ACTIVE, pk__in=list(member_changes))
    }
    if set(member_changes) - set(members):
        raise DomainError("所填成员不是该户的在册成员，请刷新页面后重新填写")
    suggestion_before = household.get_suggestion_display()
    changes: list[Change] = []
    with transaction.atomic():
        record = contact_record(
            household=household,
            actor=actor,
            on=on,
            way=way,
            living=living,
            risks=risks,
            needs=needs,
            risk_found=risk_found,
            today=today,
        )
        note = f"{record.get_way_display()}了解到的变化（{on:%Y-%m-%d}）"
        data = _differing(household, household_changes)
        if data:
            changes += [
                Change(
                    _label(household, k), shown(household, k, getattr(household, k)), shown(household, k, v)
                )
                for k, v in data.items()
            ]
            household_update(
                household=household,
                actor=actor,
                data=data,
                note=note,
                seen=seen.get("household"),
                action=VISIT_ACTION,
            )
        for pk, wanted in member_changes.items():
            member = members[pk]
            data = _differing(member, wanted)
            if not data:
                continue
            changes += [
                Change(
                    f"{member.name} {_label(member, k)}",
                    shown(member, k, getattr(member, k)),
                    shown(member, k, v),
                )
                for k, v in data.items()
            ]
            member.household = household  # the one being saved: its figures are recomputed on this object
            member_update(
                member=member, actor=actor, data=data, note=note, seen=seen.get(pk), action=VISIT_ACTION
            )
    outcome = VisitOutcome(record=record, changes=changes, suggestion_before=suggestion_before)
    if changes:
        # After the commit: screening writes its own transaction and reads the registry as stored.
        for hook in AFTER_VISIT:
            outcome.new_warnings += hook(household=household, actor=actor)
    household.refresh_from_db()
    outcome.suggestion_after = household.get_suggestion_display()
    return outcome


def summary(outcome: VisitOutcome) -> str:
    """One line for a message: 已更新：工资性收入 20000 → 3000；系统建议分类 享受政策 → 脱贫监测户；新预警：…"""
    parts = ["已更新：" + "；".join(f"{c.label} {c.before} → {c.after}" for c in outcome.changes)]
    if outcome.suggestion_changed:
        parts.append(
            f"系统建议分类 {outcome.suggestion_before or '（无）'} → {outcome.suggestion_after or '（无）'}"
        )
    if outcome.new_warnings:
        parts.append("新预警：" + "、".join(outcome.new_warnings))
    return "；".join(parts)
