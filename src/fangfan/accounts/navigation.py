"""The navigation each role sees: one entry per page, shown only to roles whose actions allow it."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    action: str
    group: str = ""
    # Pages outside the entry's address that belong to it (view names): a job's page is a 后台任务 whether it
    # came from an import or an export.
    also: tuple[str, ...] = ()
    # A count shown next to the entry (a dotted path to ``f(user) -> int | str`` such as "99+", imported when asked: accounts sits
    # below the apps that own the counts).
    count: str = ""


NAV: list[NavItem] = [
    NavItem("工作台", "home", "region.view"),
    NavItem("农户档案", "registry:household_list", "household.view"),
    NavItem("导入农户", "transfer:import", "household.import", "监测对象"),
    # The county imports only to synchronise with the national system: the same page, under that name (a role
    # that has both sees the page once, as 导入农户).
    NavItem("与国家系统同步", "transfer:import", "household.sync_national", "监测对象"),
    NavItem("预警", "monitoring:warning_list", "warning.view"),
    NavItem("部门数据", "department:batch_list", "department.import", "数据比对"),
    NavItem(
        "措施落实", "assistance:measure_list", "measure.view", "帮扶措施", also=("assistance:measure_detail",)
    ),
    NavItem("待落实措施", "assistance:measure_todo", "measure.progress", "帮扶措施"),
    NavItem("措施目录", "assistance:catalogue", "catalogue.manage", "帮扶措施"),
    NavItem(
        "我的待办",
        "workflows:inbox",
        "case.act",
        "审批",
        also=("workflows:case_detail", "workflows:case_start", "workflows:batch"),
        count="fangfan.workflows.selectors.waiting_badge",
    ),
    NavItem("审批事项", "workflows:case_list", "case.view", "审批"),
    NavItem("报送国家系统", "workflows:decisions_export", "decision.export", "审批"),
    NavItem("台账", "reports:ledger_index", "dashboard.view", "统计报表", also=("reports:ledger",)),
    NavItem("月报", "reports:monthly", "dashboard.view", "统计报表"),
    NavItem(
        "资金",
        "assistance:fund_list",
        "fund.view",
        "帮扶措施",
        also=(
            "assistance:fund_ledger",
            "assistance:fund_receive",
            "assistance:fund_requests",
            "assistance:fund_pay",
            "assistance:fund_reverse",
        ),
    ),
    NavItem("消费帮扶", "assistance:consumption", "consumption.view", "帮扶措施"),
    NavItem("筛查记录", "department:screening_list", "screen.run", "数据比对"),
    NavItem("政策参数", "policy:parameter_list", "policy.view", "设置"),
    NavItem(
        "后台任务",
        "core:job_list",
        "job.view",
        "设置",
        also=("core:job_detail", "transfer:job", "transfer:job_problems", "reports:ledger_job"),
    ),
    NavItem("行政区划", "regions:region_list", "region.manage", "系统管理"),
    NavItem("用户管理", "accounts:user_list", "user.manage", "系统管理"),
    NavItem("账号安全", "accounts:security", "security.manage", "安全管理"),
    NavItem("审计日志", "core:audit_list", "audit.view", "审计"),
]


def items_for(user) -> list[dict]:
    items = []
    shown: set[str] = set()
    for item in NAV:
        if not user.can(item.action) or item.url_name in shown:
            continue
        shown.add(item.url_name)
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue  # the page belongs to a capability not installed yet
        count = import_string(item.count)(user) if item.count else None
        items.append(
            {"label": item.label, "url": url, "group": item.group, "also": item.also, "count": count}
        )
    return items
