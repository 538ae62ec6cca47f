"""The ledgers' indexes: ``hh_monitored_idx`` carries the row id on PostgreSQL (an index-only read of a place's
monitored households; SQLite's index has the rowid anyway), and the heads' masked ID numbers by household
(``member_head_masked_idx``). The planner's statistics are refreshed for the new indexes (SQLite chose the old
plans without them)."""

from django.db import migrations, models


def analyze(apps, schema_editor):
    for table in ("registry_household", "registry_member"):
        schema_editor.execute(f"ANALYZE {table}")


class Migration(migrations.Migration):
    dependencies = [
        ("regions", "0001_initial"),
        ("registry", "0020_contact_record_to_assistance"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="household",
            name="hh_monitored_idx",
        ),
        migrations.AddIndex(
            model_name="household",
            index=models.Index(
                condition=models.Q(("cancelled", False), models.Q(("monitoring_type", ""), _negated=True)),
                fields=[
                    "region",
                    "number",
                    "monitoring_type",
                    "monitoring_state",
                    "identified_month",
                    "cancelled",
                    "head_name",
                    "size",
                    "per_capita_income",
                    "eliminated_month",
                    "id",
                ],
                name="hh_monitored_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="member",
            index=models.Index(
                condition=models.Q(("is_head", True)),
                fields=["household", "status", "id_masked"],
                name="member_head_masked_idx",
            ),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
