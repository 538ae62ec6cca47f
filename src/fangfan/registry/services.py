"""Writes to the registry: edits, household composition changes, seeing an ID whole. Each validates, runs in one
transaction, recomputes the household's derived figures and records an audit event."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Model, Value
from django.db.models.functions import Greatest
from django.utils.crypto import salted_hmac

from fangfan.accounts.models import User
from fangfan.accounts.roles import Role
from fangfan.core import audit
from fangfan.core.cells import phone as clean_phone
from fangfan.core.crypto import blind_index
from fangfan.core.errors import DomainError
from fangfan.core.masking import mask_id
from fangfan.policy.services import policy_values
from fangfan.regions.codes import Level
from fangfan.regions.models import Region

from . import rules
from .choices import JOIN_REASONS, LEAVE_REASONS
from .derive import derive, member_facts, name_initials
from .formats import clean_household_number, number_taken
from .idnumber import IdNumberError, parse_id
from .models import (
    INCOME_FIELDS,
    INDICATOR_FIELDS,
    CompositionChange,
    HelperAssignment,
    Household,
    Member,
)

HOUSEHOLD_EDITABLE = [
    "household_type",
    "exit_year",
    "grade",
    "phone",
    *INCOME_FIELDS,
    *INDICATOR_FIELDS,
]
MEMBER_EDITABLE = [
    "name",
    "relation",
    "education",
    "school_status",
    "not_in_school_reason",
    "health",
    "disability_category",
    "disability_grade",
    "labour_skill",
    "migrant_months",
    "migrant_place",
    "resident_medical",
    "employee_medical",
    "resident_pension",
    "dibao",
    "tekun",
    "phone",
]


def id_fields(raw: str) -> dict:
    """The stored forms of an ID number: encrypted value, blind index, masked form, and what derives from it."""
    try:
        info = parse_id(raw)
    except IdNumberError as exc:
        raise DomainError(f"证件号码无效：{exc}") from None
    return {
        "id_number": info.original if info.is_disability_card else info.id18,
        "id_index": id_index(info.id18),
        "id_masked": mask_id(info.id18),
        "id_last4": info.id18[-4:],
        "birth_date": info.birth_date,
        "sex": info.sex,
        "disability_from_card": (info.disability_category_label, info.disability_grade_label)
        if info.is_disability_card
        else None,
    }


def id_index(id18: str) -> str:
    """The blind index that finds a person by ID number (department matching uses the same)."""
    return blind_index(id18, purpose="id")


def health_flags(health: str) -> dict:
    parts = {
        p.strip() for p in (health or "").replace("，", "、").replace(",", "、").split("、") if p.strip()
    }
    return {
        "serious_illness": "患有大病" in parts,
        "chronic_illness": "长期慢性病" in parts,
        "disabled": "残疾" in parts,
    }


def _snapshot(obj: Household | Member, fields: Iterable[str]) -> dict:
    return {f: getattr(obj, f) for f in fields}


class StaleEdit(DomainError):
    """The record changed after the form was opened: saving would silently undo someone else's change."""


def edit_version(obj: Household | Member) -> str:
    """A short fingerprint of the values an edit form shows (HMAC'd: it travels in the page and covers the
    phone). A form carries the version it was filled from; the update refuses when the record's has moved on."""
    fields = HOUSEHOLD_EDITABLE if isinstance(obj, Household) else MEMBER_EDITABLE
    text = "\x1f".join("" if (v := getattr(obj, f)) is None else str(v) for f in fields)
    return salted_hmac("fangfan.registry.edit_version", text, algorithm="sha256").hexdigest()[:24]


def _check_version(obj: Household | Member, seen: str | None) -> None:
    """With ``seen`` (the version the form was filled from): the record as stored now, locked until the end of the
    transaction, must still have it."""
    if not seen:
        return
    current = type(obj).objects.lock(obj)
    if edit_version(current) != seen:
        what = "此户信息" if isinstance(obj, Household) else f"成员 {obj.name} 的信息"
        raise StaleEdit(
            f"{what}在您打开表单之后已被他人修改，您填写的内容没有保存。下面是最新的信息，请核对后重新填写。"
        )


def household_recompute(household: Household, *, values: dict[str, Decimal] | None = None) -> Household:
    """Recompute and save a household's derived figures from its active members."""
    values = values or policy_values(region_code=household.region_id)
    members = [member_facts(m) for m in household.members.filter(status=Member.Status.ACTIVE)]
    derived = derive(household, members, values)
    for key, value in derived.items():
        setattr(household, key, value)
    household.save(update_fields=[*derived, "updated_at"])
    return household


