"""The writes of the approval chains: start a case, act on it (``case_act``), attach a file, act on a batch.

``case_act`` is the one door that moves a case: in one transaction it locks the case row (``SELECT … FOR UPDATE``;
on SQLite every transaction begins IMMEDIATE and holds the write lock), checks the version the caller saw, the
state, the step and the actor, and records one audit event. The household's official fields (脱贫户分类, 监测对象
类型, 监测状态, 识别监测时间, 风险消除时间) change only in ``_decide``, when a case ends 已办结.

Refusals: ``PermissionDenied`` (the role may not; 403), ``ValidationFailed`` (bad input or a rule; 422 —
``ConditionsFailed`` carries the elimination conditions), ``Conflict`` (the case's state or step does not allow it
now, or someone acted meanwhile; 409). The caller finds the case through ``for_user`` (404 outside the
jurisdiction).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from fangfan.assistance.services import EVIDENCE_MAX_BYTES, _sniff, risk_register
from fangfan.core import audit
from fangfan.core.errors import Conflict, ValidationFailed
from fangfan.core.privatefiles import open_private, private_folder
from fangfan.core.testhooks import checkpoint
from fangfan.monitoring.choices import Channel, RiskType
from fangfan.monitoring.models import RiskPoint
from fangfan.registry.choices import ExitedClass, HouseholdType, MonitoringState, MonitoringType
from fangfan.registry.models import OFFICIAL_FIELDS as REGISTRY_OFFICIAL_FIELDS
from fangfan.registry.models import Household

from . import conditions as cond
from .choices import (
    KIND_OF,
    SCHEMA_CONSENT,
    Action,
    AttachmentKind,
    CaseState,
    EliminationWay,
    Kind,
    ProcessCode,
    Source,
)
from .models import Case, CaseAction, CaseAttachment, Process, Step
from .rules import acts_on, ancestor_at, process_code_for
from .snapshots import snapshot_take
from .stepdata import step_data_clean

if TYPE_CHECKING:
    from fangfan.accounts.models import User

# The official fields a decision changes (``registry.models.OFFICIAL_FIELDS`` but 户类型 and 脱贫年度, which no chain
# decides).
OFFICIAL_FIELDS = [f for f in REGISTRY_OFFICIAL_FIELDS if f not in ("household_type", "exit_year")]
BATCH_MAX = 500
BATCH_COMMIT = 50  # cases of a batch committed together (``cases_batch``)
_AUDIT_ACTIONS = {
    Action.APPROVE: "case.approved",
    Action.RETURN: "case.returned",
    Action.REJECT: "case.rejected",
    Action.WITHDRAW: "case.withdrawn",
}
_SOURCE_CHANNEL = {
    Source.WARNING: Channel.DEPARTMENT,
    Source.CLUE: Channel.SELF_REPORT,
    Source.SELF_REPORT: Channel.SELF_REPORT,
    Source.CADRE: Channel.CADRE,
}


class ConditionsFailed(ValidationFailed):
    """An elimination condition is not met: 422 with ``conditions``."""

    def __init__(self, message: str, conditions: list[cond.Condition]):
        super().__init__(message)
        self.conditions = conditions


def _today() -> date:
    return timezone.localdate()


def _choice(choices, value, what: str) -> str:
    for code, label in choices:
        if value in (code, str(label)):
            return code
    raise ValidationFailed(f"{what}“{str(value)[:30]}”不是可选的值")


def _in_jurisdiction(actor: User, region_code: str) -> bool:
    span = actor.jurisdiction_range() if actor is not None else None
    return span is not None and span[0] <= region_code < span[1]


def _label(choices, value) -> str:
    return str(dict(choices).get(value, value))


# --- processes -------------------------------------------------------------------------------------------------


def process_current(code: str) -> Process:
    """The newest active version of a process: what a new case follows."""
    process = Process.objects.filter(code=code, active=True).order_by("-version").first()
    if process is None:
        raise ValidationFailed(f"流程“{_label(ProcessCode.choices, code)}”没有在用的版本")
    return process


def enabled_steps(process: Process) -> list[Step]:
    return [s for s in process.steps.order_by("order") if s.enabled]


def process_new_version(
    *, actor: User, code: str, steps: list[dict], limit_days: int | None = None
) -> Process:
    """A new version of a process (the older ones stop taking new cases; open cases keep theirs). ``steps``:
    dicts of ``Step``'s fields. The command-line operator's, as the processes are configuration."""
    if actor is None or not actor.is_operator:
        raise PermissionDenied("流程配置由运维人员办理")
    with transaction.atomic():
        current = process_current(code)
        new = Process.objects.create(
            code=code,
            version=current.version + 1,
            name=current.name,
            limit_days=limit_days or current.limit_days,
        )
        for order, spec in enumerate(steps, start=1):
            Step.objects.create(process=new, order=order, **spec)
        Process.objects.filter(code=code).exclude(pk=new.pk).update(active=False)
        audit.record(actor, "process.versioned", new, region_code="", after={"version": new.version})
    return new


# --- starting a case ---------------------------------------------------------------------------------------------


def _state_allows(kind: str, household: Household) -> None:
    state = household.monitoring_state
    if kind == Kind.IDENTIFY and household.monitoring_type and state == MonitoringState.MONITORING:
        raise Conflict("该户已是监测对象（监测中），无需再纳入监测")
    if kind == Kind.ELIMINATE and not (household.monitoring_type and state == MonitoringState.MONITORING):
        raise Conflict("该户不是监测中的监测对象，不能办理风险消除")
    if kind == Kind.REVERT and state != MonitoringState.ELIMINATED:
        raise Conflict("该户的风险尚未消除，不能回退")
    if kind == Kind.RECLASSIFY and household.household_type != HouseholdType.EXITED:
        raise Conflict("只有脱贫户才能调整脱贫户分类")


def case_start(
    *,
    household: Household,
    actor: User,
    process: str,
    reason: str,
    source: str = "",
    monitoring_type: str = "",
    risk_types: list[str] | None = None,
    exited_class: str = "",
    elimination_way: str = "",
) -> Case:
    """Start a case at its process's first step. ``process``: identify / eliminate / reclassify / revert (the API's
    words) or an internal code (identify_edge). The creator's role must be the first step's, bound to the
    household's village or town at that step's level."""
    if actor is None or not actor.can("case.start"):
        raise PermissionDenied("您的角色不能发起审批事项")
    if not _in_jurisdiction(actor, household.region_id):
        raise PermissionDenied("该农户不在您的管辖范围内")
    code = process_code_for(str(process or ""), household)
    if not code:
        raise ValidationFailed("process 应为 identify、eliminate、reclassify 或 revert")
    kind = KIND_OF[code]
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请填写事由（reason）")
    if household.cancelled:
        raise Conflict("该户已注销，不能发起审批事项")
    _state_allows(kind, household)
    fields: dict = {}
    if kind == Kind.IDENTIFY:
        if not monitoring_type:
            raise ValidationFailed("纳入监测须填写监测对象类型（monitoring_type）")
        mtype = _choice(MonitoringType.choices, monitoring_type, "监测对象类型")
        if mtype == MonitoringType.UNSTABLE and household.household_type != HouseholdType.EXITED:
            raise ValidationFailed("脱贫不稳定户只能从脱贫户中认定；一般农户请选边缘易致贫户或突发严重困难户")
        if mtype == MonitoringType.MARGINAL and household.household_type == HouseholdType.EXITED:
            raise ValidationFailed("边缘易致贫户从一般农户中认定；脱贫户请选脱贫不稳定户或突发严重困难户")
        if code == ProcessCode.IDENTIFY_EDGE and mtype != MonitoringType.MARGINAL:
            raise ValidationFailed("边缘户核查认定只用于边缘易致贫户")
        valid = [c for c in RiskType.choices if c[0] != RiskType.DOUBT]
        risks = [_choice(valid, r, "风险类型") for r in (risk_types or [])]
        if not risks:
            raise ValidationFailed("纳入监测须至少选择一项风险类型（risk_types）")
        fields.update(monitoring_type=mtype, risk_types=list(dict.fromkeys(risks)))
        fields["source"] = _choice(Source.choices, source, "来源") if source else Source.CADRE
    elif kind == Kind.RECLASSIFY:
        if not exited_class:
            raise ValidationFailed("分类调整须填写调整后的脱贫户分类（exited_class）")
        target = _choice(ExitedClass.choices, exited_class, "脱贫户分类")
        if target == household.exited_class:
            raise ValidationFailed(f"该户已是“{_label(ExitedClass.choices, target)}”，无需调整")
        fields["exited_class"] = target
    elif kind == Kind.ELIMINATE and elimination_way:
        fields["elimination_way"] = _choice(EliminationWay.choices, elimination_way, "消除方式")
    proc = process_current(code)
    steps = enabled_steps(proc)
    first = steps[0]
    if actor.role != first.role or actor.region_id != ancestor_at(household.region_id, first.level):
        raise PermissionDenied(
            f"“{proc.name}”由{_role_label(first.role)}发起（第一个环节：{first.name}），您的角色不能发起"
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            hh = Household.objects.lock(household)
            _state_allows(kind, hh)
            case = Case.objects.create(
                household=hh,
                region_code=hh.region_id,
                process=proc,
                kind=kind,
                current_step=first,
                step_since=now,
                reason=reason[:500],
                due_on=_today() + timedelta(days=proc.limit_days),
                created_by=actor,
                **fields,
            )
            CaseAction.objects.create(
                case=case, step=first, action=Action.SUBMIT, actor=actor, comment=reason[:500]
            )
            audit.record(
                actor,
                "case.started",
                case,
                after={"household": hh.number, "process": code, "version": proc.version, **fields},
                note=f"发起{proc.name}",
            )
    except IntegrityError:
        raise Conflict(f"该户已有办理中的“{_label(Kind.choices, kind)}”事项") from None
    return case


def _role_label(role: str) -> str:
    from fangfan.accounts.roles import Role

    return _label(Role.choices, role)


# --- acting on a case ----------------------------------------------------------------------------------------------


def case_conditions(case: Case, *, today: date | None = None) -> list[cond.Condition]:
    """The elimination conditions for a case (none for other decisions)."""
    if case.kind != Kind.ELIMINATE:
        return []
    return cond.evaluate(cond.elimination_facts(case.household, today=today or _today()))


def _check_actor(case: Case, actor: User) -> None:
    """The actor acts on the case's current step, or the refusal says why (403 wrong role or place; 409 the
    role's step is not the current one — out of order)."""
    step = case.current_step
    if not actor.can("case.act"):
        raise PermissionDenied("您的角色不办理审批事项")
    if acts_on(actor, step, case.region_code):
        return
    roles = {s.role for s in case.process.steps.all() if s.enabled}
    if actor.role == step.role:
        raise PermissionDenied(
            f"“{step.name}”由本户所在{step.get_level_display()}的{_role_label(step.role)}办理"
        )
    if actor.role in roles:
        raise Conflict(f"本事项当前在“{step.name}”环节，由{_role_label(step.role)}办理，还没有轮到您")
    raise PermissionDenied(f"您的角色不办理“{case.process.name}”")


