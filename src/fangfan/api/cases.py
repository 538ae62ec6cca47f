"""Cases: the approval chains (spec/API.md "Cases"), through the same services as the pages
(``workflows.services``). A case outside the user's jurisdiction answers 404 like a missing one; the role of the
current step decides who acts (403 for a role that never acts on the process, 409 out of order or after someone
else acted); a failed elimination condition is 422 with ``conditions``.

``process``: ``identify`` (纳入监测, the seven-step national chain), ``eliminate`` (风险消除: 脱贫不稳定户 through the
province, the others town → county), ``reclassify``, ``revert``; also the internal ``identify_edge`` (the plan's
M2 check of 边缘户: 村"两委"研究 → 镇领导小组 → 确认 → 报市级备案)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, File, Form, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import StrictInt

from fangfan.core.errors import Conflict as DomainConflict
from fangfan.monitoring.selectors import household_by_number
from fangfan.workflows import selectors, services
from fangfan.workflows.choices import CaseState, Kind
from fangfan.workflows.models import Case
from fangfan.workflows.rules import step_due

from .auth import PersonalBearer
from .common import ERRORS, ApiError, ErrorOut, ObjectId, PageQuery, StrictId, acting_user, page_schema, paged

router = Router(auth=PersonalBearer(), tags=["审批"])
VIEW, START, ACT = "case.view", "case.start", "case.act"
WITH_CONFLICT = {**ERRORS, 409: ErrorOut}


class StepOut(Schema):
    name: str
    role: str
    level: str
    due_on: date | None


class DoneStepOut(Schema):
    name: str
    by: str
    action: str
    at: datetime
    comment: str
    data: dict[str, Any]


class ConditionOut(Schema):
    name: str
    met: bool
    evidence: str


class CaseOut(Schema):
    id: int
    process: str
    process_name: str
    household_no: str
    state: str
    step: StepOut | None
    steps: list[DoneStepOut]
    conditions: list[ConditionOut]
    due_on: date
    overdue: bool
    version: int


class CaseIn(Schema):
    process: str
    household_no: str
    reason: str
    monitoring_type: str | None = None
    risk_types: list[str] | None = None
    exited_class: str | None = None
    elimination_way: str | None = None
    source: str | None = None


class ActionIn(Schema):
    action: str
    comment: str = ""
    data: dict[str, Any] | None = None
    override_reason: str = ""
    version: StrictInt | None = None  # compared, never looked up


class BatchIn(Schema):
    ids: list[StrictId] = Field(max_length=500, description="事项编号，最多 500 件")
    action: str
    comment: str = ""


class BatchResult(Schema):
    id: int
    ok: bool
    state: str | None = None
    detail: str | None = None


class BatchOut(Schema):
    results: list[BatchResult]


class CaseFilter(Schema):
    waiting: str | None = None
    process: str | None = None
    state: str | None = None


CasePage = page_schema(CaseOut, "CasePage")


def case_out(case: Case, *, with_conditions: bool = True) -> dict:
    step = case.current_step
    conditions = services.case_conditions(case) if with_conditions and case.state == CaseState.OPEN else []
    done = [a for a in selectors.case_history(case) if a.action != "submit"]
    return {
        "id": case.pk,
        "process": case.kind,
        "process_name": case.process.name,
        "household_no": case.household.number,
        "state": case.get_state_display(),
        "step": (
            {"name": step.name, "role": step.role, "level": step.level, "due_on": step_due(case)}
            if step
            else None
        ),
        "steps": [
            {
                "name": a.step.name if a.step else "",
                "by": a.actor.username,
                "action": a.action,
                "at": a.at,
                "comment": a.comment,
                "data": a.data,
            }
            for a in done
        ],
        "conditions": [{"name": c.name, "met": c.met, "evidence": c.evidence} for c in conditions],
        "due_on": case.due_on,
        "overdue": case.state == CaseState.OPEN and case.due_on < timezone.localdate(),
        "version": case.version,
    }


def _case(user, case_id: int) -> Case:
    case = selectors.cases_for_user(user).filter(pk=case_id).first()
    if case is None:
        raise ApiError(404, f"没有找到编号为 {case_id} 的审批事项（或不在您的管辖范围内）")
    return case


def _refusal(exc: Exception) -> ApiError:
    if isinstance(exc, PermissionDenied):
        return ApiError(403, str(exc) or "您的角色无权办理")
    if isinstance(exc, DomainConflict):
        return ApiError(409, exc.message)
    conditions = getattr(exc, "conditions", None)
    if conditions is not None:
        rows = [{"name": c.name, "met": c.met, "evidence": c.evidence} for c in conditions]
        return ApiError(422, exc.message, conditions=rows)
    raise exc


@router.post(
    "",
    response={201: CaseOut, **WITH_CONFLICT},
    summary="发起审批事项",
    description="process：identify（纳入监测，须 monitoring_type 与 risk_types）、eliminate（风险消除，可选 "
    "elimination_way：帮扶消除/自然消除，不填按是否有已落实措施判定）、reclassify（分类调整，须 exited_class）、"
    "revert（回退）；另有 identify_edge（边缘户核查认定）。发起人的角色须是第一个环节的办理角色。",
)
def case_create(request: HttpRequest, payload: CaseIn):
    user = acting_user(request, START, "发起审批事项")
    household = household_by_number(user, payload.household_no, "household.view")
    if household is None:
        raise ApiError(404, f"没有找到户编号为 {payload.household_no[:40]} 的农户（或不在您的管辖范围内）")
    try:
        case = services.case_start(
            household=household,
            actor=user,
            process=payload.process,
            reason=payload.reason,
            source=payload.source or "",
            monitoring_type=payload.monitoring_type or "",
            risk_types=payload.risk_types,
            exited_class=payload.exited_class or "",
            elimination_way=payload.elimination_way or "",
        )
    except (PermissionDenied, DomainConflict) as exc:
        raise _refusal(exc) from None
    return Status(201, case_out(_case(user, case.pk)))


@router.get(
    "",
    response={200: CasePage, **ERRORS},
    summary="审批事项列表（我的待办）",
    description="waiting=me：等待我办理的事项（按办结期限排列）；否则为管辖范围内的全部事项。process 与 state "
    "按事项与状态筛选（state 可用中文：办理中/已办结/已驳回/已撤回）。",
)
def case_list(request: HttpRequest, filters: Query[CaseFilter], paging: Query[PageQuery]):
    user = acting_user(request, VIEW, "查看审批事项")
    state = filters.state or ""
    for code, label in CaseState.choices:
        if state == str(label):
            state = code
    if state and state not in CaseState.values:
        raise ApiError(422, "state 应为 办理中、已办结、已驳回 或 已撤回")
    process = filters.process or ""
    kind = process if process in Kind.values else ""
    rows = selectors.case_list(
        user,
        waiting=filters.waiting == "me",
        kind=kind,
        process="" if kind else process,
        state=state,
    )
    return paged(rows, paging, lambda c: case_out(c, with_conditions=False))


@router.post(
    "/batch",
    response={200: BatchOut, **ERRORS},
    summary="批量办理",
    description="ids（最多 500 件）逐件核对、逐件留痕；一件不能办理不影响其他。",
)
def case_batch(request: HttpRequest, payload: BatchIn):
    user = acting_user(request, ACT, "批量办理审批事项")
    results = services.cases_batch(
        ids=payload.ids, actor=user, action=payload.action, comment=payload.comment
    )
    return {"results": [{k: v for k, v in r.items() if k != "status"} for r in results]}


@router.get("/{case_id}", response={200: CaseOut, **ERRORS}, summary="查看一件审批事项")
def case_detail(request: HttpRequest, case_id: Path[ObjectId]):
    user = acting_user(request, VIEW, "查看审批事项")
    return case_out(_case(user, case_id))


@router.post(
    "/{case_id}/actions",
    response={200: CaseOut, **WITH_CONFLICT},
    summary="办理：通过、退回、驳回、撤回",
    description="action：approve / return / reject / withdraw；退回与驳回须填 comment。民主评议 data "
    "{meeting_on, attendees, agreed}；村内公示 data {notice_from, notice_to, objections}（不少于 5 天，"
    "不晚于今天结束）。风险消除条件未满足时答 422 并附 conditions；市县审核可填 override_reason 越过（标注存疑）。"
    "version（可选）：您看到的事项版本号，他人已办理时答 409。",
)
def case_action(request: HttpRequest, case_id: Path[ObjectId], payload: ActionIn):
    user = acting_user(request, ACT, "办理审批事项")
    case = _case(user, case_id)
    try:
        case = services.case_act(
            case=case,
            actor=user,
            action=payload.action,
            comment=payload.comment,
            data=payload.data,
            override_reason=payload.override_reason,
            expected_version=payload.version if payload.version is not None else case.version,
        )
    except (PermissionDenied, DomainConflict, services.ConditionsFailed) as exc:
        raise _refusal(exc) from None
    return case_out(_case(user, case.pk))


@router.post(
    "/{case_id}/attachments",
    response={201: dict, **WITH_CONFLICT},
    summary="上传审批材料",
    description="multipart：file（JPG、PNG 或 PDF，按内容识别，不超过 10 MB）与 kind（承诺授权书/会议记录/公示照片/"
    "其他）。由当前环节的办理人上传。",
)
def case_attachment(request: HttpRequest, case_id: Path[ObjectId], kind: Form[str], file: File[UploadedFile]):
    user = acting_user(request, ACT, "上传审批材料")
    case = _case(user, case_id)
    try:
        att = services.case_attach(case=case, actor=user, kind=kind, upload=file)
    except (PermissionDenied, DomainConflict) as exc:
        raise _refusal(exc) from None
    return Status(
        201,
        {"id": att.pk, "kind": att.get_kind_display(), "size": att.size, "content_type": att.content_type},
    )
