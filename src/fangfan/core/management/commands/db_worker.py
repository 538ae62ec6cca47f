"""fangfan db_worker: django-tasks-db's worker, which first ends as failed the jobs a killed worker left "running"
(``jobs.jobs_fail_stale``), so that they show as failed, with their retry button, as soon as the worker is back —
not only when the next job comes (issue 21.3)."""

from typing import Any

from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from fangfan.core.jobs import jobs_fail_stale


class Command(DbWorkerCommand):
    def handle(self, *args: Any, **options: Any) -> None:
        jobs_fail_stale()
        super().handle(*args, **options)
