"""The writes of 帮扶措施: measures per household and risk point, their progress and evidence, M8's differentiated
policy and its exceptions, risk points registered directly and closed (plan M1, M5, M8, M10, M12).

Every service checks the actor's role and jurisdiction itself (the pages and the API call the same functions), runs
in one transaction and records one audit event. Refusals: ``PermissionDenied`` (the role may not; 403),
``ValidationFailed`` (bad input or a policy rule; 422), ``Conflict`` (the object's state does not allow it now; 409).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from fangfan.core import audit
from fangfan.core.errors import Conflict, DomainError, ValidationFailed
from fangfan.monitoring.choices import Channel, RiskType
from fangfan.monitoring.models import RiskPoint
from fangfan.monitoring.services import policy_days
from fangfan.registry.choices import ExitedClass, HouseholdType

from .choices import (
    Category,
    ClosureStep,
    ExceptionCause,
    ExceptionProblem,
    ExceptionState,
    Kind,
    MeasureState,
)
from .models import Measure, MeasureEvidence, MeasureType, PolicyException, RiskClosure

if TYPE_CHECKING:
    from fangfan.accounts.models import User

# M8, in the plan's words: the refusal names the rule.
M8_RULE = (
    "不享受政策的脱贫户原则上不再享受补贴补助类政策（方案 四(一)2）；因重大灾害或家庭变故导致“两不愁三保障”或"
    "饮水安全问题、自身无力解决的，须先登记政策例外并经镇扶贫工作站批准。"
)
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
# Signatures (magic bytes) of the files accepted as evidence: the content decides, never the name.
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"%PDF-", "application/pdf", ".pdf"),
)
# Channels a risk is registered by hand with; 部门筛查预警 comes only from screening and verification.
REGISTER_CHANNELS = (Channel.SELF_REPORT, Channel.CADRE, Channel.INSPECTION, Channel.CITY)


# --- permissions ---------------------------------------------------------------------------------------------


def _ensure(actor: User, action: str, region_code: str, message: str) -> None:
    """The actor's role allows ``action`` and the place is in its jurisdiction (the operator's is everything)."""
    if actor is None or not actor.can(action):
        raise PermissionDenied(message)
    span = actor.jurisdiction_range()
    if span is None or not (span[0] <= region_code < span[1]):
        raise PermissionDenied("该农户不在您的管辖范围内")


def _ensure_department(actor: User, measure: Measure) -> None:
    if getattr(actor, "role", "") == "department" and measure.department != actor.department:
        raise PermissionDenied("该措施不由您的部门落实")


def _today() -> date:
    return timezone.localdate()


def _label(choices, value) -> str:
    return str(dict(choices).get(value, value))


def _choice(choices, value, what: str) -> str:
    """A choice given by its code or its Chinese label (the API and files use the label)."""
    for code, label in choices:
        if value in (code, str(label)):
            return code
    raise ValidationFailed(f"{what}“{value}”不是可选的值")


def _money(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(f"金额“{value}”不是数字") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(f"金额“{value}”应为不小于 0 的数，最多两位小数")
    if amount >= Decimal("1e12"):
        raise ValidationFailed(f"金额“{value}”过大")
    return amount


def _not_future(day: date | None, what: str) -> None:
    if day is not None and day > _today():
        raise ValidationFailed(f"{what}不能晚于今天")


# --- the catalogue -------------------------------------------------------------------------------------------


def measure_type_resolve(value: MeasureType | str, *, for_new: bool = True) -> MeasureType:
    """A catalogue entry by itself, its code or its name; a retired one is offered to no new measure."""
    if isinstance(value, MeasureType):
        mt = value
    else:
        text = str(value or "").strip()
        mt = MeasureType.objects.filter(code=text).first() or MeasureType.objects.filter(name=text).first()
        if mt is None:
            raise ValidationFailed(f"帮扶措施目录中没有“{text}”")
    if for_new and not mt.active:
        raise ValidationFailed(f"帮扶措施“{mt.name}”已停用，不能再登记新的措施")
    return mt


def catalogue_add(
    *,
    actor: User,
    code: str,
    name: str,
    category: str,
    kind: str,
    department: str = "",
    risk_types: list[str] | None = None,
) -> MeasureType:
    """The county adds a measure to the catalogue (a 政策补丁, a new fund…)."""
    if actor is None or not actor.can("catalogue.manage"):
        raise PermissionDenied("只有市县审核可以维护帮扶措施目录")
    code, name = (code or "").strip(), (name or "").strip()
    if not code or not name:
        raise ValidationFailed("请填写措施编码和名称")
    category = _choice(Category.choices, category, "类别")
    kind = _choice(Kind.choices, kind, "性质")
    if department:
        from fangfan.accounts.roles import Department

        department = _choice(Department.choices, department, "责任部门")
    risks = [_choice(RiskType.choices, r, "风险类型") for r in (risk_types or [])]
    with transaction.atomic():
        if MeasureType.objects.filter(code=code).exists() or MeasureType.objects.filter(name=name).exists():
            raise Conflict(f"目录中已有编码“{code}”或名称“{name}”的措施")
        mt = MeasureType.objects.create(
            code=code, name=name, category=category, kind=kind, department=department, risk_types=risks
        )
        audit.record(
            actor,
            "catalogue.added",
            mt,
            region_code="",
            after={
                "code": code,
                "category": category,
                "kind": kind,
                "department": department,
                "risks": risks,
            },
            note=f"增加帮扶措施：{name}",
        )
    return mt


def catalogue_set_active(*, actor: User, measure_type: MeasureType, active: bool) -> MeasureType:
    """Retire a measure (it stays on the measures that used it, no new measure may take it) or bring it back.
    Nothing is ever deleted from the catalogue."""
    if actor is None or not actor.can("catalogue.manage"):
        raise PermissionDenied("只有市县审核可以维护帮扶措施目录")
    with transaction.atomic():
        mt = MeasureType.objects.select_for_update().get(pk=measure_type.pk)
        if mt.active == active:
            return mt
        mt.active = active
        mt.save(update_fields=["active"])
        audit.record(
            actor,
            "catalogue.retired" if not active else "catalogue.restored",
            mt,
            region_code="",
            before={"active": not active},
            after={"active": active},
            note=f"{'停用' if not active else '恢复'}帮扶措施：{mt.name}",
        )
    return mt


# --- M8: differentiated policy -------------------------------------------------------------------------------


def is_not_enjoying(household) -> bool:
    return (
        household.household_type == HouseholdType.EXITED
        and household.exited_class == ExitedClass.NOT_ENJOYING
    )


def _exception_for(household, exception: PolicyException | None) -> PolicyException:
    """The approved exception that lets a 不享受政策 household have a 补贴式 measure, or the M8 refusal."""
    if exception is None:
        exception = (
            household.policy_exceptions.filter(state=ExceptionState.APPROVED)
            .order_by("-decided_at", "-id")
            .first()
        )
    if exception is None:
        exception = household.policy_exceptions.all().order_by("-requested_at", "-id").first()
    if exception is None or exception.household_id != household.pk:
        raise ValidationFailed(M8_RULE)
    if exception.state != ExceptionState.APPROVED:
        raise ValidationFailed(M8_RULE + f"本户的政策例外{exception.get_state_display()}。")
    return exception


def exception_request(*, household, actor: User, cause: str, problem: str, reason: str) -> PolicyException:
    """The village or town asks for M8's exception for a 不享受政策 household (a major disaster or a family change
    causing a 两不愁三保障 or drinking-water problem it cannot bear); the town station decides."""
    _ensure(actor, "measure.exception_request", household.region_id, "您的角色不能申请政策例外")
    if not is_not_enjoying(household):
        raise ValidationFailed("只有不享受政策的脱贫户需要申请政策例外，其他农户按政策应享尽享")
    cause = _choice(ExceptionCause.choices, cause, "原因类别")
    problem = _choice(ExceptionProblem.choices, problem, "无力解决的问题")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请说明灾害或家庭变故的情况，以及本户无力解决的问题")
    with transaction.atomic():
        if household.policy_exceptions.filter(state=ExceptionState.REQUESTED).exists():
            raise Conflict("本户已有待镇审批的政策例外申请")
        exc = PolicyException.objects.create(
            household=household,
            region_code=household.region_id,
            cause=cause,
            problem=problem,
            reason=reason[:500],
            requested_by=actor,
        )
        audit.record(actor, "exception.requested", exc, after={"cause": cause, "problem": problem})
    return exc


def exception_decide(
    *, exception: PolicyException, actor: User, approve: bool, note: str = ""
) -> PolicyException:
    """The town station approves M8's exception (补贴式 measures may then be recorded) or refuses it (with why)."""
    _ensure(actor, "measure.exception_approve", exception.region_code, "只有镇扶贫工作站可以审批政策例外")
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationFailed("不批准时请填写理由")
    with transaction.atomic():
        exc = PolicyException.objects.lock(exception)
        if exc.state != ExceptionState.REQUESTED:
            raise Conflict(f"该申请{exc.get_state_display()}，不能再审批")
        exc.state = ExceptionState.APPROVED if approve else ExceptionState.REJECTED
        exc.decided_by, exc.decided_at, exc.decision_note = actor, timezone.now(), note[:300]
        exc.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        audit.record(
            actor,
            "exception.approved" if approve else "exception.rejected",
            exc,
            before={"state": ExceptionState.REQUESTED},
            after={"state": exc.state},
            note=note,
        )
    exception.state, exception.decided_by, exception.decided_at = exc.state, exc.decided_by, exc.decided_at
    exception.decision_note = exc.decision_note
    return exc


