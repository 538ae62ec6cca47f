"""Risk types, channels and department sources, worded as the national system words them (DOMAIN.md §4)."""

from django.db import models


class RiskType(models.TextChoices):
    ILLNESS = "illness", "因病"
    DISABILITY = "disability", "因残"
    SCHOOLING = "schooling", "因学"
    DISASTER = "disaster", "因灾"
    ACCIDENT = "accident", "因意外事故"
    INDUSTRY = "industry", "因产业项目失败"
    EMPLOYMENT = "employment", "因务工就业不稳"
    LABOUR = "labour", "缺劳动力"
    HOUSING = "housing", "因安全住房"
    WATER = "water", "因安全饮水"
    FAMILY = "family", "家庭变故"
    EPIDEMIC = "epidemic", "疫情影响"
    INCOME = "income", "收入低于监测标准"
    SUDDEN = "sudden", "突发严重困难"
    OTHER = "other", "其他"
    DOUBT = "doubt", "数据疑点"


class Channel(models.TextChoices):
    SELF_REPORT = "self_report", "农户自主申报"
    CADRE = "cadre", "基层干部排查"
    DEPARTMENT = "department", "部门筛查预警"
    INSPECTION = "inspection", "督查暗访反馈"
    CITY = "city", "市级反馈预警"


class Source(models.TextChoices):
    """Department data sources (DATA-FORMATS §3): the CLI name and the department."""

    MEDICAL = "medical", "医保"
    CIVIL = "civil", "民政"
    DISABILITY = "disability", "残联"
    EDUCATION = "education", "教育"
    HOUSING = "housing", "住建"
    WATER = "water", "水利"
    DISASTER = "disaster", "应急"
    EMPLOYMENT = "employment", "人社"
    REGISTRY = "registry", "公安"
    EXCLUSION = "exclusion", "比对排除（车辆/房产/工商/公职/存款）"