def _checked_phone(data: dict) -> dict:
    """``data`` with its phone (if any) in the import template's form; DomainError when it is not a phone."""
    if "phone" not in data:
        return data
    try:
        return {**data, "phone": clean_phone(data["phone"])}
    except ValueError as exc:
        raise DomainError(str(exc)) from None


def _household_ruled(household: Household, data: dict) -> dict:
    """The household rules every writer applies (``registry.rules``) over ``household`` as ``data`` would leave
    it, once a 一般农户 has cleared the 脱贫户 fields ``data`` did not give: DomainError naming every problem, else
    those cleared fields."""
    values = {f: data.get(f, getattr(household, f)) for f in rules.HOUSEHOLD_RULE_FIELDS}
    cleared = rules.household_cleared(values, given=data)
    problems = rules.household_problems({**values, **cleared})
    if problems:
        raise DomainError("；".join(p.message for p in problems))
    return cleared


def _ensure(
    actor: User | None, action: str, household: Household, *, outside: str = "该农户不在您的管辖范围内"
) -> User:
    """``actor``, when it may do ``action`` on ``household``; else DomainError."""
    if actor is None or not actor.can(action):
        raise DomainError("您的角色无权进行此操作")
    span = actor.jurisdiction_range()
    if span is None or not (span[0] <= household.region_id < span[1]):
        raise DomainError(outside)
    return actor


def household_update(
    *,
    household: Household,
    actor: User | None,
    data: dict,
    note: str = "",
    seen: str | None = None,
    action: str = "household.edit",
) -> Household:
    """Change a household's basic information, income items or indicators; derived figures follow. ``seen``: the
    ``edit_version`` the form was filled from (StaleEdit when the household changed since). ``action``: the role's
    right the change comes under — ``household.contact`` for what a contact learned (``assistance.visits``, which
    passes only the fields a visit may change)."""
    _ensure(actor, action, household)
    unknown = set(data) - set(HOUSEHOLD_EDITABLE)
    if unknown:
        raise DomainError(f"不可修改的字段：{'、'.join(sorted(unknown))}")
    data = _checked_phone(data)
    data = {**data, **_household_ruled(household, data)}
    before = _snapshot(household, [*data, "per_capita_income", "suggestion"])
    with transaction.atomic():
        _check_version(household, seen)
        for key, value in data.items():
            setattr(household, key, value)
        # Only the fields this edit sets: ``household`` was read before the lock, and a full save would write back
        # the fields someone else changed meanwhile outside the form (a case ending: the monitoring state).
        household.save(update_fields=[*data, "updated_at"])
        household_recompute(household)
        after = _snapshot(household, [*data, "per_capita_income", "suggestion"])
        old, new = audit.changes(before, after)
        if new:
            audit.record(actor, "household.updated", household, before=old, after=new, note=note)
    return household


def member_update(
    *,
    member: Member,
    actor: User | None,
    data: dict,
    note: str = "",
    seen: str | None = None,
    action: str = "household.edit",
) -> Member:
    """Change a member's information; ``seen`` and ``action`` as for ``household_update``."""
    household = member.household
    _ensure(actor, action, household)
    unknown = set(data) - set(MEMBER_EDITABLE)
    if unknown:
        raise DomainError(f"不可修改的字段：{'、'.join(sorted(unknown))}")
    data = _checked_phone(data)
    if "relation" in data and (data["relation"] == "户主") != member.is_head:
        raise DomainError("变更户主请使用“变更户主”功能")
    before = _snapshot(member, data)
    with transaction.atomic():
        _check_version(member, seen)
        changed = {*data, "updated_at"}
        for key, value in data.items():
            setattr(member, key, value)
        if "name" in data:
            member.name_initials = name_initials(member.name)
            changed.add("name_initials")
        if "health" in data:
            for key, value in health_flags(member.health).items():
                setattr(member, key, value)
                changed.add(key)
        member.save(update_fields=sorted(changed))  # only these: see household_update
        household_recompute(household)
        old, new = audit.changes(before, _snapshot(member, data))
        if new:
            audit.record(
                actor,
                "member.updated",
                member,
                before=old,
                after=new,
                note=note,
                region_code=household.region_id,
            )
    return member