# --- measures --------------------------------------------------------------------------------------------------


def measure_create(
    *,
    household,
    actor: User,
    measure: MeasureType | str,
    risk: RiskPoint | None = None,
    department: str | None = None,
    planned_on: date,
    amount=None,
    exception: PolicyException | None = None,
    responsible: str = "",
    responsible_user=None,
) -> Measure:
    """Record a measure for a household, for one of its risk points or for the household as a whole. ``measure``
    is a catalogue entry, code or name; ``department`` defaults to the catalogue's. M8: a 补贴式 measure for a
    不享受政策 exited household needs an approved exception (the given one, else the household's latest)."""
    _ensure(actor, "measure.edit", household.region_id, "您的角色不能登记帮扶措施")
    if household.cancelled:
        raise Conflict("该户已注销，不能再登记帮扶措施")
    mt = measure_type_resolve(measure)
    if risk is not None:
        if risk.household_id != household.pk:
            raise ValidationFailed("所选风险点不属于该农户")
        if risk.state == RiskPoint.State.ELIMINATED:
            raise Conflict("该风险点已消除，不能再登记措施；新的风险请另行登记风险点")
    if department is None:
        department = mt.department
    elif department:
        from fangfan.accounts.roles import Department

        department = _choice(Department.choices, department, "责任部门")
    if not planned_on:
        raise ValidationFailed("请填写计划日期")
    money = _money(amount)
    linked = None
    if mt.kind == Kind.SUBSIDY and is_not_enjoying(household):
        linked = _exception_for(household, exception)
    elif exception is not None:
        if exception.household_id != household.pk or exception.state != ExceptionState.APPROVED:
            raise ValidationFailed("所选政策例外不属于该农户或尚未批准")
        linked = exception
    with transaction.atomic():
        m = Measure.objects.create(
            household=household,
            region_code=household.region_id,
            risk=risk,
            measure_type=mt,
            department=department or "",
            responsible=(responsible or "").strip()[:50],
            responsible_user=responsible_user,
            planned_on=planned_on,
            amount=money,
            exception=linked,
            created_by=actor,
        )
        audit.record(
            actor,
            "measure.created",
            m,
            after={
                "household": household.number,
                "measure": mt.code,
                "kind": mt.kind,
                "risk": risk.pk if risk else None,
                "department": m.department,
                "planned_on": planned_on,
                "amount": money,
                "exception": linked.pk if linked else None,
            },
        )
    return m


