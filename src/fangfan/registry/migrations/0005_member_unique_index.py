"""Member indexes that a bulk load can drop and build again (``bulkdb.indexes_deferred``): the ID blind index unique
through a named unique index (SQLite cannot drop an inline column constraint), no separate index on the household
foreign key (``member_household_idx`` covers it), and the last four ID characters without PostgreSQL's LIKE twin."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_household_counts"),
    ]

    operations = [
        # Taken off and put back around the foreign key's change: dropping the foreign key's own index on
        # PostgreSQL takes every index on ``household_id`` with it, this partial unique index included.
        migrations.RemoveConstraint(
            model_name="member",
            name="one_head_per_household",
        ),
        migrations.AlterField(
            model_name="member",
            name="household",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="members",
                to="registry.household",
                verbose_name="所属农户",
            ),
        ),
        migrations.AlterField(
            model_name="member",
            name="id_index",
            field=models.CharField(max_length=64, verbose_name="证件号码索引"),
        ),
        migrations.AlterField(
            model_name="member",
            name="id_last4",
            field=models.CharField(max_length=4, verbose_name="证件号码后四位"),
        ),
        migrations.AddConstraint(
            model_name="member",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_head", True), ("status", "active")),
                fields=("household",),
                name="one_head_per_household",
            ),
        ),
        migrations.AddConstraint(
            model_name="member",
            constraint=models.UniqueConstraint(
                models.F("id_index"),
                name="member_id_index_unique",
                violation_error_message="该证件号码已登记在系统中",
            ),
        ),
        migrations.AddIndex(
            model_name="member",
            index=models.Index(fields=["id_last4"], name="member_last4_idx"),
        ),
    ]
