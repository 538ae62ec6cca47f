"""帮扶措施 over the API (spec/API.md: Risk points and measures): the catalogue, a household's measures, their
progress, closing a risk point. Through the same services as the pages (``fangfan.assistance.services``): the role
check first (403), then the object found through ``for_user`` (404 outside the jurisdiction — and, for a department
user, outside its department's measures), then the service's own rules (422 input or policy, 409 state).

Registering a risk point directly is ``POST /households/{no}/risks``, next to its list in ``households``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from fangfan.assistance import services
from fangfan.assistance.models import Measure, MeasureType
from fangfan.monitoring.models import RiskPoint
from fangfan.monitoring.selectors import household_by_number

from .auth import PersonalBearer
from .common import (
    ERRORS,
    WRITE_ERRORS,
    ApiError,
    ObjectId,
    PageQuery,
    StrictId,
    acting_user,
    label,
    page_schema,
    paged,
)
from .households import RiskOut, risk_out

router = Router(auth=PersonalBearer(), tags=["帮扶措施"])


class CatalogueOut(Schema):
    code: str
    name: str
    category: str
    kind: str
    department: str | None


class MeasureIn(Schema):
    measure: str = Field(max_length=50, description="措施目录的编码或名称，如 dibao 或 低保")
    risk_id: StrictId | None = Field(None, description="本户的风险点编号；不填则为针对全户的措施")
    department: str | None = Field(
        None, max_length=20, description="责任部门（如 民政、医保）；不填取措施目录的部门，填空字符串表示无"
    )
    planned_on: date
    amount: Decimal | None = Field(None, description="金额（元），最多两位小数")
    exception_reason: str | None = Field(
        None,
        max_length=500,
        description="不享受政策的脱贫户登记补贴式措施而尚无获批的政策例外时，说明例外情况（重大灾害或家庭变故）。"
        "镇扶贫工作站：申请并批准例外，登记措施（201）；村级经办：登记例外申请，答 422 说明待镇审批。",
    )
    exception_cause: str | None = Field(
        None, max_length=20, description="例外的原因类别：重大灾害 / 家庭变故"
    )
    exception_problem: str | None = Field(
        None,
        max_length=20,
        description="无力解决的问题：吃穿不愁 / 义务教育 / 基本医疗 / 住房安全 / 饮水安全",
    )


class MeasureOut(Schema):
    id: int
    measure: str
    kind: str
    risk_id: int | None
    department: str | None
    state: str
    planned_on: date
    done_on: date | None
    amount: float | None


class ProgressIn(Schema):
    state: str = Field(max_length=10, description="落实中 / 已落实 / 未落实")
    done_on: date | None = Field(None, description="落实日期（已落实时；不填为今天）")
    note: str = Field("", max_length=500, description="落实情况；未落实时须说明原因")


class CloseIn(Schema):
    closed_on: date
    note: str = Field(max_length=500, description="风险消除的情况")


CataloguePage = page_schema(CatalogueOut, "CataloguePage")


def measure_out(m: Measure) -> dict:
    return {
        "id": m.pk,
        "measure": m.measure_type.name,
        "kind": m.measure_type.get_kind_display(),
        "risk_id": m.risk_id,
        "department": label(m, "department"),
        "state": m.get_state_display(),
        "planned_on": m.planned_on,
        "done_on": m.done_on,
        "amount": float(m.amount) if m.amount is not None else None,
    }


def catalogue_out(mt: MeasureType) -> dict:
    return {
        "code": mt.code,
        "name": mt.name,
        "category": mt.get_category_display(),
        "kind": mt.get_kind_display(),
        "department": label(mt, "department"),
    }


def _not_found(what: str):
    return ApiError(404, f"没有找到{what}（或不在您的管辖范围内）")


@router.get(
    "/measure-catalogue",
    response={200: CataloguePage, **ERRORS},
    summary="查看帮扶措施目录",
    description="在用的措施（已停用的不再用于新措施），按目录顺序分页；kind 为 开发式 / 补贴式 / 兜底保障。",
)
def catalogue(request: HttpRequest, paging: Query[PageQuery]):
    acting_user(request, "measure.view", "查看帮扶措施")
    rows = MeasureType.objects.filter(active=True).order_by("sort", "id")
    return paged(rows, paging, catalogue_out)


@router.post(
    "/households/{household_no}/measures",
    response={201: MeasureOut, **WRITE_ERRORS},
    summary="为一户登记帮扶措施",
    description="measure 为措施目录的编码或名称；risk_id 为本户未消除的风险点（不填则针对全户）。"
    "不享受政策的脱贫户登记补贴式措施须有镇扶贫工作站批准的政策例外，否则答 422 并说明政策规定；"
    "填 exception_reason（及 exception_cause、exception_problem）时：镇扶贫工作站申请并批准例外后登记措施；"
    "村级经办登记例外申请，答 422（附 exception_id、exception_state），待镇审批后再登记。",
)
def measure_add(request: HttpRequest, household_no: str, payload: MeasureIn):
    user = acting_user(request, "measure.edit", "登记帮扶措施")
    household = household_by_number(user, household_no, "measure.edit")
    if household is None:
        raise _not_found(f"户编号为 {household_no[:40]} 的农户")
    risk = None
    if payload.risk_id is not None:
        risk = RiskPoint.objects.for_user(user, "measure.edit").filter(pk=payload.risk_id).first()
        if risk is None or risk.household_id != household.pk:
            raise ApiError(422, f"风险点 {payload.risk_id} 不是该户的风险点")
    measure, exception = services.measure_create_or_ask_exception(
        household=household,
        actor=user,
        measure=payload.measure,
        risk=risk,
        department=payload.department,
        planned_on=payload.planned_on,
        amount=payload.amount,
        exception_reason=payload.exception_reason or "",
        exception_cause=payload.exception_cause or "",
        exception_problem=payload.exception_problem or "",
    )
    if measure is None:
        raise ApiError(
            422,
            services.M8_RULE
            + f"已登记政策例外申请（编号 {exception.pk}），待镇扶贫工作站批准后再登记本措施。",
            exception_id=exception.pk,
            exception_state=exception.get_state_display(),
        )
    return Status(201, measure_out(measure))


@router.post(
    "/measures/{measure_id}/progress",
    response={200: MeasureOut, **WRITE_ERRORS},
    summary="更新措施落实情况",
    description="state：落实中 / 已落实 / 未落实（须说明原因）；已落实为最终状态。部门用户只能更新本部门的措施。",
)
def measure_progress(request: HttpRequest, measure_id: Path[ObjectId], payload: ProgressIn):
    user = acting_user(request, "measure.progress", "更新措施落实情况")
    measure = (
        Measure.objects.for_user(user, "measure.progress")
        .select_related("measure_type")
        .filter(pk=measure_id)
        .first()
    )
    if measure is None:
        raise _not_found(f"编号为 {measure_id} 的帮扶措施")
    services.measure_progress(
        measure=measure, actor=user, state=payload.state, done_on=payload.done_on, note=payload.note
    )
    return Status(200, measure_out(measure))


@router.post(
    "/risks/{risk_id}/close",
    response={200: RiskOut, **WRITE_ERRORS},
    summary="消除风险点",
    description="至少有一项帮扶措施“已落实”后方可消除，否则答 409 并说明各措施的状态。"
    "镇扶贫工作站消除后为“已消除”；村级经办的消除是申请，答 200，状态为“待镇确认”，由镇扶贫工作站确认。",
)
def risk_close(request: HttpRequest, risk_id: Path[ObjectId], payload: CloseIn):
    user = acting_user(request, "risk.close", "消除风险点")
    risk = RiskPoint.objects.for_user(user, "risk.close").filter(pk=risk_id).first()
    if risk is None:
        raise _not_found(f"编号为 {risk_id} 的风险点")
    services.risk_close(risk=risk, actor=user, closed_on=payload.closed_on, note=payload.note)
    return Status(200, risk_out(risk))