def measure_create_or_ask_exception(
    *,
    household,
    actor: User,
    measure: MeasureType | str,
    exception_reason: str = "",
    exception_cause: str = "",
    exception_problem: str = "",
    **fields,
) -> tuple[Measure | None, PolicyException | None]:
    """``measure_create`` for a writer who says why M8's exception applies (the API's ``exception_reason``).

    Only a 补贴式 measure for a 不享受政策 household without an approved exception needs one; otherwise the reason
    is not used and the measure is created as ``measure_create`` would. When it is needed: the town station (who
    may approve) asks for and approves the exception and creates the measure, in one transaction (three audited
    steps); anyone else records the request (or finds the one already waiting) and gets ``(None, exception)``
    back: the measure waits for the town station's approval. Cause and problem are required for a new request."""
    mt = measure_type_resolve(measure)
    reason = (exception_reason or "").strip()
    needed = (
        mt.kind == Kind.SUBSIDY
        and is_not_enjoying(household)
        and not household.policy_exceptions.filter(state=ExceptionState.APPROVED).exists()
    )
    if not reason or not needed:
        return measure_create(household=household, actor=actor, measure=mt, **fields), None
    approver = actor.can("measure.exception_approve")
    with transaction.atomic():
        exc = household.policy_exceptions.filter(state=ExceptionState.REQUESTED).first()
        if exc is None:
            if not exception_cause or not exception_problem:
                raise ValidationFailed(
                    M8_RULE + "申请政策例外还须说明原因类别（重大灾害 / 家庭变故）和无力解决的问题"
                    "（吃穿不愁 / 义务教育 / 基本医疗 / 住房安全 / 饮水安全）。"
                )
            exc = exception_request(
                household=household,
                actor=actor,
                cause=exception_cause,
                problem=exception_problem,
                reason=reason,
            )
        if not approver:
            return None, exc
        exception_decide(exception=exc, actor=actor, approve=True, note=reason)
        return measure_create(household=household, actor=actor, measure=mt, exception=exc, **fields), exc