def _new_member_ids(data: dict, reason: str) -> tuple[dict, dict]:
    """Checks shared by every new member: the reason, the phone, and an ID number found nowhere in the system.
    Returns (the member's data with its phone cleaned, the ID fields)."""
    if reason not in JOIN_REASONS:
        raise DomainError(f"增加原因应为：{'、'.join(JOIN_REASONS)}")
    data = _checked_phone(data)
    ids = id_fields(data.pop("id_number", ""))
    # Unscoped: one person belongs to one household in the whole system (plan); the message names no place.
    if Member.objects.unscoped().filter(id_index=ids["id_index"]).exists():
        raise DomainError("该证件号码已在系统中登记，同一人只能属于一户；如是迁入，请在原户办理转出")
    return data, ids


def _new_member(
    household: Household, data: dict, ids: dict, *, reason: str, on: date, actor: User | None
) -> Member:
    """Create a member (inside the caller's transaction), with its composition change and audit entry."""
    card = ids.pop("disability_from_card")
    member = Member(household=household, **ids, **{k: v for k, v in data.items() if k in MEMBER_EDITABLE})
    member.is_head = data.get("relation") == "户主"
    member.name_initials = name_initials(member.name)
    for key, value in health_flags(member.health).items():
        setattr(member, key, value)
    if card:
        member.disabled = True
        member.disability_category, member.disability_grade = card
    member.joined_reason, member.joined_date = reason, on
    member.save()
    CompositionChange.objects.create(
        kind="add", household=household, member=member, reason=reason, date=on, actor=actor
    )
    audit.record(
        actor, "member.added", member, after={"reason": reason, "date": on}, region_code=household.region_id
    )
    return member


def member_add(*, household: Household, actor: User | None, data: dict, reason: str, on: date) -> Member:
    """Add a member (birth, marriage-in, moving in); the ID must not exist anywhere in the system."""
    _ensure(actor, "household.edit", household)
    if data.get("relation") == "户主":
        raise DomainError("新增成员不能直接作为户主，请增加后使用“变更户主”")
    data, ids = _new_member_ids(data, reason)
    with transaction.atomic():
        member = _new_member(household, data, ids, reason=reason, on=on, actor=actor)
        household_recompute(household)
    return member


def household_create(
    *,
    actor: User | None,
    region_code: str,
    number: str,
    data: dict,
    head: dict,
    reason: str,
    on: date,
    note: str = "",
) -> Household:
    """Register a household the register does not hold yet (moving in, or missed so far), with its head; the
    other members are added afterwards (``member_add``). ``data``: the household's editable fields; ``head``: the
    head's name, ID number and perhaps phone. The head's ID must not exist anywhere in the system."""
    _ensure(actor, "household.edit", Household(region_id=region_code), outside="该村不在您的管辖范围内")
    if not Region.objects.filter(code=region_code, level=int(Level.VILLAGE)).exists():
        raise DomainError("请选择农户所在的村（社区）")
    try:
        number = clean_household_number(number)
    except ValueError as exc:
        raise DomainError(f"户编号：{exc}") from None
    if (
        Household.objects.unscoped().filter(number=number).exists()
    ):  # unique system-wide; says nothing of where
        raise DomainError(number_taken(number))
    unknown = set(data) - set(HOUSEHOLD_EDITABLE)
    if unknown:
        raise DomainError(f"不可填写的字段：{'、'.join(sorted(unknown))}")
    data = _checked_phone(data)
    data = {**data, **_household_ruled(Household(), data)}
    head_data, ids = _new_member_ids({**head, "relation": "户主"}, reason)
    with transaction.atomic():
        household: Household = Household.objects.create(number=number, region_id=region_code, **data)
        audit.record(actor, "household.created", household, after={"reason": reason, "date": on}, note=note)
        _new_member(household, head_data, ids, reason=reason, on=on, actor=actor)
        household_recompute(household)
    return household


