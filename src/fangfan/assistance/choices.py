"""The words of 帮扶措施 (DOMAIN.md §6, plan M8, M12): measure categories, kinds, states, exception reasons."""

from django.db import models


class Category(models.TextChoices):
    INDUSTRY = "industry", "产业"
    EMPLOYMENT = "employment", "就业"
    PUBLIC_JOB = "public_job", "公益岗位"
    FINANCE = "finance", "金融"
    HEALTH = "health", "健康"
    EDUCATION = "education", "教育"
    HOUSING = "housing", "住房"
    WATER = "water", "饮水"
    SAFETY_NET = "safety_net", "综合保障"
    SOCIAL = "social", "社会帮扶"
    RELOCATION = "relocation", "易地搬迁"
    CONSUMPTION = "consumption", "消费帮扶"
    CHARITY = "charity", "慈善关爱基金"
    EMERGENCY = "emergency", "救急难基金"
    INSURANCE = "insurance", "防贫保险"


class Kind(models.TextChoices):
    """开发式 builds the household's own capacity; 补贴式 pays a subsidy; 兜底保障 is the social-security safety net.
    M8: a 不享受政策 exited household gets no 补贴式 measure without an approved exception."""

    DEVELOPMENT = "development", "开发式"
    SUBSIDY = "subsidy", "补贴式"
    SAFETY_NET = "safety_net", "兜底保障"


class MeasureState(models.TextChoices):
    PLANNED = "planned", "计划"
    IN_PROGRESS = "in_progress", "落实中"
    DONE = "done", "已落实"
    FAILED = "failed", "未落实"


# Not finished: what a department still has to carry out (待落实).
PENDING_STATES = (MeasureState.PLANNED, MeasureState.IN_PROGRESS)


class ExceptionCause(models.TextChoices):
    """M8: only a major disaster or a family change may bring a 不享受政策 household back to subsidies."""

    DISASTER = "disaster", "重大灾害"
    FAMILY = "family", "家庭变故"


class ExceptionProblem(models.TextChoices):
    """The 两不愁三保障 or drinking-water problem the household cannot bear on its own."""

    FOOD_CLOTHING = "food_clothing", "吃穿不愁"
    EDUCATION = "education", "义务教育"
    MEDICAL = "medical", "基本医疗"
    HOUSING = "housing", "住房安全"
    WATER = "water", "饮水安全"


class ExceptionState(models.TextChoices):
    REQUESTED = "requested", "待镇审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "未批准"


class ClosureStep(models.TextChoices):
    """The steps of closing a risk point: the town closes it, or the village asks and the town confirms or
    returns the request."""

    CLOSED = "closed", "镇扶贫工作站消除"
    REQUESTED = "requested", "村级申请消除"
    CONFIRMED = "confirmed", "镇扶贫工作站确认"
    RETURNED = "returned", "镇扶贫工作站退回"


# --- funds (资金: 镇慈善关爱基金, 救急难基金; plan M10, M12) ------------------------------------------------------


class FundKind(models.TextChoices):
    CHARITY = "charity", "慈善关爱基金"
    EMERGENCY = "emergency", "救急难基金"
    OTHER = "other", "其他"


class EntryKind(models.TextChoices):
    """A movement of money on a fund's ledger: append-only; a mistake is corrected by a 冲正 entry."""

    RECEIPT = "receipt", "收入"
    PAYMENT = "payment", "支出"
    REVERSAL = "reversal", "冲正"


class RequestState(models.TextChoices):
    """A disbursement request: asked by the village or the town station, decided by the town's 镇领导小组, paid by
    the town station (or its payment reversed)."""

    REQUESTED = "requested", "待审批"
    APPROVED = "approved", "已批准待支付"
    REJECTED = "rejected", "未批准"
    PAID = "paid", "已支付"
    REVERSED = "reversed", "已冲正"


# --- consumption assistance (消费帮扶; plan M12) ---------------------------------------------------------------


class ProductCategory(models.TextChoices):
    TEA = "tea", "茶叶"
    RICE = "rice", "大米"
    EGGS = "eggs", "禽蛋"
    POULTRY = "poultry", "禽畜肉"
    VEGETABLES = "vegetables", "蔬菜"
    FRUIT = "fruit", "水果"
    AQUATIC = "aquatic", "水产"
    MOUNTAIN = "mountain", "山货干货"
    HANDICRAFT = "handicraft", "手工制品"
    OTHER = "other", "其他"


class SalesChannel(models.TextChoices):
    CANTEEN = "canteen", "单位食堂采购"
    ONLINE = "online", "电商平台"
    FAIR = "fair", "展销会"
    WORKSHOP = "workshop", "帮扶车间"
    SUPERMARKET = "supermarket", "商超"
    OTHER = "other", "其他"