def _previous(case: Case) -> Step | None:
    steps = enabled_steps(case.process)
    index = next(i for i, s in enumerate(steps) if s.pk == case.current_step_id)
    return steps[index - 1] if index > 0 else None


def _next(case: Case) -> Step | None:
    steps = enabled_steps(case.process)
    index = next(i for i, s in enumerate(steps) if s.pk == case.current_step_id)
    return steps[index + 1] if index + 1 < len(steps) else None


def case_act(
    *,
    case: Case,
    actor: User,
    action: str,
    comment: str = "",
    data: dict | None = None,
    override_reason: str = "",
    expected_version: int | None = None,
) -> Case:
    """Act on a case: ``approve`` (the current step is done: next step, or 已办结 after the last), ``return``
    (back one step), ``reject`` (ends 已驳回), ``withdraw`` (its creator, before anyone else acted).
    ``expected_version``: the case's version the caller saw — someone else's action meanwhile is a 409."""
    action = str(action or "")
    if action not in (Action.APPROVE, Action.RETURN, Action.REJECT, Action.WITHDRAW):
        raise ValidationFailed("action 应为 approve、return、reject 或 withdraw")
    if actor is None or not (actor.can("case.act") or actor.can("case.start")):
        raise PermissionDenied("您的角色不办理审批事项")
    if not _in_jurisdiction(actor, case.region_code):
        raise PermissionDenied("该农户不在您的管辖范围内")
    comment = (comment or "").strip()[:500]
    override_reason = (override_reason or "").strip()[:500]
    if action in (Action.RETURN, Action.REJECT) and not comment:
        raise ValidationFailed("退回或驳回时请填写意见（comment）")
    today = _today()
    with transaction.atomic():
        locked = (
            Case.objects.unscoped()  # the case the caller read and checked above, locked
            .select_for_update(of=("self",))
            .select_related("process", "current_step")
            .get(pk=case.pk)
        )
        if expected_version is not None and locked.version != expected_version:
            raise Conflict("本事项已被他人办理（或已变化），请刷新后查看当前环节再办理")
        if locked.state != CaseState.OPEN:
            raise Conflict(f"本事项{locked.get_state_display()}，不能再办理")
        step = locked.current_step
        if action == Action.WITHDRAW:
            _withdraw_check(locked, actor)
        else:
            _check_actor(locked, actor)
        clean: dict = {}
        before = {"state": locked.state, "step": step.name, "version": locked.version}
        if action == Action.APPROVE:
            clean = step_data_clean(step.data_schema, data, today=today)
            _attachments_present(locked, step)
            override_reason = _conditions_pass(locked, actor, override_reason, today)
            nxt = _next(locked)
            locked.current_step = nxt
            if nxt is None:
                locked.state = CaseState.DONE
        elif action == Action.RETURN:
            prev = _previous(locked)
            if prev is None:
                raise Conflict("已是第一个环节，不能退回；不予办理请驳回")
            locked.current_step = prev
        elif action == Action.REJECT:
            locked.state, locked.current_step = CaseState.REJECTED, None
        else:
            locked.state, locked.current_step = CaseState.WITHDRAWN, None
        now = timezone.now()
        locked.version += 1
        locked.step_since = now if locked.current_step else None
        if locked.state != CaseState.OPEN:
            locked.ended_at = now
        if override_reason:
            locked.overridden = True
        CaseAction.objects.create(
            case=locked,
            step=step,
            action=action,
            actor=actor,
            comment=comment,
            data=clean,
            override_reason=override_reason if action == Action.APPROVE else "",
        )
        if locked.state == CaseState.DONE:
            _decide(locked, actor, today)
        locked.save()
        audit.record(
            actor,
            _AUDIT_ACTIONS[action],
            locked,
            before=before,
            after={
                "state": locked.state,
                "step": locked.current_step.name if locked.current_step else "",
                "version": locked.version,
                "data": clean,
            },
            note=f"{step.name}：{comment}" if comment else step.name,
        )
        if override_reason and action == Action.APPROVE:
            audit.record(
                actor, "case.condition_overridden", locked, after={"step": step.name}, note=override_reason
            )
    # The caller's object as saved (what refresh_from_db would read, without a query per case of a batch); its
    # cached household is dropped, as the decision may have changed it.
    for f in Case._meta.concrete_fields:
        setattr(case, f.attname, getattr(locked, f.attname))
    case._state.fields_cache = {k: v for k, v in locked._state.fields_cache.items() if k != "household"}
    return case