def member_remove(*, member: Member, actor: User | None, reason: str, on: date) -> Member:
    """Remove a member (death, marriage-out, moving away). The row stays, marked 已减少, with reason and date.
    Removing the last active member cancels the household (注销), audited; its file and history stay."""
    household = member.household
    _ensure(actor, "household.edit", household)
    if reason not in LEAVE_REASONS:
        raise DomainError(f"减少原因应为：{'、'.join(LEAVE_REASONS)}")
    if member.status != Member.Status.ACTIVE:
        raise DomainError("该成员已减少")
    if member.is_head and household.members.filter(status=Member.Status.ACTIVE).count() > 1:
        raise DomainError("户主不能直接减少：请先变更户主")
    with transaction.atomic():
        member.status, member.left_reason, member.left_date = Member.Status.REMOVED, reason, on
        member.is_head = False
        member.save(update_fields=["status", "left_reason", "left_date", "is_head", "updated_at"])
        CompositionChange.objects.create(
            kind="remove", household=household, member=member, reason=reason, date=on, actor=actor
        )
        household_recompute(household)
        audit.record(
            actor,
            "member.removed",
            member,
            after={"reason": reason, "date": on},
            region_code=household.region_id,
        )
        if not household.members.filter(status=Member.Status.ACTIVE).exists():
            # The last member gone (整户消亡, 整户迁出): the household leaves the register, its file is kept.
            went = reason if reason != "其他" else "因其他原因减少"
            household.cancelled, household.cancelled_reason = True, f"整户减少（最后一名在册成员{went}）"
            household.save(update_fields=["cancelled", "cancelled_reason", "updated_at"])
            _release_helper(household, on, HelperAssignment.EndReason.CANCELLED)
            audit.record(
                actor,
                "household.cancelled",
                household,
                after={"reason": household.cancelled_reason, "date": on},
            )
    return member


def head_change(
    *, household: Household, new_head: Member, actor: User | None, on: date, old_head_relation: str = "其他"
) -> None:
    """Make another active member the head of household (e.g. after the head's death)."""
    _ensure(actor, "household.edit", household)
    if new_head.household_id != household.pk or new_head.status != Member.Status.ACTIVE:
        raise DomainError("新户主须是本户在册成员")
    with transaction.atomic():
        old = household.members.filter(is_head=True, status=Member.Status.ACTIVE).first()
        if old is not None:
            old.is_head, old.relation = False, old_head_relation
            old.save(update_fields=["is_head", "relation", "updated_at"])
        new_head.is_head, new_head.relation = True, "户主"
        new_head.save(update_fields=["is_head", "relation", "updated_at"])
        CompositionChange.objects.create(
            kind="head", household=household, member=new_head, date=on, actor=actor
        )
        household_recompute(household)
        audit.record(
            actor,
            "household.head_changed",
            household,
            after={"new_head": new_head.id_masked, "old_head": old.id_masked if old else ""},
        )


def household_split(
    *,
    household: Household,
    members: list[Member],
    new_number: str,
    actor: User | None,
    on: date,
    remaining_head: Member | None = None,
) -> Household:
    """Split members off into a new household in the same village; the first listed member becomes its head. When
    the head leaves, ``remaining_head`` (a member who stays) becomes the head of the household left behind."""
    _ensure(actor, "household.edit", household)
    if not members:
        raise DomainError("请选择要分出的成员")
    leaving = {m.pk for m in members}
    remaining = household.members.filter(status=Member.Status.ACTIVE).exclude(pk__in=leaving)
    if not remaining.exists():
        raise DomainError("分户后原户不能没有成员")
    if any(m.is_head for m in members):
        if remaining_head is None:
            raise DomainError("户主随新户分出，请选择原户的新户主")
        if (
            remaining_head.pk in leaving
            or remaining_head.household_id != household.pk
            or remaining_head.status != Member.Status.ACTIVE
        ):
            raise DomainError("原户的新户主须是留在原户的在册成员")
    if Household.objects.unscoped().filter(number=new_number).exists():  # unique system-wide
        raise DomainError(number_taken(new_number))
    if any(m.household_id != household.pk or m.status != Member.Status.ACTIVE for m in members):
        raise DomainError("分出的成员须是本户在册成员")
    with transaction.atomic():
        new: Household = Household.objects.create(
            number=new_number,
            region_id=household.region_id,
            household_type=household.household_type,
            exit_year=household.exit_year,
        )
        for i, member in enumerate(members):
            member.household = new
            member.is_head = i == 0
            member.relation = "户主" if i == 0 else ("其他" if member.relation == "户主" else member.relation)
            member.save(update_fields=["household", "is_head", "relation", "updated_at"])
            CompositionChange.objects.create(
                kind="split", household=household, other_household=new, member=member, date=on, actor=actor
            )
        if remaining_head is not None and remaining_head.pk not in leaving:
            remaining_head.is_head, remaining_head.relation = True, "户主"
            remaining_head.save(update_fields=["is_head", "relation", "updated_at"])
        household_recompute(household)
        household_recompute(new)
        audit.record(
            actor, "household.split", household, after={"new_household": new.number, "members": len(members)}
        )
        audit.record(actor, "household.created", new, after={"split_from": household.number})
        # The household split off keeps the person who looked after its members (an exited family stays exited;
        # plan 四(一)3: never without a 帮扶责任人); the clerk may name another afterwards.
        current = (
            household.helper_assignments.select_related("helper")
            .filter(ended_on__isnull=True, helper__is_active=True)
            .first()
        )
        if current is not None:
            HelperAssignment.objects.create(
                household=new,
                helper=current.helper,
                started_on=max(on, current.started_on),
                assigned_by=actor,
            )
            audit.record(
                actor,
                "household.helper_assigned",
                new,
                after={"helper": helper_label(current.helper), "date": max(on, current.started_on)},
                note=f"随分户沿用原户 {household.number} 的帮扶责任人",
            )
    return new


