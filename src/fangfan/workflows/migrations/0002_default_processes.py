"""Version 1 of every process (``workflows.defaults``): 纳入监测, 边缘户核查认定, 分类调整, 风险消除 (two chains), 回退."""

from django.db import migrations


def install(apps, schema_editor):
    from fangfan.workflows.defaults import install as write

    write(apps.get_model("workflows", "Process"), apps.get_model("workflows", "Step"))


class Migration(migrations.Migration):
    dependencies = [("workflows", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
