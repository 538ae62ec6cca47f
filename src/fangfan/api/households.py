"""Households and their risk points, read (spec/API.md: Households, Risk points). Through the same selectors as
the pages: ``household.view`` for the role (else 403), the household found inside the user's jurisdiction (else
404, the same answer as a number that does not exist). No ID number, phone or name is in these answers."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from fangfan.assistance.services import risk_register
from fangfan.monitoring.selectors import household_by_number, household_risks

from .auth import PersonalBearer
from .common import ERRORS, WRITE_ERRORS, ApiError, PageQuery, acting_user, label, month, page_schema, paged

router = Router(auth=PersonalBearer(), tags=["农户"])
VIEW = "household.view"


class RiskOut(Schema):
    id: int
    risk_type: str
    channel: str
    found_on: date
    deadline: date
    state: str
    description: str


class RiskIn(Schema):
    risk_type: str = Field(max_length=20, description="风险类型，如 因病、因学、突发严重困难（数据疑点除外）")
    channel: str = Field(
        max_length=20, description="来源：农户自主申报 / 基层干部排查 / 督查暗访反馈 / 市级反馈预警"
    )
    found_on: date
    description: str = Field(max_length=500, description="风险情况")


class HouseholdOut(Schema):
    household_no: str
    region_code: str
    household_type: str
    exited_year: int | None
    exited_class: str | None
    monitoring_type: str | None
    monitoring_state: str | None
    identified_month: str | None
    eliminated_month: str | None
    size: int
    per_capita_income: float | None
    suggestion: str | None
    suggestion_reason: str
    cancelled: bool
    risks: list[RiskOut]


RiskPage = page_schema(RiskOut, "RiskPage")


def risk_out(risk) -> dict:
    return {
        "id": risk.pk,
        "risk_type": risk.get_risk_type_display(),
        "channel": risk.get_channel_display(),
        "found_on": risk.found_on,
        "deadline": risk.deadline,
        "state": risk.get_state_display(),
        "description": risk.description,
    }


def household_out(household, risks) -> dict:
    income = household.per_capita_income
    return {
        "household_no": household.number,
        "region_code": household.region_id,
        "household_type": household.get_household_type_display(),
        "exited_year": household.exit_year,
        "exited_class": label(household, "exited_class"),
        "monitoring_type": label(household, "monitoring_type"),
        "monitoring_state": label(household, "monitoring_state"),
        "identified_month": month(household.identified_month),
        "eliminated_month": month(household.eliminated_month),
        "size": household.size,
        "per_capita_income": float(income) if income is not None else None,
        "suggestion": label(household, "suggestion"),
        "suggestion_reason": household.suggestion_reason,
        "cancelled": household.cancelled,
        "risks": [risk_out(r) for r in risks],
    }


def _household(request: HttpRequest, household_no: str, action: str = VIEW, what: str = "查看农户档案"):
    user = acting_user(request, action, what)
    household = household_by_number(user, household_no, action)
    if household is None:
        raise ApiError(404, f"没有找到户编号为 {household_no[:40]} 的农户（或不在您的管辖范围内）")
    return household


@router.get(
    "/{household_no}",
    response={200: HouseholdOut, **ERRORS},
    summary="查看一户的档案",
    description="户类型、脱贫户分类、监测对象类型与状态等取中文名称（与导入导出文件相同），日期 YYYY-MM-DD，"
    "年月 YYYY-MM，金额为以元计的数字；附该户的全部风险点。不含证件号码、电话和姓名。"
    "辖区以外的农户与不存在的户编号一样答 404。",
)
def household_detail(request: HttpRequest, household_no: str):
    household = _household(request, household_no)
    return household_out(household, household_risks(household))


@router.get(
    "/{household_no}/risks",
    response={200: RiskPage, **ERRORS},
    summary="列出一户的风险点",
    description="分页：page、page_size（最多 500）；按发现日期排列。",
)
def household_risk_list(request: HttpRequest, household_no: str, paging: Query[PageQuery]):
    household = _household(request, household_no)
    return paged(household_risks(household), paging, risk_out)


@router.post(
    "/{household_no}/risks",
    response={201: RiskOut, **WRITE_ERRORS},
    summary="为一户直接登记风险点",
    description="如督查暗访、市级反馈或基层干部排查发现的风险；风险类型与来源取中文名称（也接受代码），"
    "限期消除日期按本村的政策参数计算。已注销的农户答 409。",
)
def household_risk_add(request: HttpRequest, household_no: str, payload: RiskIn):
    household = _household(request, household_no, "risk.register", "登记风险点")
    risk = risk_register(household=household, actor=request.auth, **payload.dict())
    return Status(201, risk_out(risk))
