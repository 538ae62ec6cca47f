"""The words of the approval chains (DOMAIN.md §5, plan M2, M6, M7): processes, levels, case states, actions."""

from django.db import models


class ProcessCode(models.TextChoices):
    IDENTIFY = "identify", "纳入监测"
    IDENTIFY_EDGE = "identify_edge", "边缘户核查认定"
    RECLASSIFY = "reclassify", "脱贫户分类调整"
    ELIMINATE_UNSTABLE = "eliminate_unstable", "风险消除（脱贫不稳定户）"
    ELIMINATE_EDGE = "eliminate_edge", "风险消除（边缘易致贫户、突发严重困难户）"
    REVERT = "revert", "风险消除回退"


class Kind(models.TextChoices):
    """What a case decides — the API's ``process`` (several internal processes may decide the same kind)."""

    IDENTIFY = "identify", "纳入监测"
    ELIMINATE = "eliminate", "风险消除"
    RECLASSIFY = "reclassify", "分类调整"
    REVERT = "revert", "回退"


KIND_OF = {
    ProcessCode.IDENTIFY: Kind.IDENTIFY,
    ProcessCode.IDENTIFY_EDGE: Kind.IDENTIFY,
    ProcessCode.RECLASSIFY: Kind.RECLASSIFY,
    ProcessCode.ELIMINATE_UNSTABLE: Kind.ELIMINATE,
    ProcessCode.ELIMINATE_EDGE: Kind.ELIMINATE,
    ProcessCode.REVERT: Kind.REVERT,
}


class StepLevel(models.TextChoices):
    """The level of region of the acting user: the household's village, town, county or province."""

    VILLAGE = "village", "村"
    TOWN = "town", "乡镇"
    COUNTY = "county", "县"
    PROVINCE = "province", "省"


class CaseState(models.TextChoices):
    OPEN = "open", "办理中"
    DONE = "done", "已办结"
    REJECTED = "rejected", "已驳回"
    WITHDRAWN = "withdrawn", "已撤回"


class Action(models.TextChoices):
    SUBMIT = "submit", "发起"
    APPROVE = "approve", "通过"
    RETURN = "return", "退回"
    REJECT = "reject", "驳回"
    WITHDRAW = "withdraw", "撤回"


class AttachmentKind(models.TextChoices):
    CONSENT = "consent", "承诺授权书"
    MINUTES = "minutes", "会议记录"
    NOTICE_PHOTO = "notice_photo", "公示照片"
    OTHER = "other", "其他"


class EliminationWay(models.TextChoices):
    ASSISTED = "assisted", "帮扶消除"
    NATURAL = "natural", "自然消除"


class Source(models.TextChoices):
    """Where an identification started (DOMAIN.md §5: clue → …)."""

    WARNING = "warning", "部门筛查预警"
    CLUE = "clue", "线索"
    SELF_REPORT = "self_report", "农户自主申报"
    CADRE = "cadre", "基层干部排查"


# Step data schemas (``Step.data_schema``): what a step's approve must carry. 村级填报 (M6) holds the three.
SCHEMA_VISIT = "入户核查"
SCHEMA_CONSENT = "承诺授权"
SCHEMA_MEETING = "民主评议"
SCHEMA_NOTICE = "村内公示"
SCHEMA_VILLAGE_REPORT = "村级填报"
SCHEMAS = [SCHEMA_VISIT, SCHEMA_CONSENT, SCHEMA_MEETING, SCHEMA_NOTICE, SCHEMA_VILLAGE_REPORT]
