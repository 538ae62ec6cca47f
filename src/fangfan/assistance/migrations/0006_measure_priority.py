"""Each measure carries its household's priority (``Measure.priority``: 0 for a 监测对象 whose risk is not eliminated
or a 脱贫监测户, else 1), kept equal to the household's by triggers — whoever writes: services, imports, the
national synchronisation, the approval chains, raw SQL. The 措施落实 list sorts by it from
``measure_region_order_idx`` instead of joining each of a town's measures to its household to sort them.

A measure inserted or moved to another household (or given a priority by a full ``save()`` of a stale row) takes
its household's; a household whose 脱贫户分类 / 监测对象类型 / 监测状态 change so that its priority changes passes it
to its measures. Rebuilding the household table on SQLite (a later registry migration altering a field there) drops
the household trigger, as for registry migrations 0004 and 0010: such a migration must create it again
(``tests/assistance/test_measure_priority.py`` checks the triggers are there after the migrations)."""

from django.db import migrations, models

MEASURE = "assistance_measure"
HOUSEHOLD = "registry_household"


def prio(h: str) -> str:
    return (
        f"CASE WHEN {h}.exited_class = 'monitored' OR ({h}.monitoring_type <> '' AND "
        f"{h}.monitoring_state <> 'eliminated') THEN 0 ELSE 1 END"
    )


LOOKUP = f"(SELECT {prio('h')} FROM {HOUSEHOLD} h WHERE h.id = NEW.household_id)"

SQLITE_UP = [
    f"""CREATE TRIGGER assistance_measure_priority_insert AFTER INSERT ON {MEASURE}
        WHEN NEW.priority IS NOT {LOOKUP} BEGIN
        UPDATE {MEASURE} SET priority = {LOOKUP} WHERE id = NEW.id;
        END;""",
    f"""CREATE TRIGGER assistance_measure_priority_move AFTER UPDATE OF household_id, priority ON {MEASURE}
        WHEN NEW.priority IS NOT {LOOKUP} BEGIN
        UPDATE {MEASURE} SET priority = {LOOKUP} WHERE id = NEW.id;
        END;""",
    f"""CREATE TRIGGER registry_household_priority_measures
        AFTER UPDATE OF exited_class, monitoring_type, monitoring_state ON {HOUSEHOLD}
        WHEN {prio("OLD")} IS NOT {prio("NEW")} BEGIN
        UPDATE {MEASURE} SET priority = {prio("NEW")} WHERE household_id = NEW.id;
        END;""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS assistance_measure_priority_insert;",
    "DROP TRIGGER IF EXISTS assistance_measure_priority_move;",
    "DROP TRIGGER IF EXISTS registry_household_priority_measures;",
]

# PostgreSQL: a BEFORE row trigger sets the measure's own row (measures are written a few at a time, never by COPY);
# the household's AFTER trigger runs only when the WHEN finds the priority changed.
PG_UP = [
    f"""CREATE OR REPLACE FUNCTION assistance_measure_priority() RETURNS trigger AS $$
        BEGIN NEW.priority := {LOOKUP}; RETURN NEW; END; $$ LANGUAGE plpgsql;""",
    f"""CREATE OR REPLACE FUNCTION registry_household_priority_measures() RETURNS trigger AS $$
        BEGIN UPDATE {MEASURE} SET priority = {prio("NEW")} WHERE household_id = NEW.id; RETURN NULL; END;
        $$ LANGUAGE plpgsql;""",
    f"""CREATE TRIGGER assistance_measure_priority_set BEFORE INSERT OR UPDATE OF household_id, priority
        ON {MEASURE} FOR EACH ROW EXECUTE FUNCTION assistance_measure_priority();""",
    f"""CREATE TRIGGER registry_household_priority_measures
        AFTER UPDATE OF exited_class, monitoring_type, monitoring_state ON {HOUSEHOLD} FOR EACH ROW
        WHEN ({prio("OLD")} IS DISTINCT FROM {prio("NEW")})
        EXECUTE FUNCTION registry_household_priority_measures();""",
]
PG_DOWN = [
    f"DROP TRIGGER IF EXISTS assistance_measure_priority_set ON {MEASURE};",
    f"DROP TRIGGER IF EXISTS registry_household_priority_measures ON {HOUSEHOLD};",
    "DROP FUNCTION IF EXISTS assistance_measure_priority();",
    "DROP FUNCTION IF EXISTS registry_household_priority_measures();",
]
FILL = f"UPDATE {MEASURE} SET priority = (SELECT {prio('h')} FROM {HOUSEHOLD} h WHERE h.id = {MEASURE}.household_id)"


def fill(apps, schema_editor):
    schema_editor.execute(FILL)


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_UP, "postgresql": PG_UP}.get(vendor, []):
        schema_editor.execute(sql)
    # Statistics for the new indexes: without them SQLite planned the 兜底保障 doubt through the wrong one (8 ms
    # instead of 1 for a town of 1 500 measures).
    schema_editor.execute(f"ANALYZE {MEASURE}")


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_DOWN, "postgresql": PG_DOWN}.get(vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("assistance", "0005_measure_region_cover_index"),
        ("registry", "0020_contact_record_to_assistance"),
    ]

    operations = [
        migrations.AddField(
            model_name="measure",
            name="priority",
            field=models.PositiveSmallIntegerField(
                db_default=1, default=1, editable=False, verbose_name="监测对象优先"
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="measure",
            index=models.Index(
                fields=["region_code", "priority", "planned_on", "id", "state"], name="measure_region_order_idx"
            ),
        ),
        migrations.RemoveIndex(model_name="measure", name="measure_department_idx"),
        migrations.AddIndex(
            model_name="measure",
            index=models.Index(
                fields=["department", "state", "region_code", "priority", "planned_on", "id"],
                name="measure_department_idx",
            ),
        ),
        migrations.RunPython(install, uninstall),
    ]
