"""SQLite: migration 0005 rebuilt the member table, and a rebuilt table has lost its planner statistics
(``sqlite_stat1``). Without statistics SQLite can pick plans 20–200× slower for the household list and its
searches (a county's search page took 1.3 s instead of 2 ms after a rebuild of the household table, measured on
250 000 households), so the registry is analysed again.

(Rebuilding the *household* table on SQLite would also drop the triggers that keep ``HouseholdCount`` — migration
0004 — since Django's table rebuild does not carry triggers over: a later migration that alters a household field
on SQLite must create them again.)"""

from django.db import migrations


def analyze_registry(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("ANALYZE registry_household")
        schema_editor.execute("ANALYZE registry_member")


class Migration(migrations.Migration):
    dependencies = [("registry", "0007_income_desc_index_pg")]

    operations = [migrations.RunPython(analyze_registry, migrations.RunPython.noop)]