_NEXT = {
    MeasureState.PLANNED: {MeasureState.IN_PROGRESS, MeasureState.DONE, MeasureState.FAILED},
    MeasureState.IN_PROGRESS: {MeasureState.DONE, MeasureState.FAILED},
    MeasureState.FAILED: {MeasureState.IN_PROGRESS, MeasureState.DONE},
    MeasureState.DONE: set(),
}


def measure_progress(
    *, measure: Measure, actor: User, state: str, done_on: date | None = None, note: str = ""
) -> Measure:
    """Move a measure on: 落实中, 已落实 (on ``done_on``, default today) or 未落实 (the reason is required). The
    department it is assigned to, the village clerk or the town station; 已落实 is final."""
    _ensure(actor, "measure.progress", measure.region_code, "您的角色不能更新措施落实情况")
    _ensure_department(actor, measure)
    state = _choice(MeasureState.choices, state, "落实状态")
    note = (note or "").strip()
    if state == MeasureState.FAILED and not note:
        raise ValidationFailed("措施未落实时须说明原因")
    if state == MeasureState.DONE:
        done_on = done_on or _today()
        _not_future(done_on, "落实日期")
    with transaction.atomic():
        m = Measure.objects.lock(measure)
        if state not in _NEXT[m.state]:
            raise Conflict(
                f"该措施当前为“{m.get_state_display()}”，不能改为“{_label(MeasureState.choices, state)}”"
            )
        before = {"state": m.state, "done_on": m.done_on, "note": m.note}
        m.state = state
        m.done_on = done_on if state == MeasureState.DONE else None
        m.note = note[:500] if note else ("" if state == MeasureState.DONE else m.note)
        m.save(update_fields=["state", "done_on", "note", "updated_at"])
        audit.record(
            actor,
            "measure.progressed",
            m,
            before=before,
            after={"state": m.state, "done_on": m.done_on, "note": m.note},
        )
    measure.state, measure.done_on, measure.note = m.state, m.done_on, m.note
    return m


def _sniff(head: bytes) -> tuple[str, str] | None:
    for signature, content_type, suffix in _SIGNATURES:
        if head.startswith(signature):
            return content_type, suffix
    return None


def evidence_dir() -> Path:
    """Evidence lives under the data directory, outside MEDIA_ROOT (whose generated files ``purge-files`` deletes
    after the retention period): a measure's proof is kept as long as the measure."""
    return Path(settings.DATA_DIR) / "evidence"


