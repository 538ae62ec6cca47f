"""Two list orders a county user asks for that no index served (measured on 250 000 households,
benchmarks/list_query.py):

* 突发严重困难户 (or another monitoring-object type) sorted by 年人均纯收入: the list walked the income index until 51
  households of that type turned up, 7–10 ms on both databases. ``hh_montype_income_idx`` is led by the type, then
  income: 0.1–0.3 ms. It replaces (region, monitoring_type), whose work the region-led covering index
  ``hh_region_cover_idx`` already does. On PostgreSQL the index holds income ``DESC NULLS LAST``, the order of the
  descending list (households without members last); read backwards it is not the ascending order, which PostgreSQL
  takes from ``hh_income_cover_idx`` instead, and SQLite sorts the few rows of one type either way (SQLite cannot
  declare NULLS LAST in an index).
* 家庭人口 (size), either direction: the whole county was sorted for every page (24 ms on SQLite, 67 ms on
  PostgreSQL for page 1). ``hh_size_cover_idx`` is built like the income index.

SQLite keeps planner statistics per index (``sqlite_stat1``), so the new indexes are analysed at once (see 0008)."""

from django.db import migrations, models

PG_MONTYPE_DESC = [
    "DROP INDEX IF EXISTS hh_montype_income_idx",
    "CREATE INDEX hh_montype_income_idx ON registry_household (monitoring_type, cancelled, "
    "per_capita_income DESC NULLS LAST, id, region_id, household_type, exited_class, monitoring_state, suggestion)",
]


def tune(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in PG_MONTYPE_DESC:
            schema_editor.execute(sql)
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("ANALYZE hh_montype_income_idx")
        schema_editor.execute("ANALYZE hh_size_cover_idx")


class Migration(migrations.Migration):
    dependencies = [
        ("regions", "0001_initial"),
        ("registry", "0008_analyze_after_rebuild"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="household", name="hh_region_montype_idx"),
        migrations.AddIndex(
            model_name="household",
            index=models.Index(
                fields=[
                    "monitoring_type",
                    "cancelled",
                    "per_capita_income",
                    "id",
                    "region",
                    "household_type",
                    "exited_class",
                    "monitoring_state",
                    "suggestion",
                ],
                name="hh_montype_income_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="household",
            index=models.Index(
                fields=[
                    "cancelled",
                    "size",
                    "id",
                    "region",
                    "household_type",
                    "exited_class",
                    "monitoring_type",
                    "monitoring_state",
                    "suggestion",
                ],
                name="hh_size_cover_idx",
            ),
        ),
        # Reversing leaves the (model-state) indexes to the operations above; nothing else to undo.
        migrations.RunPython(tune, migrations.RunPython.noop),
    ]
