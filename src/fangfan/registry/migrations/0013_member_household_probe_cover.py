"""The member index by household also holds the initials and the name, so that the probe of a broad search over a
county (``filters.probes``: households in list order, each asked whether an active member's initials or name match)
answers from the index without reading the member rows: PostgreSQL county "wj" page 1 took 5.4 ms and 8 600 pages,
3.2 ms and 6 300 pages with it (benchmarks/list_query.py data, 250 000 households). It replaces (household, status),
whose lookups it still serves; it is 39 MB instead of 13 MB there and takes ≈ 0.3 s longer to build after a
county's bulk load. The member table is analysed afterwards: SQLite has no statistics for a new index until then
(see 0008)."""

from django.db import migrations, models


def analyze_members(apps, schema_editor):
    schema_editor.execute("ANALYZE registry_member")


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0012_member_keys_collate_c_pg'),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, analyze_members),  # backwards: after the old index is back
        migrations.RemoveIndex(
            model_name='member',
            name='member_household_idx',
        ),
        migrations.AddIndex(
            model_name='member',
            index=models.Index(fields=['household', 'status', 'name_initials', 'name'], name='member_household_idx'),
        ),
        migrations.RunPython(analyze_members, migrations.RunPython.noop),
    ]
