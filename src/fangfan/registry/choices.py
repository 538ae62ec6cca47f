"""The registry's code lists, worded as the national system words them (DOMAIN.md §1, §7; DATA-FORMATS §2).

Labels live here, in one place, so a renaming (e.g. 监测对象 → 防止返贫致贫对象) is a one-line change.
"""

from django.db import models


class HouseholdType(models.TextChoices):
    GENERAL = "general", "一般农户"
    EXITED = "exited", "脱贫户"


class ExitedClass(models.TextChoices):
    NOT_ENJOYING = "not_enjoying", "不享受政策"
    ENJOYING = "enjoying", "享受政策"
    MONITORED = "monitored", "脱贫监测户"


class MonitoringType(models.TextChoices):
    UNSTABLE = "unstable", "脱贫不稳定户"
    MARGINAL = "marginal", "边缘易致贫户"
    SUDDEN = "sudden", "突发严重困难户"


MONITORING_TYPE_ALIASES = {"脱贫监测户": MonitoringType.UNSTABLE, "边缘户": MonitoringType.MARGINAL}


class MonitoringState(models.TextChoices):
    MONITORING = "monitoring", "监测中"
    ELIMINATED = "eliminated", "风险已消除"


class Suggestion(models.TextChoices):
    """What the classification rules suggest (registry.classification); never the official status by itself."""

    NOT_ENJOYING = "not_enjoying", "不享受政策"
    ENJOYING = "enjoying", "享受政策"
    MONITORED = "monitored", "脱贫监测户"
    MARGINAL = "marginal", "边缘易致贫户"
    SUDDEN = "sudden_hardship", "突发严重困难户"


class HousingGrade(models.TextChoices):
    A = "A", "A级（安全）"
    B = "B", "B级（基本安全）"
    C = "C", "C级（局部危房）"
    D = "D", "D级（整幢危房）"


RELATIONS = [
    "户主",
    "配偶",
    "之子",
    "之女",
    "之儿媳",
    "之女婿",
    "之孙子",
    "之孙女",
    "之父",
    "之母",
    "之兄弟姐妹",
    "其他",
]
EDUCATION_LEVELS = ["文盲或半文盲", "小学", "初中", "高中", "大专", "本科及以上"]
SCHOOL_STATUSES = [
    "非在校生",
    "学龄前",
    "学前教育",
    "小学",
    "七至九年级",
    "普通高中",
    "中职",
    "高职",
    "本科",
    "硕士及以上",
]
COMPULSORY_STAGES = {"小学", "七至九年级"}
HEALTH_STATES = ["健康", "长期慢性病", "患有大病", "残疾"]
DISABILITY_CATEGORIES = ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"]
DISABILITY_GRADES = ["一级", "二级", "三级", "四级"]
LABOUR_SKILLS = ["普通劳动力", "技能劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力"]
WITH_LABOUR = {"普通劳动力", "技能劳动力", "弱劳动力或半劳动力"}

JOIN_REASONS = ["出生", "婚入", "迁入", "收养", "其他"]
LEAVE_REASONS = ["死亡", "婚出", "迁出", "其他"]