def _withdraw_check(case: Case, actor: User) -> None:
    if actor.pk != case.created_by_id:
        raise PermissionDenied("只有发起人可以撤回本事项")
    if case.actions.exclude(actor=actor).exists():
        raise Conflict("已有他人办理过本事项，不能撤回；如需终止请由当前环节驳回")


def _attachments_present(case: Case, step: Step) -> None:
    needed = list(step.attachment_kinds or [])
    if step.data_schema == SCHEMA_CONSENT and AttachmentKind.CONSENT not in needed:
        needed.append(AttachmentKind.CONSENT)
    if not needed:
        return  # most steps need none: no query (a batch of 500 approves at the town step)
    have = set(case.attachments.values_list("kind", flat=True))
    missing = [_label(AttachmentKind.choices, k) for k in needed if k not in have]
    if missing:
        raise ValidationFailed(f"“{step.name}”须先上传：{'、'.join(missing)}")


def _conditions_pass(case: Case, actor: User, override_reason: str, today: date) -> str:
    """Elimination: every condition met, or a county reviewer's override with a reason (returned, to record)."""
    results = case_conditions(case, today=today)
    failed = [c for c in results if not c.met]
    if not failed:
        return ""
    if override_reason and actor.role == "county_review":
        return override_reason
    names = "、".join(c.name for c in failed)
    hint = (
        "；市县审核人员可填写理由（override_reason）越过并标注存疑" if actor.role == "county_review" else ""
    )
    raise ConditionsFailed(f"风险消除条件未满足：{names}{hint}", results)


