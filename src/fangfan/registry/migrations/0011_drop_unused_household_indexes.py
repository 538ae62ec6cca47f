"""Indexes on the household table that no query reads, each built again by every bulk import and kept by every
write: ``head_initials`` and ``head_name`` (the search finds a head among the members, whose indexes hold the
village) and, on PostgreSQL, the ``varchar_pattern_ops`` twin of the region foreign key's index (nothing matches a
household's code with LIKE; the plain index stays: PostgreSQL reads a town's rows from it)."""

from django.db import migrations

LIKE_INDEX = "registry_household_region_id_50252459_like"


def drop_like_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{LIKE_INDEX}"')


def create_like_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{LIKE_INDEX}" ON "registry_household" ("region_id" varchar_pattern_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [("registry", "0010_member_household_region")]

    operations = [
        migrations.RemoveIndex(model_name="household", name="hh_initials_idx"),
        migrations.RemoveIndex(model_name="household", name="hh_head_name_idx"),
        migrations.RunPython(drop_like_index, create_like_index),
    ]
