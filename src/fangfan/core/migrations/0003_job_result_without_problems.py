"""Failed jobs used to keep the text of up to 1 000 problems in their result; a problem quotes the cell (a mistyped
ID number, a name), and the job row outlives the files ``purge-files`` removes. Keep only the count."""

from django.db import migrations


def strip_problems(apps, schema_editor):
    Job = apps.get_model("core", "Job")
    for job in Job.objects.filter(state="failed").only("pk", "result").iterator():
        result = job.result or {}
        if isinstance(result, dict) and "problems" in result:
            count = result.get("problem_count", len(result["problems"] or []))
            Job.objects.filter(pk=job.pk).update(result={"problem_count": count})


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_append_only")]

    operations = [migrations.RunPython(strip_problems, migrations.RunPython.noop)]
