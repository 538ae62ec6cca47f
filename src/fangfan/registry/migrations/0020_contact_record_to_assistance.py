"""联系记录 move to ``assistance`` (issue 17): the registry forgets the model, the table stays where it is and keeps
every row; ``assistance.0004_contact_record_from_registry`` takes the model over under the same table name."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("registry", "0019_household_monitored_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ContactRecord")],
            database_operations=[],
        ),
    ]