def household_merge(*, source: Household, target: Household, actor: User | None, on: date) -> Household:
    """Merge all active members of ``source`` into ``target``; the source household is marked cancelled."""
    _ensure(actor, "household.edit", source)
    _ensure(actor, "household.edit", target)
    if source.pk == target.pk:
        raise DomainError("不能与自身合户")
    if source.cancelled or target.cancelled:
        raise DomainError("已注销的农户不能合户")
    with transaction.atomic():
        for member in source.members.filter(status=Member.Status.ACTIVE):
            member.household = target
            if member.is_head:
                member.is_head, member.relation = False, "其他"
            member.save(update_fields=["household", "is_head", "relation", "updated_at"])
            CompositionChange.objects.create(
                kind="merge", household=target, other_household=source, member=member, date=on, actor=actor
            )
        source.cancelled, source.cancelled_reason = True, f"并入 {target.number}"
        source.save(update_fields=["cancelled", "cancelled_reason", "updated_at"])
        _release_helper(source, on, HelperAssignment.EndReason.CANCELLED)
        household_recompute(source)
        household_recompute(target)
        audit.record(actor, "household.merged", target, after={"merged_from": source.number})
    return target


def member_reveal_id(*, member: Member, actor: User | None) -> str:
    """See an ID number whole: a permitted, audited act (DOMAIN.md §8)."""
    _ensure(actor, "household.view_id", member.household)
    audit.record(actor, "member.id_viewed", member, region_code=member.household.region_id)
    return member.id_number


def member_reveal_phone(*, member: Member, actor: User | None) -> str:
    """See a member's own 联系电话 whole (a migrant worker is reached on theirs, not the household's): permitted to
    those who may call the household, and audited."""
    _ensure(actor, "household.view_phone", member.household)
    if not member.phone:
        raise DomainError("该成员未登记联系电话")
    audit.record(actor, "member.phone_viewed", member, region_code=member.household.region_id)
    return member.phone


def household_reveal_phone(*, household: Household, actor: User | None) -> str:
    """See the household's 联系电话 whole (to call it: the contact's monthly call, a verification visit): a
    permitted, audited act like seeing an ID number."""
    _ensure(actor, "household.view_phone", household)
    if not household.phone:
        raise DomainError("本户未登记联系电话")
    audit.record(actor, "household.phone_viewed", household)
    return household.phone


ELSEWHERE_SHOWN = "member.elsewhere_shown"


def elsewhere_shown_record(
    *,
    actor: User | None,
    count: int,
    via: str,
    dry_run: bool = False,
    obj: Model | None = None,
    region_code: str | None = None,
    note: str = "",
) -> None:
    """Record that a page, file or answer told someone whether ``count`` ID numbers are registered elsewhere in the
    system (another household, another jurisdiction): the message a clerk or department needs to avoid registering a
    person twice, and so an audited disclosure — one event per import, dry run or request, with the count only,
    never the numbers. ``via`` names the channel (household_import, department_import, department_unmatched, api)."""
    if count <= 0:
        return
    audit.record(
        actor,
        ELSEWHERE_SHOWN,
        obj,
        after={"count": count, "via": via, "dry_run": dry_run},
        region_code=region_code,
        note=note,
    )


# --- 帮扶责任人 / 联系人 -------------------------------------------------------------------------------------------


def helper_label(user: User) -> str:
    """How a helper is named in the audit log and on pages: a cadre's name is the point of 责任到人."""
    return f"{user.full_name}（{user.username}）" if user.full_name else user.username


