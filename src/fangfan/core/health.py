"""``fangfan health``: is the system able to work — for a monitoring system or cron, by exit status.

Checked: the database answers and has every migration applied; no background task has waited longer than
``queue_minutes`` to start (the worker, ``fangfan db_worker``, is not taking work: stopped, stuck or too slow);
no job is left "running" by a worker process that is gone or past ``JOB_STALE_HOURS``. ``probe`` seconds: a small
task is also queued and must be run by a worker within that time (an end-to-end proof that a worker is alive, even
when the queue is empty). django_tasks_db keeps no heartbeat of its own, so these are the signals there are.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.tasks import TaskResultStatus, task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from .jobs import stale_running_jobs

DEFAULT_QUEUE_MINUTES = 10


@task
def worker_ping() -> str:
    """Queued by ``fangfan health --probe``: a worker that runs it is alive."""
    return "pong"


@dataclass
class Health:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        lines = [f"异常：{p}" for p in self.problems] + [f"正常：{n}" for n in self.notes]
        lines.append("状态：正常" if self.ok else f"状态：异常（{len(self.problems)} 项）")
        return "\n".join(lines)


def _when(at: datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


def check_health(
    *, queue_minutes: int = DEFAULT_QUEUE_MINUTES, probe: float = 0.0, now: datetime | None = None
) -> Health:
    health = Health()
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:  # any failure to reach the database is the answer
        health.problems.append(f"无法连接数据库（{type(exc).__name__}）")
        return health
    if pending:
        health.problems.append(f"有 {len(pending)} 个数据库迁移未执行：请运行 fangfan migrate")
    else:
        health.notes.append("数据库可以连接，结构是最新的")

    now = now or timezone.now()
    waiting = (
        DBTaskResult.objects.ready().order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
    )
    if waiting is not None and waiting < now - timedelta(minutes=queue_minutes):
        minutes = int((now - waiting).total_seconds() // 60)
        health.problems.append(
            f"有后台任务排队 {minutes} 分钟仍未开始：后台进程（fangfan db_worker）可能没有运行或已卡住"
        )
    else:
        queued = DBTaskResult.objects.ready().count()
        health.notes.append(f"后台任务队列：{queued} 个排队，没有超过 {queue_minutes} 分钟的")
    last = DBTaskResult.objects.exclude(finished_at=None).order_by("-finished_at")
    finished = last.values_list("finished_at", flat=True).first()
    if finished is not None:
        health.notes.append(f"后台进程最近一次完成任务：{_when(finished)}")

    stale = stale_running_jobs(now=now)
    if stale:
        health.problems.append(
            f"{len(stale)} 个后台任务显示“进行中”，但运行它的进程已中止或已超过 "
            "FANGFAN_JOB_STALE_HOURS（fangfan purge-files 会把它们标记为失败）"
        )

    if probe > 0:
        result = worker_ping.enqueue()
        deadline = time.monotonic() + probe
        while result.status not in (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED):
            if time.monotonic() >= deadline:
                break
            time.sleep(0.5)
            result.refresh()
        if result.status == TaskResultStatus.SUCCESSFUL:
            health.notes.append("探测任务已由后台进程执行")
        else:
            health.problems.append(
                f"探测任务在 {probe:g} 秒内没有被执行：后台进程（fangfan db_worker）没有在运行"
            )
    return health
