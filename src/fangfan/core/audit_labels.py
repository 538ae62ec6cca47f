"""The Chinese name of every audit action code (``audit.record(actor, "<code>", …)`` across the code base), in one
table: the audit page shows it, with the code beside it in small grey text. ``tests/core/test_audit_labels.py``
fails when a code is recorded somewhere without a name here."""

from __future__ import annotations

ACTION_LABELS: dict[str, str] = {
    # accounts and security
    "auth.login": "登录",
    "auth.logout": "退出登录",
    "auth.login_failed": "登录失败",
    "user.created": "新建账号",
    "user.updated": "修改账号",
    "user.password_reset": "重置密码",
    "user.unlocked": "解除账号锁定",
    "audit.exported": "导出审计日志",
    "files.purged": "删除到期文件",
    # regions and policy
    "region.imported": "导入行政区划",
    "policy.set": "设置政策参数",
    # the registry
    "household.created": "建立农户档案",
    "household.imported": "导入农户档案",
    "household.updated": "修改农户信息",
    "household.head_changed": "变更户主",
    "household.split": "分户",
    "household.merged": "合户",
    "household.cancelled": "注销农户",
    "household.exported": "导出农户清单",
    "households.recomputed": "重新计算农户收入和分类建议",
    "member.created": "登记成员",
    "member.imported": "导入成员信息",
    "member.updated": "修改成员信息",
    "member.added": "增加成员",
    "member.removed": "减少成员",
    "member.id_viewed": "查看完整证件号",
    "household.phone_viewed": "查看完整联系电话",
    "member.phone_viewed": "查看成员完整联系电话",
    "household.helper_assigned": "指定帮扶责任人/联系人",
    "household.helper_released": "解除帮扶责任人/联系人",
    "household.contacted": "登记联系记录",
    "household.ledger_exported": "导出联系台账",
    # early warning
    "department.imported": "导入部门数据",
    "department.unmatched_exported": "导出未匹配的部门数据",
    "department_token.created": "新建部门报送令牌",
    "department_token.revoked": "吊销部门报送令牌",
    "screening.run": "运行预警筛查",
    "warning.created": "登记预警",
    "warning.bundled": "预警归入核查任务",
    "warning.exported": "导出预警清单",
    "task.verified": "完成入户核查",
    "risk.created": "登记风险点",
    "clue.created": "收到线索（农户自主申报）",
    "clue.linked": "线索关联农户",
    "clue.closed": "线索办结",
    "member.elsewhere_shown": "显示证件号码已在其他地区登记",
    "history.snapshot": "记录农户月度数据",
    # 帮扶措施
    "catalogue.added": "新增帮扶措施目录",
    "catalogue.retired": "停用帮扶措施",
    "catalogue.restored": "恢复帮扶措施",
    "measure.created": "登记帮扶措施",
    "measure.progressed": "更新措施落实情况",
    "measure.evidence_added": "上传措施佐证材料",
    "measure.ledger_exported": "导出帮扶措施落实台账",
    "exception.requested": "申请政策例外",
    "exception.approved": "批准政策例外",
    "exception.rejected": "不批准政策例外",
    "risk.closed": "风险点消除",
    "risk.close_requested": "申请风险点消除（待镇确认）",
    "risk.close_returned": "退回风险点消除申请",
    # jobs, accounts and API tokens
    "job.downloaded": "下载任务文件",
    "job.retried": "重试后台任务",
    "user.password_changed": "修改本人密码",
    "personal_token.issued": "签发个人接口令牌",
    "personal_token.revoked": "吊销个人接口令牌",
    # ledgers and reports
    "ledger.exported": "导出台账",
    "report.monthly_exported": "导出月报",
    # approval chains
    "case.started": "发起审批",
    "case.approved": "审批通过",
    "case.returned": "退回上一步",
    "case.rejected": "审批不通过",
    "case.withdrawn": "撤回审批",
    "case.condition_overridden": "不满足条件仍予通过（县级说明理由）",
    "case.attachment_added": "上传审批附件",
    "case.attachment_downloaded": "下载审批附件",
    "case.notice_printed": "打印公示",
    "household.status_decided": "审批办结，调整农户正式状态",
    "process.versioned": "发布审批流程新版本",
    # funds and consumption assistance
    "fund.created": "设立基金",
    "fund.received": "基金收入",
    "fund.requested": "申请资金",
    "fund.approved": "批准资金申请",
    "fund.rejected": "不批准资金申请",
    "fund.paid": "基金支付",
    "fund.reversed": "冲正",
    "fund.ledger_exported": "导出资金台账",
    "consumption.product_added": "登记农产品",
    "consumption.product_restocked": "补记农产品数量",
    "consumption.sale_recorded": "登记消费帮扶销售",
    "consumption.ledger_exported": "导出消费帮扶台账",
    # the demo
    "demo.generated": "生成演示数据",
    "demo.backlog": "模拟演示核查工作",
}


def action_label(code: str) -> str:
    """The Chinese name of an action code, or "" for a code this table does not know."""
    return ACTION_LABELS.get(code, "")
