"""Indexes on the household table that no query reads, each built again by every bulk import and kept by every
write: ``head_initials`` and ``head_name`` (the search finds a head among the members, whose indexes hold the
village), and the region foreign key's own index (every index led by the region serves a lookup by village) with,
on PostgreSQL, its ``varchar_pattern_ops`` twin (nothing matches a household's code with LIKE).

The foreign key's index is dropped with SQL of our own: Django's SQLite schema editor would rebuild the whole table
for the field change, dropping the triggers of migrations 0004 and 0010."""

from django.db import migrations, models

FK_INDEX = "registry_household_region_id_50252459"


def drop_fk_index(apps, schema_editor):
    schema_editor.execute(f'DROP INDEX IF EXISTS "{FK_INDEX}"')
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{FK_INDEX}_like"')


def create_fk_index(apps, schema_editor):
    schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{FK_INDEX}" ON "registry_household" ("region_id")')
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{FK_INDEX}_like" ON "registry_household" ("region_id" varchar_pattern_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [("registry", "0010_member_household_region")]

    operations = [
        migrations.RemoveIndex(model_name="household", name="hh_initials_idx"),
        migrations.RemoveIndex(model_name="household", name="hh_head_name_idx"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="household",
                    name="region",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.PROTECT,
                        related_name="households",
                        to="regions.region",
                        verbose_name="行政区划",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_fk_index, create_fk_index)],
        ),
    ]