# --- the decision ------------------------------------------------------------------------------------------------


def decided_values(case: Case, before: dict, month: str) -> dict:
    """The official fields after ``case``'s decision in ``month`` (YYYYMM), from those before it: what ``_decide``
    writes, and what the decisions export (``workflows.decisions``) reports of a case ended long ago."""
    after = {f: before.get(f, "") for f in OFFICIAL_FIELDS}
    if case.kind == Kind.IDENTIFY:
        after.update(
            monitoring_type=case.monitoring_type,
            monitoring_state=MonitoringState.MONITORING,
            identified_month=month,
            eliminated_month="",
        )
    elif case.kind == Kind.ELIMINATE:
        after.update(monitoring_state=MonitoringState.ELIMINATED, eliminated_month=month)
    elif case.kind == Kind.REVERT:
        after.update(monitoring_state=MonitoringState.MONITORING, eliminated_month="")
    elif case.kind == Kind.RECLASSIFY:
        after.update(exited_class=case.exited_class)
    return after


def _decide(case: Case, actor: User, today: date) -> None:
    """The case ended 已办结: the household's official fields change here and only here; identification and
    elimination keep a snapshot; an identification's risk types become risk points."""
    hh = (
        Household.objects.unscoped().select_for_update().get(pk=case.household_id)
    )  # the case's own, read in scope
    before = {f: getattr(hh, f) for f in OFFICIAL_FIELDS}
    after = decided_values(case, before, f"{today:%Y%m}")
    for f, value in after.items():
        setattr(hh, f, value)
    if case.kind == Kind.ELIMINATE and not case.elimination_way:
        done = cond.elimination_facts(hh, today=today).measures_done
        case.elimination_way = EliminationWay.ASSISTED if done else EliminationWay.NATURAL
    hh.save(update_fields=[*OFFICIAL_FIELDS, "updated_at"])
    case.before = before
    if case.kind == Kind.IDENTIFY:
        _risk_points(case, hh, actor, today)
        snapshot_take(hh, reason="纳入监测", today=today, risk_types=case.risk_types)
    elif case.kind == Kind.ELIMINATE:
        snapshot_take(hh, reason="风险消除", today=today, risk_types=[])
    changed_before, changed_after = audit.changes(before, after)
    audit.record(
        actor,
        "household.status_decided",
        hh,
        before=changed_before,
        after={**changed_after, "case": case.pk, "elimination_way": case.elimination_way},
        note=f"{case.process.name}办结",
    )


