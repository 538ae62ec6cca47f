"""Each member carries its household's village (``Member.household_region``), kept equal to the household's by
triggers — whoever writes: services, the importer's bulk paths, the demo, raw SQL — and the name and initials
indexes hold it. A search's exact count then reads the matching members' index entries only (``wj`` in a county:
11 600 members, each household looked up before: 7 ms on SQLite, 48 ms on PostgreSQL), and a town's search page
finds its matches without probing the town's households one by one.

A writer may give the column on insert (the importer's bulk copy takes it from the household it joins); left empty
(''), the insert trigger fills it. An update that sets the member's household or the column itself (Django's full
``save()`` writes back what it loaded, which may be stale) is corrected from the household; moving a household to
another village updates its members.

Rebuilding the member or household table on SQLite (a later migration altering a field there) drops the triggers
on that table, as for migration 0004: such a migration must create them again (``tests/registry/test_counts.py``
checks that every trigger is there after the migrations)."""

from django.db import migrations, models

MEMBER = "registry_member"
HOUSEHOLD = "registry_household"
LOOKUP = f"(SELECT region_id FROM {HOUSEHOLD} WHERE id = NEW.household_id)"

SQLITE_UP = [
    f"""CREATE TRIGGER registry_member_region_insert AFTER INSERT ON {MEMBER}
        WHEN NEW.household_region = '' BEGIN
        UPDATE {MEMBER} SET household_region = {LOOKUP} WHERE id = NEW.id;
        END;""",
    f"""CREATE TRIGGER registry_member_region_move AFTER UPDATE OF household_id, household_region ON {MEMBER}
        WHEN NEW.household_region IS NOT {LOOKUP} BEGIN
        UPDATE {MEMBER} SET household_region = {LOOKUP} WHERE id = NEW.id;
        END;""",
    f"""CREATE TRIGGER registry_household_region_members AFTER UPDATE OF region_id ON {HOUSEHOLD}
        WHEN NEW.region_id IS NOT OLD.region_id BEGIN
        UPDATE {MEMBER} SET household_region = NEW.region_id WHERE household_id = NEW.id;
        END;""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS registry_member_region_insert;",
    "DROP TRIGGER IF EXISTS registry_member_region_move;",
    "DROP TRIGGER IF EXISTS registry_household_region_members;",
]

# PostgreSQL: row triggers. The insert trigger runs AFTER the row is in (a BEFORE row trigger turns COPY's batched
# inserts into one insert per row) and its WHEN is checked without calling the function: a bulk COPY that gives the
# column costs one comparison per row. A WHEN cannot hold a subquery: the update trigger always looks up.
PG_UP = [
    f"""CREATE OR REPLACE FUNCTION registry_member_region() RETURNS trigger AS $$
        BEGIN NEW.household_region := {LOOKUP}; RETURN NEW; END; $$ LANGUAGE plpgsql;""",
    f"""CREATE OR REPLACE FUNCTION registry_member_region_fill() RETURNS trigger AS $$
        BEGIN UPDATE {MEMBER} SET household_region = {LOOKUP} WHERE id = NEW.id; RETURN NULL; END;
        $$ LANGUAGE plpgsql;""",
    f"""CREATE OR REPLACE FUNCTION registry_household_region_members() RETURNS trigger AS $$
        BEGIN UPDATE {MEMBER} SET household_region = NEW.region_id WHERE household_id = NEW.id; RETURN NULL; END;
        $$ LANGUAGE plpgsql;""",
    f"""CREATE TRIGGER registry_member_region_insert AFTER INSERT ON {MEMBER} FOR EACH ROW
        WHEN (NEW.household_region = '') EXECUTE FUNCTION registry_member_region_fill();""",
    f"""CREATE TRIGGER registry_member_region_move BEFORE UPDATE OF household_id, household_region ON {MEMBER}
        FOR EACH ROW EXECUTE FUNCTION registry_member_region();""",
    f"""CREATE TRIGGER registry_household_region_members AFTER UPDATE OF region_id ON {HOUSEHOLD} FOR EACH ROW
        WHEN (NEW.region_id IS DISTINCT FROM OLD.region_id) EXECUTE FUNCTION registry_household_region_members();""",
]
PG_DOWN = [
    f"DROP TRIGGER IF EXISTS registry_member_region_insert ON {MEMBER};",
    f"DROP TRIGGER IF EXISTS registry_member_region_move ON {MEMBER};",
    f"DROP TRIGGER IF EXISTS registry_household_region_members ON {HOUSEHOLD};",
    "DROP FUNCTION IF EXISTS registry_member_region();",
    "DROP FUNCTION IF EXISTS registry_member_region_fill();",
    "DROP FUNCTION IF EXISTS registry_household_region_members();",
]
FILL = f"UPDATE {MEMBER} SET household_region = (SELECT h.region_id FROM {HOUSEHOLD} h WHERE h.id = {MEMBER}.household_id)"


def fill(apps, schema_editor):
    schema_editor.execute(FILL)


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_UP, "postgresql": PG_UP}.get(vendor, []):
        schema_editor.execute(sql)
    schema_editor.execute(f"ANALYZE {MEMBER}")


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_DOWN, "postgresql": PG_DOWN}.get(vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("registry", "0009_list_order_indexes")]

    operations = [
        migrations.RemoveIndex(model_name="member", name="member_name_cover_idx"),
        migrations.RemoveIndex(model_name="member", name="member_initials_cover_idx"),
        migrations.AddField(
            model_name="member",
            name="household_region",
            field=models.CharField(
                default="", db_default="", editable=False, max_length=12, verbose_name="所属村（社区）代码"
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="member",
            index=models.Index(
                fields=["name", "status", "household_region", "household"], name="member_name_cover_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="member",
            index=models.Index(
                fields=["name_initials", "status", "household_region", "household"],
                name="member_initials_cover_idx",
            ),
        ),
        migrations.RunPython(install, uninstall),
    ]
