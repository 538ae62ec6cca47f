"""PostgreSQL: the member columns that indexes sort and that are only ever matched exactly or by prefix — the blind
index of the ID number, its last four characters, the name, the pinyin initials and the status — compare byte by
byte (collation "C") instead of through the database's locale.

Under any other collation (even ``C.UTF-8``, which orders the same) PostgreSQL compares every pair of values with
``strcoll`` and cannot sort on abbreviated keys, so building these indexes after a county's bulk load (853 000
members, ``bulkdb.indexes_deferred``) took 1.33 / 0.91 / 1.28 s for the blind index, the last four and the name
index; with "C", 0.59 / 0.41 / 0.62 s (measured on the benchmark database). Nothing changes in what a query finds:
the blind index, the last four and the status are ASCII codes matched by equality; names and initials are matched by
equality or by the range ``>= q AND < q || U+10FFFF`` (``filters._prefix``), which means the same under "C"; and a
UTF-8 database in "C" orders names by code point, as ``C.UTF-8`` does. SQLite compares bytes already.

The model does not declare the collation (SQLite has no collation named "C"); a later ``AlterField`` of one of these
columns on PostgreSQL would set the default collation back, which costs speed, never correctness.
"""

from django.db import migrations

COLUMNS = {  # column → varchar length, as the model declares it
    "id_index": 64,
    "id_last4": 4,
    "name": 50,
    "name_initials": 20,
    "status": 10,
}


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