def _risk_points(case: Case, hh: Household, actor: User, today: date) -> None:
    """The chosen risk types become risk points through assistance's own service (a type already unresolved on
    the household — e.g. confirmed from a warning — is not registered twice)."""
    have = set(hh.risk_points.filter(state__in=RiskPoint.UNRESOLVED).values_list("risk_type", flat=True))
    found_on = timezone.localtime(case.created_at).date() if case.created_at else today
    for risk_type in case.risk_types:
        if risk_type in have:
            continue
        risk_register(
            household=hh,
            actor=actor,
            risk_type=risk_type,
            channel=_SOURCE_CHANNEL.get(case.source, Channel.CADRE),
            found_on=min(found_on, today),
            description=f"纳入监测认定（审批 {case.pk}）：{case.reason}"[:500],
            decided=True,
        )


# --- attachments -----------------------------------------------------------------------------------------------


def attachment_dir() -> Path:
    """Under the data directory, outside MEDIA_ROOT (whose generated files ``purge-files`` deletes): a case's
    papers are kept as long as the case."""
    return Path(settings.DATA_DIR) / "case-files"


def attachment_path(attachment: CaseAttachment) -> Path:
    return attachment_dir() / attachment.stored_name


def case_attach(*, case: Case, actor: User, kind: str, upload) -> CaseAttachment:
    """Attach a signed consent, minutes, a notice photo… (jpg/png/pdf by content, ≤ 10 MB) to an open case: by
    whoever acts on its current step."""
    kind = _choice(AttachmentKind.choices, kind, "材料类型")
    if actor is None or not actor.can("case.act"):
        raise PermissionDenied("您的角色不办理审批事项")
    if not _in_jurisdiction(actor, case.region_code):
        raise PermissionDenied("该农户不在您的管辖范围内")
    if case.state != CaseState.OPEN:
        raise Conflict(f"本事项{case.get_state_display()}，不能再上传材料")
    _check_actor(case, actor)
    size = getattr(upload, "size", None) or 0
    if size > EVIDENCE_MAX_BYTES:
        raise ValidationFailed(f"文件过大（{size / 1024 / 1024:.1f} MB），材料不能超过 10 MB")
    if size == 0:
        raise ValidationFailed("文件是空的")
    chunks = upload.chunks()
    first = next(iter(chunks), b"")
    sniffed = _sniff(first[:16])
    if sniffed is None:
        raise ValidationFailed("只能上传 JPG、PNG 图片或 PDF 文件（按文件内容识别）")
    content_type, suffix = sniffed
    folder = private_folder(attachment_dir() / f"{_today():%Y%m}")
    stored = f"{folder.name}/{uuid.uuid4().hex}{suffix}"
    path = attachment_dir() / stored
    digest, written = hashlib.sha256(), 0
    try:
        with open_private(path) as out:
            for chunk in (first, *chunks):
                written += len(chunk)
                if written > EVIDENCE_MAX_BYTES:
                    raise ValidationFailed("文件过大，材料不能超过 10 MB")
                digest.update(chunk)
                out.write(chunk)
        with transaction.atomic():
            att = CaseAttachment.objects.create(
                case=case,
                step=case.current_step,
                region_code=case.region_code,
                kind=kind,
                stored_name=stored,
                file_name=Path(getattr(upload, "name", "") or "").name[:200] or f"材料{suffix}",
                content_type=content_type,
                size=written,
                sha256=digest.hexdigest(),
                uploaded_by=actor,
            )
            audit.record(
                actor,
                "case.attachment_added",
                case,
                after={"attachment": att.pk, "kind": kind, "size": written, "sha256": att.sha256},
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return att


# --- batches -------------------------------------------------------------------------------------------------------


def cases_batch(*, ids: list[int], actor: User, action: str, comment: str = "") -> list[dict]:
    """Act on up to 500 cases at once (a town or county's ticked list): each case found in the actor's
    jurisdiction, checked and audited on its own; one's refusal does not stop the others."""

    if actor is None or not actor.can("case.act"):
        raise PermissionDenied("您的角色不办理审批事项")
    ids = list(dict.fromkeys(int(i) for i in ids))
    if not ids:
        raise ValidationFailed("请勾选要办理的事项（ids）")
    if len(ids) > BATCH_MAX:
        raise ValidationFailed(f"一次最多办理 {BATCH_MAX} 件")
    found = {c.pk: c for c in Case.objects.for_user(actor, "case.view").filter(pk__in=ids)}
    results = []
    # Committed BATCH_COMMIT cases at a time, each case in its own savepoint (``case_act``'s atomic block): a
    # refused case is rolled back alone, the others stand. A commit per case made PostgreSQL flush its log 500
    # times (most of a batch's 13 s there); a group holds the audit chain's lock for well under a second.
    for first in range(0, len(ids), BATCH_COMMIT):
        with transaction.atomic():
            for pk in ids[first : first + BATCH_COMMIT]:
                results.append(_batch_one(found.get(pk), pk, actor=actor, action=action, comment=comment))
        checkpoint("workflows.batch")  # the kill tests stop a batch here, a group committed (issue 21.3)
    return results


def _batch_one(case: Case | None, pk: int, *, actor, action: str, comment: str) -> dict:
    from fangfan.core.errors import DomainError

    if case is None:
        return {"id": pk, "ok": False, "status": 404, "detail": "事项不存在或不在您的管辖范围内"}
    try:
        done = case_act(case=case, actor=actor, action=action, comment=comment, expected_version=case.version)
    except PermissionDenied as exc:
        return {"id": pk, "ok": False, "status": 403, "detail": str(exc) or "无权办理"}
    except Conflict as exc:
        return {"id": pk, "ok": False, "status": 409, "detail": exc.message}
    except DomainError as exc:
        return {"id": pk, "ok": False, "status": 422, "detail": exc.message}
    return {"id": pk, "ok": True, "state": done.get_state_display()}