def measure_evidence_add(*, measure: Measure, actor: User, upload) -> MeasureEvidence:
    """Attach a photo (jpg/png) or a PDF to a measure, checked by its content (signature) and size (≤ 10 MB),
    stored with a random name and mode 0600. ``upload`` is a Django UploadedFile (or any file with ``name``,
    ``size`` and ``chunks()``)."""
    _ensure(actor, "measure.progress", measure.region_code, "您的角色不能上传佐证材料")
    _ensure_department(actor, measure)
    size = getattr(upload, "size", None) or 0
    if size > EVIDENCE_MAX_BYTES:
        raise ValidationFailed(f"文件过大（{size / 1024 / 1024:.1f} MB），佐证材料不能超过 10 MB")
    if size == 0:
        raise ValidationFailed("文件是空的")
    chunks = upload.chunks()
    first = b""
    for chunk in chunks:
        first = chunk
        break
    kind = _sniff(first[:16])
    if kind is None:
        raise ValidationFailed("只能上传 JPG、PNG 图片或 PDF 文件（按文件内容识别）")
    content_type, suffix = kind
    folder = evidence_dir() / f"{_today():%Y%m}"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stored = f"{_today():%Y%m}/{uuid.uuid4().hex}{suffix}"
    path = evidence_dir() / stored
    digest = hashlib.sha256()
    written = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in (first, *chunks):
                written += len(chunk)
                if written > EVIDENCE_MAX_BYTES:
                    raise ValidationFailed("文件过大，佐证材料不能超过 10 MB")
                digest.update(chunk)
                out.write(chunk)
        with transaction.atomic():
            ev = MeasureEvidence.objects.create(
                measure=measure,
                region_code=measure.region_code,
                stored_name=stored,
                file_name=Path(getattr(upload, "name", "") or "").name[:200] or f"佐证材料{suffix}",
                content_type=content_type,
                size=written,
                sha256=digest.hexdigest(),
                uploaded_by=actor,
            )
            # The file's own name may name a person: the event keeps its type, size and checksum.
            audit.record(
                actor,
                "measure.evidence_added",
                measure,
                after={"evidence": ev.pk, "content_type": content_type, "size": written, "sha256": ev.sha256},
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return ev


def evidence_path(evidence: MeasureEvidence) -> Path:
    return evidence_dir() / evidence.stored_name


# --- risk points -----------------------------------------------------------------------------------------------


def risk_register(
    *,
    household,
    actor: User,
    risk_type: str,
    channel: str,
    found_on: date,
    description: str,
    decided: bool = False,
) -> RiskPoint:
    """Register a risk point directly (found by an inspection 督查暗访, fed back by the city, reported or found by
    a cadre: M3, M5), to be removed within the village's ``risk_deadline_days`` (限期消除). ``decided``: the risk
    types of an identification decided through its approval chain (``workflows``), which has checked the actor
    itself (the county reviewer who decides holds no ``risk.register``) and may name any channel."""
    if not decided:
        _ensure(actor, "risk.register", household.region_id, "您的角色不能登记风险点")
    if household.cancelled:
        raise Conflict("该户已注销，不能登记风险点")
    risk_type = _choice([c for c in RiskType.choices if c[0] != RiskType.DOUBT], risk_type, "风险类型")
    allowed = Channel.values if decided else REGISTER_CHANNELS
    channel = _choice([c for c in Channel.choices if c[0] in allowed], channel, "来源")
    description = (description or "").strip()
    if not description:
        raise ValidationFailed("请说明风险情况")
    if not found_on:
        raise ValidationFailed("请填写发现日期")
    _not_future(found_on, "发现日期")
    days = policy_days([household.region_id])[household.region_id]["risk_deadline_days"]
    with transaction.atomic():
        risk = RiskPoint.objects.create(
            household=household,
            region_code=household.region_id,
            risk_type=risk_type,
            channel=channel,
            found_on=found_on,
            deadline=max(found_on, _today()) + timedelta(days=days),
            description=description[:500],
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        audit.record(
            actor,
            "risk.created",
            risk,
            after={
                "risk_type": risk_type,
                "channel": channel,
                "found_on": found_on,
                "deadline": risk.deadline,
            },
            note="直接登记风险点",
        )
    return risk


def _refuse_without_done_measure(risk: RiskPoint) -> None:
    """DOMAIN.md §5: at least one measure carried out before a risk point is removed; the refusal says what
    there is."""
    states = list(risk.measures.values_list("state", flat=True))
    if MeasureState.DONE in states:
        return
    if not states:
        raise Conflict("该风险点还没有登记帮扶措施，不能消除：至少有一项帮扶措施“已落实”后方可消除风险点")
    counts = [
        f"{_label(MeasureState.choices, s)} {states.count(s)} 项" for s in MeasureState.values if s in states
    ]
    raise Conflict(
        "该风险点的帮扶措施都还没有落实（"
        + "、".join(counts)
        + "），不能消除：至少有一项帮扶措施“已落实”后方可消除风险点"
    )


def risk_close(*, risk: RiskPoint, actor: User, closed_on: date, note: str) -> RiskPoint:
    """Close a risk point (已消除, with the date and a note): by the town station at once; a village clerk's close is
    a request that waits for the town station (待镇确认). Refused while none of its measures is 已落实."""
    _ensure(actor, "risk.close", risk.region_code, "您的角色不能消除风险点")
    note = (note or "").strip()
    if not note:
        raise ValidationFailed("请说明风险消除的情况")
    if not closed_on:
        raise ValidationFailed("请填写消除日期")
    _not_future(closed_on, "消除日期")
    if closed_on < risk.found_on:
        raise ValidationFailed("消除日期不能早于风险点的发现日期")
    town = actor.can("risk.confirm_close")
    with transaction.atomic():
        r = RiskPoint.objects.lock(risk)
        if r.state == RiskPoint.State.ELIMINATED:
            raise Conflict("该风险点已消除")
        if r.state == RiskPoint.State.CLOSING and not town:
            raise Conflict("已申请消除该风险点，正等待镇扶贫工作站确认")
        _refuse_without_done_measure(r)
        before = {"state": r.state}
        if town:
            r.state, r.eliminated_on = RiskPoint.State.ELIMINATED, closed_on
            step, action = ClosureStep.CLOSED, "risk.closed"
        else:
            r.state = RiskPoint.State.CLOSING
            step, action = ClosureStep.REQUESTED, "risk.close_requested"
        r.save(update_fields=["state", "eliminated_on"])
        RiskClosure.objects.create(
            risk=r, region_code=r.region_code, step=step, closed_on=closed_on, note=note[:500], actor=actor
        )
        audit.record(
            actor, action, r, before=before, after={"state": r.state, "closed_on": closed_on}, note=note
        )
    risk.state, risk.eliminated_on = r.state, r.eliminated_on
    return r


def risk_close_confirm(*, risk: RiskPoint, actor: User, approve: bool, note: str = "") -> RiskPoint:
    """The town station confirms a village's request to close a risk point (已消除 on the date asked for) or
    returns it (未消除 again, with why)."""
    _ensure(actor, "risk.confirm_close", risk.region_code, "只有镇扶贫工作站可以确认风险点消除")
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationFailed("退回时请说明理由")
    with transaction.atomic():
        r = RiskPoint.objects.lock(risk)
        if r.state != RiskPoint.State.CLOSING:
            raise Conflict(f"该风险点当前为“{r.get_state_display()}”，没有待确认的消除申请")
        asked = r.closures.filter(step=ClosureStep.REQUESTED).order_by("-at", "-id").first()
        closed_on = asked.closed_on if asked else _today()
        if approve:
            _refuse_without_done_measure(r)
            r.state, r.eliminated_on = RiskPoint.State.ELIMINATED, closed_on
            step, action = ClosureStep.CONFIRMED, "risk.closed"
        else:
            r.state, r.eliminated_on = RiskPoint.State.OPEN, None
            step, action = ClosureStep.RETURNED, "risk.close_returned"
        r.save(update_fields=["state", "eliminated_on"])
        RiskClosure.objects.create(
            risk=r,
            region_code=r.region_code,
            step=step,
            closed_on=closed_on if approve else None,
            note=(note or "同意消除")[:500],
            actor=actor,
        )
        audit.record(
            actor,
            action,
            r,
            before={"state": RiskPoint.State.CLOSING},
            after={"state": r.state, "closed_on": r.eliminated_on},
            note=note,
        )
    risk.state, risk.eliminated_on = r.state, r.eliminated_on
    return r


__all__ = [
    "M8_RULE",
    "DomainError",
    "catalogue_add",
    "catalogue_set_active",
    "evidence_path",
    "exception_decide",
    "exception_request",
    "measure_create",
    "measure_create_or_ask_exception",
    "measure_evidence_add",
    "measure_progress",
    "measure_type_resolve",
    "risk_close",
    "risk_close_confirm",
    "risk_register",
]
