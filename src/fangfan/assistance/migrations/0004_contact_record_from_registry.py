"""联系记录 come over from ``registry`` (issue 17) without moving a row: the model is created in the migration state
only, on the existing table ``registry_contactrecord`` (and its index ``contact_household_day_idx``). The content
type follows the model, so nothing keyed by it is left pointing at a model that no longer exists."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def content_type_forward(apps, schema_editor):
    _move_content_type(apps, "registry", "assistance")


def content_type_backward(apps, schema_editor):
    _move_content_type(apps, "assistance", "registry")


def _move_content_type(apps, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    if ContentType.objects.filter(app_label=new, model="contactrecord").exists():
        return  # already there (created by a post-migrate signal): the old one is left alone
    ContentType.objects.filter(app_label=old, model="contactrecord").update(app_label=new)


class Migration(migrations.Migration):

    dependencies = [
        ("assistance", "0003_funds_and_consumption"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("registry", "0020_contact_record_to_assistance"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ContactRecord",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("contacted_on", models.DateField(verbose_name="联系日期")),
                        (
                            "way",
                            models.CharField(
                                choices=[
                                    ("visit", "入户走访"),
                                    ("phone", "电话"),
                                    ("sms", "短信"),
                                    ("wechat", "微信"),
                                    ("video", "视频"),
                                ],
                                max_length=10,
                                verbose_name="联系方式",
                            ),
                        ),
                        ("living", models.TextField(blank=True, verbose_name="生活状况")),
                        ("risks", models.TextField(blank=True, verbose_name="风险隐患")),
                        ("needs", models.TextField(blank=True, verbose_name="帮扶需求")),
                        ("risk_found", models.BooleanField(default=False, verbose_name="发现返贫致贫风险")),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="登记时间")),
                        (
                            "household",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="contacts",
                                to="registry.household",
                                verbose_name="农户",
                            ),
                        ),
                        (
                            "recorded_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="联系人",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "联系记录",
                        "verbose_name_plural": "联系记录",
                        "db_table": "registry_contactrecord",
                        "ordering": ["-contacted_on", "-id"],
                        "indexes": [
                            models.Index(fields=["household", "contacted_on"], name="contact_household_day_idx")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_forward, content_type_backward, elidable=True),
    ]