def _release_helper(household: Household, on: date, reason: str) -> None:
    """End the household's current assignment on ``on`` (or the day it began, if later); its history stays."""
    household.helper_assignments.filter(ended_on__isnull=True).update(
        ended_on=Greatest(F("started_on"), Value(on)), end_reason=reason
    )


def _check_helper(helper: User | None, household: Household) -> User:
    """``helper``, when it may be named for ``household``; else DomainError."""
    if helper is None or helper.role != Role.HELPER or not helper.is_active:
        raise DomainError("只能指定在用的“帮扶责任人/联系人”账号")
    span = helper.jurisdiction_range()
    if span is None or not (span[0] <= household.region_id < span[1]):
        raise DomainError(f"{helper_label(helper)} 负责的区划不含农户 {household.number} 所在的村")
    return helper


def helpers_assign(
    *,
    households: list[Household],
    helper: User | None,
    actor: User | None,
    on: date,
    reason: str = "",
    today: date | None = None,
) -> int:
    """Make ``helper`` the 帮扶责任人/联系人 of each household, from ``on``. A household's current one, if another
    person, is released on that date with ``reason`` (an ``EndReason``; required then). All or nothing; returns
    how many households changed (those already with ``helper`` are left as they are)."""
    today = today or date.today()
    if not households:
        raise DomainError("请至少选择一户")
    if on > today:
        raise DomainError("起始日期不能晚于今天")
    if reason and reason not in HelperAssignment.EndReason.values:
        raise DomainError("更换原因无效")
    for household in households:
        _ensure(actor, "household.edit", household)
        if household.cancelled:
            raise DomainError(f"农户 {household.number} 已注销，不能指定帮扶责任人")
        checked = _check_helper(helper, household)
    helper = checked  # households is not empty (above)
    changed = 0
    with transaction.atomic():
        current = {
            a.household_id: a
            # Unscoped: the assignments of ``households``, each checked against the actor above.
            for a in HelperAssignment.objects.unscoped()
            .select_for_update()
            .select_related("helper")
            .filter(household__in=[h.pk for h in households], ended_on__isnull=True)
        }
        for household in households:
            old = current.get(household.pk)
            if old is not None and old.helper_id == helper.pk:
                continue
            if old is not None:
                if not reason:
                    raise DomainError(f"农户 {household.number} 已有帮扶责任人，更换须选择原因")
                if on < old.started_on:
                    raise DomainError(
                        f"农户 {household.number} 的现任帮扶责任人自 {old.started_on} 起负责，"
                        "更换日期不能早于该日"
                    )
                old.ended_on, old.end_reason = on, reason
                old.save(update_fields=["ended_on", "end_reason"])
            HelperAssignment.objects.create(
                household=household, helper=helper, started_on=on, assigned_by=actor
            )
            audit.record(
                actor,
                "household.helper_assigned",
                household,
                before={"helper": helper_label(old.helper)} if old else None,
                after={"helper": helper_label(helper), "date": on},
                note=str(HelperAssignment.EndReason(reason).label) if old else "",
            )
            changed += 1
    return changed


def helper_release(
    *, household: Household, actor: User | None, on: date, reason: str, today: date | None = None
) -> None:
    """Release the household's 帮扶责任人/联系人 without naming another (e.g. 不再需要帮扶). An exited household
    then shows as 未落实 until one is named (plan 四(一)3: every exited household always has one)."""
    _ensure(actor, "household.edit", household)
    if reason not in HelperAssignment.EndReason.values:
        raise DomainError("请选择解除原因")
    if on > (today or date.today()):
        raise DomainError("解除日期不能晚于今天")
    with transaction.atomic():
        old = (
            household.helper_assignments.select_for_update()
            .select_related("helper")
            .filter(ended_on__isnull=True)
            .first()
        )
        if old is None:
            raise DomainError("该户目前没有帮扶责任人")
        if on < old.started_on:
            raise DomainError(f"现任帮扶责任人自 {old.started_on} 起负责，解除日期不能早于该日")
        old.ended_on, old.end_reason = on, reason
        old.save(update_fields=["ended_on", "end_reason"])
        audit.record(
            actor,
            "household.helper_released",
            household,
            before={"helper": helper_label(old.helper)},
            after={"date": on},
            note=str(HelperAssignment.EndReason(reason).label),
        )
