"""Indexes on the household table that no query reads, each built again by every bulk import and kept by every
write: ``head_initials`` and ``head_name`` (the search finds a head among the members, whose indexes hold the
village) and, on PostgreSQL, the ``varchar_pattern_ops`` twins of the region foreign key's index and of the unique
户编号 (nothing matches a household's village code or 户编号 with LIKE; the plain indexes stay: PostgreSQL reads a
town's rows from the region's, and finds a household by 户编号 through the unique one)."""

from django.db import migrations

LIKE_INDEXES = {
    "registry_household_region_id_50252459_like": "region_id",
    "registry_household_number_e2e04338_like": "number",
}


def drop_like_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in LIKE_INDEXES:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def create_like_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, column in LIKE_INDEXES.items():
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "registry_household" ("{column}" varchar_pattern_ops)'
            )


class Migration(migrations.Migration):
    dependencies = [("registry", "0010_member_household_region")]

    operations = [
        migrations.RemoveIndex(model_name="household", name="hh_initials_idx"),
        migrations.RemoveIndex(model_name="household", name="hh_head_name_idx"),
        migrations.RunPython(drop_like_indexes, create_like_indexes),
    ]
