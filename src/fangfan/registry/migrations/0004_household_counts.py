"""Households counted per village and classification (``HouseholdCount``), kept exact by triggers on
``registry_household`` so that every writer — services, the importer's bulk path, the recompute, the demo, raw
SQL — updates it in its own transaction; filled once from the households already there. The income-ordered index
grows to hold every column the list filters on. ANALYZE afterwards: SQLite's planner, without statistics for a new
index, takes ``cancelled = ?`` on it for selective and reads the whole county (measured 2 s for one list page).
"""

from django.db import migrations, models

KEYS = "household_type, exited_class, monitoring_type, monitoring_state, suggestion, cancelled"
COUNT = "registry_householdcount"
DELTA = "registry_householdcountdelta"
COLUMNS = f"region_code, {KEYS}, households, people"


def _values(row: str, sign: str) -> str:
    keys = ", ".join(f"{row}.{k.strip()}" for k in KEYS.split(","))
    return f"{row}.region_id, {keys}, {sign}1, {sign}{row}.size"


_CHANGED = " OR ".join(
    f"OLD.{c} IS NOT NEW.{c}" for c in ["region_id", *[k.strip() for k in KEYS.split(",")], "size"]
)
_UPSERT = (
    f"ON CONFLICT (region_code, {KEYS}) DO UPDATE SET households = households + excluded.households, "
    "people = people + excluded.people"
)
_WHERE_OLD = " AND ".join(
    f"{c} = OLD.{s}"
    for c, s in [("region_code", "region_id"), *[(k.strip(), k.strip()) for k in KEYS.split(",")]]
)

