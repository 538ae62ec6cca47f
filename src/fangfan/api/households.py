"""Households and their risk points, read (spec/API.md: Households, Risk points). Through the same selectors as
the pages: ``household.view`` for the role (else 403), the household found inside the user's jurisdiction (else
404, the same answer as a number that does not exist). No ID number, phone or name is in these answers."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from ninja import Query, Router, Schema

from fangfan.monitoring.selectors import household_by_number, household_risks

from .auth import PersonalBearer
from .common import ERRORS, ApiError, PageQuery, acting_user, label, month, page_schema, paged

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


def _household(request: HttpRequest, household_no: str):
    user = acting_user(request, VIEW, "查看农户档案")
    household = household_by_number(user, household_no, VIEW)
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
