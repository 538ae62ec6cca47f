"""PostgreSQL: the two member columns that are only ever matched by equality — the blind index of the ID number and
its last four characters, both ASCII — compare byte by byte (collation "C") instead of through the database's
locale.

Under any other collation (even ``C.UTF-8``) PostgreSQL compares every pair of values with ``strcoll`` and cannot
sort on abbreviated keys, so building their indexes after a county's bulk load (853 000 members,
``bulkdb.indexes_deferred``) took 1.33 and 0.91 s; with "C", 0.59 and 0.41 s (measured on the benchmark database).
An equality finds the same rows under any deterministic collation. The name and initials columns stay in the
database's collation although "C" halves their index builds too (1.28 → 0.62 s for the name's): under "C" the
planner estimated a prefix range such as initials "wj" over a county at 4 500 rows instead of 8 000 (11 600 real),
and planned the county search's page differently; the list's plans stay those that were measured
(benchmarks/list_query.py). SQLite compares bytes already.

The model does not declare the collation (SQLite has no collation named "C"); a later ``AlterField`` of one of these
columns on PostgreSQL would set the default collation back, which costs speed, never correctness.
"""

from django.db import migrations

COLUMNS = {"id_index": 64, "id_last4": 4}  # column → varchar length, as the model declares it


def _alter(schema_editor, collation: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    changes = ", ".join(
        f'ALTER COLUMN "{column}" TYPE varchar({length}) COLLATE {collation}'
        for column, length in COLUMNS.items()
    )
    # The indexes on these columns are rebuilt by PostgreSQL as part of the statement.
    schema_editor.execute(f'ALTER TABLE "registry_member" {changes}')


def collate_c(apps, schema_editor):
    _alter(schema_editor, '"C"')


def collate_default(apps, schema_editor):
    _alter(schema_editor, '"default"')


class Migration(migrations.Migration):
    dependencies = [("registry", "0011_drop_unused_household_indexes")]

    operations = [migrations.RunPython(collate_c, collate_default)]
