"""``fangfan health`` (issue 21.8, monitoring of the worker): exit 0 when the database is up to date and the
worker takes its work; 1, with a Chinese line naming the problem, when a task has waited too long, a job is left
"running" by a dead worker, or a probe task is not run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from fangfan.core.health import check_health
from fangfan.core.models import Job


def _queued(minutes_ago: int) -> DBTaskResult:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    task = DBTaskResult.objects.create(
        status=TaskResultStatus.READY,
        args_kwargs={"args": [1], "kwargs": {}},
        task_path="fangfan.core.jobs.run_job",
        backend_name="default",
        run_after=at,
    )
    DBTaskResult.objects.filter(pk=task.pk).update(enqueued_at=at)
    return task


def test_a_healthy_system_exits_zero_and_a_probe_task_is_run(db, capsys):
    _queued(minutes_ago=2)  # just queued: the worker has time yet
    call_command("health", "--probe", "5")  # the suite's tasks run at once, as a live worker would run them
    out = capsys.readouterr().out
    assert "状态：正常" in out and "结构是最新的" in out and "探测任务已由后台进程执行" in out


def test_a_task_waiting_too_long_means_the_worker_is_not_running(db, capsys):
    _queued(minutes_ago=45)
    with pytest.raises(CommandError):
        call_command("health")
    out = capsys.readouterr().out
    assert "排队 45 分钟仍未开始" in out and "fangfan db_worker" in out and "状态：异常（1 项）" in out
    assert check_health(queue_minutes=60).ok


def test_a_job_left_running_by_a_dead_worker_is_reported(db):
    Job.objects.create(
        kind="import",
        title="导入",
        state=Job.State.RUNNING,
        started_at=timezone.now() - timedelta(days=2),
        result={"worker": "elsewhere:1"},
    )
    health = check_health()
    assert not health.ok and "进行中" in health.problems[0]
