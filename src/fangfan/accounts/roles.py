"""Roles, the actions each may take, and the level of region each is bound to.

One user, one role: the three administrators of 三员分立 are separate accounts by construction, and none of them
sees household data. Actions are plain strings (``<area>.<verb>``) checked by ``User.can``; the matrix below is
the single place that grants them.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from fangfan.regions.codes import Level


class Role(models.TextChoices):
    VILLAGE_CLERK = "village_clerk", _("村级经办")
    HELPER = "helper", _("帮扶责任人/联系人")
    TOWN_STATION = "town_station", _("镇扶贫工作站")
    TOWN_LEADER = "town_leader", _("镇领导小组")
    DEPARTMENT = "department", _("部门")
    COUNTY_REVIEW = "county_review", _("市县审核")
    PROVINCE_RECORD = "province_record", _("省级备案")
    SYS_ADMIN = "sys_admin", _("系统管理员")
    SEC_ADMIN = "sec_admin", _("安全管理员")
    AUDIT_ADMIN = "audit_admin", _("审计管理员")
    SYSTEM = "system", _("系统（命令行）")


class Department(models.TextChoices):
    CIVIL = "civil", _("民政")
    MEDICAL = "medical", _("医保")
    EDUCATION = "education", _("教育")
    HOUSING = "housing", _("住建")
    WATER = "water", _("水利")
    EMPLOYMENT = "employment", _("人社")
    DISABILITY = "disability", _("残联")
    DISASTER = "disaster", _("应急")
    REGISTRY = "registry", _("公安")


ADMIN_ROLES = frozenset({Role.SYS_ADMIN, Role.SEC_ADMIN, Role.AUDIT_ADMIN})

_READ_HOUSEHOLDS = {"region.view", "household.view", "dashboard.view", "warning.view"}
# ``warning.visit``: completing a verification visit (入户核查: confirm or exclude each warning of a household) —
# the village's work (clerk, helper) and the town station's, never a reviewing role's (town leader, county:
# ``warning.review`` does not complete one). ``warning.verify`` is the village's inbox and its warning form.
# ``warning.review`` reads (the overdue lists, the clues); a reviewing role acts only in the approval chains.
_TOWN_WORK = _READ_HOUSEHOLDS | {
    "household.edit",
    "household.import",
    "household.export",
    "household.view_id",
    "household.view_phone",
    "household.contact",
    "policy.view",
    "warning.review",
    "warning.visit",
    "screen.run",
    "department.import",
    "job.view",
}

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.VILLAGE_CLERK: frozenset(
        _READ_HOUSEHOLDS
        | {
            "household.edit",
            "household.export",
            "household.import",
            "household.view_phone",
            "household.contact",
            "warning.verify",
            "warning.visit",
            "job.view",
        }
        # 帮扶措施 (issue 18): the village records and carries out measures, asks the town to close a risk point.
        | {"measure.view", "measure.edit", "measure.progress", "measure.exception_request"}
        | {"risk.register", "risk.close"}
        # 资金 (issue 20): the village sees the funds and asks for a payment to a household.
        | {"fund.view"}
        | {"fund.request"}
        # 消费帮扶: the village records its households' products and sales.
        | {"consumption.view"}
        | {"consumption.edit"}
    ),
    # The contact (联系人) calls the household every month (plan 四(二)2): the number whole, each time audited.
    # …and records each contact (plan 四(二)2: monthly, what was learned).
    Role.HELPER: frozenset(
        _READ_HOUSEHOLDS
        | {"household.view_phone", "household.contact", "warning.verify", "warning.visit"}
        # 帮扶措施: the helper sees the measures of the households they help carry out (plan 四(二)2).
        | {"measure.view"}
        # 消费帮扶: the helper sees the sales arranged for the households they help.
        | {"consumption.view"}
    ),
    Role.TOWN_STATION: frozenset(
        _TOWN_WORK
        | {"policy.edit"}
        # 帮扶措施: the town station records measures, approves M8 exceptions, closes risk points (or confirms
        # a village's request), registers risks found by inspections.
        | {"measure.view", "measure.edit", "measure.progress", "measure.exception_request"}
        | {"measure.exception_approve", "risk.register", "risk.close", "risk.confirm_close"}
        # Reading clues and what is late is ``warning.review`` (the town leader and the county read them too);
        # acting on them is the station's alone (docs/roles.md): linking a clue to a household or closing it, and
        # recording the warnings fed back from above (督查暗访反馈, 市级反馈预警: plan 二(三)).
        | {"clue.handle", "warning.feedback"}
        # 资金: the town station keeps the funds' books — receipts, requests, payments (after the 镇领导小组's
        # approval) and reversals.
        | {"fund.view"}
        | {"fund.receive"}
        | {"fund.pay"}
        | {"fund.request"}
        # 消费帮扶
        | {"consumption.view"}
        | {"consumption.edit"}
    ),
    Role.TOWN_LEADER: frozenset(
        _READ_HOUSEHOLDS
        | {"household.export", "policy.view", "warning.review", "job.view"}
        # 帮扶措施: read only.
        | {"measure.view"}
        # 资金: the 镇领导小组 approves (or rejects) every payment from a fund before the town station makes it.
        | {"fund.view"}
        | {"fund.approve"}
        | {"consumption.view"}
    ),
    Role.DEPARTMENT: frozenset(
        {"region.view", "department.import", "department.view", "warning.view", "job.view"}
        # 帮扶措施: the measures assigned to its department (待落实措施), their progress and evidence.
        | {"measure.view", "measure.progress"}
    ),
    Role.COUNTY_REVIEW: frozenset(
        _READ_HOUSEHOLDS
        | {"household.export", "policy.view", "policy.edit", "warning.review", "screen.run", "job.view"}
        # 帮扶措施: read, and the measure catalogue (add, retire).
        | {"measure.view", "catalogue.manage"}
        # 资金, 消费帮扶: read only.
        | {"fund.view"}
        | {"consumption.view"}
    ),
    Role.PROVINCE_RECORD: frozenset(
        _READ_HOUSEHOLDS
        | {"household.export", "policy.view", "policy.edit", "job.view"}
        # 帮扶措施: read only.
        | {"measure.view"}
        # 资金, 消费帮扶: read only.
        | {"fund.view"}
        | {"consumption.view"}
    ),
    # No job pages: no kind of job is the system administrator's (docs/roles.md).
    Role.SYS_ADMIN: frozenset({"region.view", "region.manage", "user.manage"}),
    # Password resets are the security administrator's (never of their own or another security administrator's
    # account); the person must change the password at the next sign-in.
    # …and so are second-factor resets (accounts.second_factor.reset), on the same terms.
    Role.SEC_ADMIN: frozenset(
        {"region.view", "security.manage", "user.unlock", "user.reset_password", "user.reset_second_factor"}
    ),
    Role.AUDIT_ADMIN: frozenset({"region.view", "audit.view", "audit.export"}),
    # The command-line operator: no grants here, because ``User.can`` allows it every action (``is_operator``);
    # it never signs in on the web.
    Role.SYSTEM: frozenset(),
}

# The levels of region each role may be bound to.
ROLE_LEVELS: dict[str, frozenset[Level]] = {
    Role.VILLAGE_CLERK: frozenset({Level.VILLAGE}),
    Role.HELPER: frozenset({Level.VILLAGE, Level.TOWN}),
    Role.TOWN_STATION: frozenset({Level.TOWN}),
    Role.TOWN_LEADER: frozenset({Level.TOWN}),
    Role.DEPARTMENT: frozenset({Level.TOWN, Level.COUNTY, Level.CITY, Level.PROVINCE}),
    Role.COUNTY_REVIEW: frozenset({Level.COUNTY, Level.CITY}),
    Role.PROVINCE_RECORD: frozenset({Level.PROVINCE}),
    Role.SYS_ADMIN: frozenset(Level),
    Role.SEC_ADMIN: frozenset(Level),
    Role.AUDIT_ADMIN: frozenset(Level),
    Role.SYSTEM: frozenset(Level),
}

# Personal API tokens (``accounts.tokens``): every working role may hold them and acts through them exactly as on the
# web; the three administrators and the command-line account never do (an administrator's work stays on the pages,
# where it is seen).
TOKEN_ACTION = "api.token"  # noqa: S105 - an action name, not a secret
for _role in (
    Role.VILLAGE_CLERK,
    Role.HELPER,
    Role.TOWN_STATION,
    Role.TOWN_LEADER,
    Role.DEPARTMENT,
    Role.COUNTY_REVIEW,
    Role.PROVINCE_RECORD,
):
    ROLE_ACTIONS[_role] = ROLE_ACTIONS[_role] | {TOKEN_ACTION}

# Approval chains (issue 19, ``workflows``): ``case.view`` reads the cases of the jurisdiction, ``case.start`` starts
# one (the role of a process's first step: the village clerk, or the town station for 边缘户/突发户 elimination),
# ``case.act`` acts on a step — which step is the process's data (``workflows.Step.role``): the reading roles
# (town leader, county, province) act only on their own steps.
_CASE_ACTIONS = {
    Role.VILLAGE_CLERK: {"case.view", "case.start", "case.act"},
    Role.HELPER: {"case.view"},
    Role.TOWN_STATION: {"case.view", "case.start", "case.act"},
    Role.TOWN_LEADER: {"case.view", "case.act"},
    Role.COUNTY_REVIEW: {"case.view", "case.act"},
    Role.PROVINCE_RECORD: {"case.view", "case.act"},
}
for _role, _actions in _CASE_ACTIONS.items():
    ROLE_ACTIONS[_role] = ROLE_ACTIONS[_role] | _actions

# The national system (全国防返贫监测信息系统, issue 19 point 6): ``household.sync_national`` applies an imported
# workbook's official status fields (户类型, 脱贫户分类, 监测对象类型, 监测状态, 识别/消除时间) to existing households —
# an import otherwise leaves them as they are and lists the differences. ``decision.export`` writes a period's
# decisions (cases ended 已办结) as the spreadsheet a clerk uploads into the national system. Both are the town
# station's (it keeps the system up to date for the town, plan 三(二)) and the county's (市县审定, where the national
# system is kept); the county imports only this way.
_NATIONAL_ACTIONS = {
    Role.TOWN_STATION: {"household.sync_national", "decision.export"},
    Role.COUNTY_REVIEW: {"household.sync_national", "decision.export"},
}
for _role, _actions in _NATIONAL_ACTIONS.items():
    ROLE_ACTIONS[_role] = ROLE_ACTIONS[_role] | _actions

ALL_ACTIONS = frozenset().union(*ROLE_ACTIONS.values())


def actions_for(role: str) -> frozenset[str]:
    return ROLE_ACTIONS.get(role, frozenset())