# SQLite: one writer at a time, so the triggers add to the count rows directly.
SQLITE_UP = [
    f"""CREATE TRIGGER registry_household_count_insert AFTER INSERT ON registry_household BEGIN
        INSERT INTO {COUNT} ({COLUMNS}) VALUES ({_values("NEW", "")}) {_UPSERT};
        END;""",
    f"""CREATE TRIGGER registry_household_count_update AFTER UPDATE ON registry_household
        WHEN {_CHANGED} BEGIN
        UPDATE {COUNT} SET households = households - 1, people = people - OLD.size WHERE {_WHERE_OLD};
        INSERT INTO {COUNT} ({COLUMNS}) VALUES ({_values("NEW", "")}) {_UPSERT};
        END;""",
    f"""CREATE TRIGGER registry_household_count_delete AFTER DELETE ON registry_household BEGIN
        UPDATE {COUNT} SET households = households - 1, people = people - OLD.size WHERE {_WHERE_OLD};
        END;""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS registry_household_count_insert;",
    "DROP TRIGGER IF EXISTS registry_household_count_update;",
    "DROP TRIGGER IF EXISTS registry_household_count_delete;",
]

# PostgreSQL: writers append changes (no row of the count table is locked by a writer, so an import does not make
# an edit wait, nor deadlock with it); readers add the changes, and fold them in now and then. A bulk INSERT (COPY)
# or DELETE appends one row per group and statement; an UPDATE appends two rows per household whose counted
# columns changed (a row trigger whose WHEN is checked without calling the function; a statement trigger would run
# once for every statement of an executemany).
_PG_GROUPED = f"""INSERT INTO {DELTA} ({COLUMNS})
    SELECT region_id, {KEYS}, %(sign)sCOUNT(*), %(sign)sCOALESCE(SUM(size), 0) FROM %(rows)s
    GROUP BY region_id, {KEYS};"""
PG_UP = [
    f"""CREATE OR REPLACE FUNCTION registry_household_count_insert() RETURNS trigger AS $$
        BEGIN {_PG_GROUPED % {"sign": "", "rows": "new_rows"}} RETURN NULL; END; $$ LANGUAGE plpgsql;""",
    f"""CREATE OR REPLACE FUNCTION registry_household_count_delete() RETURNS trigger AS $$
        BEGIN {_PG_GROUPED % {"sign": "-", "rows": "old_rows"}} RETURN NULL; END; $$ LANGUAGE plpgsql;""",
    f"""CREATE OR REPLACE FUNCTION registry_household_count_update() RETURNS trigger AS $$
        BEGIN INSERT INTO {DELTA} ({COLUMNS}) VALUES ({_values("OLD", "-")}), ({_values("NEW", "")});
        RETURN NULL; END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER registry_household_count_insert AFTER INSERT ON registry_household
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_household_count_insert();""",
    """CREATE TRIGGER registry_household_count_delete AFTER DELETE ON registry_household
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_household_count_delete();""",
    f"""CREATE TRIGGER registry_household_count_update AFTER UPDATE ON registry_household FOR EACH ROW
        WHEN ({_CHANGED.replace(" IS NOT ", " IS DISTINCT FROM ")})
        EXECUTE FUNCTION registry_household_count_update();""",
]
PG_DOWN = [
    "DROP TRIGGER IF EXISTS registry_household_count_insert ON registry_household;",
    "DROP TRIGGER IF EXISTS registry_household_count_delete ON registry_household;",
    "DROP TRIGGER IF EXISTS registry_household_count_update ON registry_household;",
    "DROP FUNCTION IF EXISTS registry_household_count_insert();",
    "DROP FUNCTION IF EXISTS registry_household_count_delete();",
    "DROP FUNCTION IF EXISTS registry_household_count_update();",
]
FILL = f"""INSERT INTO {COUNT} ({COLUMNS})
    SELECT region_id, {KEYS}, COUNT(*), COALESCE(SUM(size), 0) FROM registry_household GROUP BY region_id, {KEYS}"""


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_UP, "postgresql": PG_UP}.get(vendor, []):
        schema_editor.execute(sql)
    schema_editor.execute(FILL)
    schema_editor.execute("ANALYZE registry_household")


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_DOWN, "postgresql": PG_DOWN}.get(vendor, []):
        schema_editor.execute(sql)
    schema_editor.execute(f"DELETE FROM {COUNT}")
    schema_editor.execute(f"DELETE FROM {DELTA}")


class Migration(migrations.Migration):
    dependencies = [
        ("regions", "0001_initial"),
        ("registry", "0003_covering_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="HouseholdCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("region_code", models.CharField(max_length=12, verbose_name="村（社区）代码")),
                (
                    "household_type",
                    models.CharField(
                        choices=[("general", "一般农户"), ("exited", "脱贫户")],
                        max_length=10,
                        verbose_name="户类型",
                    ),
                ),
                ("exited_class", models.CharField(blank=True, max_length=20, verbose_name="脱贫户分类")),
                ("monitoring_type", models.CharField(blank=True, max_length=20, verbose_name="监测对象类型")),
                ("monitoring_state", models.CharField(blank=True, max_length=20, verbose_name="监测状态")),
                ("suggestion", models.CharField(blank=True, max_length=20, verbose_name="系统建议分类")),
                ("cancelled", models.BooleanField(default=False, verbose_name="已注销")),
                ("households", models.IntegerField(default=0, verbose_name="户数")),
                ("people", models.IntegerField(default=0, verbose_name="人数")),
            ],
            options={
                "verbose_name": "农户分类计数",
                "verbose_name_plural": "农户分类计数",
            },
        ),
        migrations.CreateModel(
            name="HouseholdCountDelta",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("region_code", models.CharField(max_length=12, verbose_name="村（社区）代码")),
                ("household_type", models.CharField(max_length=10, verbose_name="户类型")),
                ("exited_class", models.CharField(blank=True, max_length=20, verbose_name="脱贫户分类")),
                ("monitoring_type", models.CharField(blank=True, max_length=20, verbose_name="监测对象类型")),
                ("monitoring_state", models.CharField(blank=True, max_length=20, verbose_name="监测状态")),
                ("suggestion", models.CharField(blank=True, max_length=20, verbose_name="系统建议分类")),
                ("cancelled", models.BooleanField(default=False, verbose_name="已注销")),
                ("households", models.IntegerField(default=0, verbose_name="户数")),
                ("people", models.IntegerField(default=0, verbose_name="人数")),
            ],
            options={
                "verbose_name": "农户分类计数变动",
                "verbose_name_plural": "农户分类计数变动",
            },
        ),
        migrations.RemoveIndex(
            model_name="household",
            name="hh_income_order_idx",
        ),
        migrations.AddIndex(
            model_name="household",
            index=models.Index(
                fields=[
                    "cancelled",
                    "per_capita_income",
                    "id",
                    "region",
                    "household_type",
                    "exited_class",
                    "monitoring_type",
                    "monitoring_state",
                    "suggestion",
                ],
                name="hh_income_cover_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="householdcount",
            constraint=models.UniqueConstraint(
                fields=(
                    "region_code",
                    "household_type",
                    "exited_class",
                    "monitoring_type",
                    "monitoring_state",
                    "suggestion",
                    "cancelled",
                ),
                name="household_count_key",
            ),
        ),
        migrations.AddIndex(
            model_name="householdcountdelta",
            index=models.Index(fields=["region_code"], name="household_count_delta_idx"),
        ),
        migrations.RunPython(install, uninstall),
    ]
