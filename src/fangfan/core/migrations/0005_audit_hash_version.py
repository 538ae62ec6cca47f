"""The audit chain is keyed (HMAC-SHA256 under FANGFAN_AUDIT_KEY) from now on. Events already written keep their
plain SHA-256 hash and get no version (NULL): a nullable column is added in place (SQLite: ALTER TABLE ADD COLUMN,
no table rebuild), so the append-only triggers stay and no row is rewritten. ``verify_chain`` accepts unkeyed
events only before the first keyed one; the anchor file pins the keyed head."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_throttle_and_used_challenge'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditevent',
            name='hash_version',
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='哈希版本'),
        ),
    ]
