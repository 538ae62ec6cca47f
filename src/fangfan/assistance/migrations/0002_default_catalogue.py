"""The default measure catalogue (DOMAIN.md §6, plan M12): category, kind (M8 reads it), the department that
usually carries it out, the risk types it suits. A frozen copy: the county edits the catalogue on its page."""

from django.db import migrations

# code, name, category, kind, department, risk types
DEFAULTS = [
    ("industry_award", "产业奖补", "industry", "subsidy", "", ["industry", "income"]),
    ("industry_guidance", "产业技术指导", "industry", "development", "", ["industry", "income"]),
    ("migrant_subsidy", "外出务工补贴", "employment", "subsidy", "employment", ["employment", "income"]),
    ("labour_export", "劳务输出", "employment", "development", "employment", ["employment", "income"]),
    ("skills_training", "技能培训", "employment", "development", "employment", ["employment", "industry", "income"]),
    ("public_job", "公益岗位", "public_job", "development", "employment", ["labour", "employment", "income"]),
    ("microcredit", "小额信贷", "finance", "development", "", ["industry", "income"]),
    ("insurance_subsidy", "医保缴费补贴", "health", "subsidy", "medical", ["illness"]),
    ("medical_aid", "医疗救助", "health", "safety_net", "medical", ["illness", "sudden"]),
    ("yulu_plan", "雨露计划", "education", "subsidy", "education", ["schooling"]),
    ("education_aid", "教育资助", "education", "subsidy", "education", ["schooling"]),
    ("school_guarantee", "义务教育保障（控辍保学）", "education", "development", "education", ["schooling"]),
    ("housing_renovation", "危房改造", "housing", "subsidy", "housing", ["housing", "disaster"]),
    ("water_safety", "饮水安全保障", "water", "subsidy", "water", ["water"]),
    ("dibao", "低保", "safety_net", "safety_net", "civil", ["labour", "illness", "disability", "income", "sudden"]),
    ("tekun", "特困供养", "safety_net", "safety_net", "civil", ["labour", "disability"]),
    ("disability_subsidy", "残疾人补贴", "safety_net", "safety_net", "disability", ["disability"]),
    ("temporary_aid", "临时救助", "safety_net", "safety_net", "civil", ["accident", "disaster", "family", "sudden"]),
    ("social_help", "社会帮扶", "social", "development", "", []),
    ("relocation", "易地搬迁", "relocation", "development", "housing", ["housing", "disaster"]),
    ("consumption", "消费帮扶", "consumption", "development", "", ["industry", "income"]),
    ("charity_fund", "慈善关爱基金", "charity", "subsidy", "", ["illness", "accident", "family", "sudden"]),
    ("emergency_fund", "救急难基金", "emergency", "subsidy", "", ["accident", "disaster", "family", "sudden"]),
    ("poverty_insurance", "防贫保险", "insurance", "subsidy", "", ["illness", "accident", "disaster", "schooling"]),
]


def load(apps, schema_editor):
    MeasureType = apps.get_model("assistance", "MeasureType")
    for sort, (code, name, category, kind, department, risks) in enumerate(DEFAULTS, start=1):
        MeasureType.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "category": category,
                "kind": kind,
                "department": department,
                "risk_types": risks,
                "sort": sort * 10,
            },
        )


def unload(apps, schema_editor):
    MeasureType = apps.get_model("assistance", "MeasureType")
    MeasureType.objects.filter(code__in=[d[0] for d in DEFAULTS], measures__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("assistance", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
