"""Security issue 16.1: a job that fails for any reason ends as failed with its upload deleted, and the worker goes
on; a job left "running" by a worker that was killed does not stay "进行中" for ever."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from conftest import operator
from django.core.management import call_command
from django.utils import timezone

from fangfan.core import jobs
from fangfan.core.models import Job
from fangfan.core.retention import purge_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "files"
    (settings.MEDIA_ROOT / "uploads").mkdir(parents=True)
    return settings.MEDIA_ROOT


@pytest.fixture
def kinds():
    def boom(job, progress):
        raise RuntimeError("handler bug")

    def fine(job, progress):
        return {"message": "好了"}

    jobs.job_handler("test_boom")(boom)
    jobs.job_handler("test_fine")(fine)
    yield
    jobs._HANDLERS.pop("test_boom", None)
    jobs._HANDLERS.pop("test_fine", None)


def _upload(media, name="u.xlsx"):
    path = media / "uploads" / name
    path.write_bytes(b"PK personal data")
    return path


def test_an_exception_in_the_handler_fails_the_job_deletes_its_upload_and_the_next_job_runs(media, kinds):
    upload = _upload(media)
    failing = Job.objects.create(kind="test_boom", title="t", input_file=str(upload))
    nxt = Job.objects.create(kind="test_fine", title="t")

    jobs.run_job.call(failing.pk)
    jobs.run_job.call(nxt.pk)

    failing.refresh_from_db()
    nxt.refresh_from_db()
    assert failing.state == Job.State.FAILED and "联系系统管理员" in failing.message
    assert not upload.exists() and failing.input_file == ""
    assert nxt.state == Job.State.DONE


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_job_whose_worker_died_is_failed_before_the_next_job_runs(media, kinds):
    upload = _upload(media)
    orphan = Job.objects.create(
        kind="test_fine",
        title="导入农户",
        state=Job.State.RUNNING,
        started_at=timezone.now(),
        input_file=str(upload),
        result={"worker": f"{jobs.socket.gethostname()}:{_dead_pid()}"},
    )
    alive = Job.objects.create(
        kind="test_fine",
        title="t",
        state=Job.State.RUNNING,
        started_at=timezone.now(),
        result={"worker": jobs._worker()},
    )
    nxt = Job.objects.create(kind="test_fine", title="t")

    jobs.run_job.call(nxt.pk)

    orphan.refresh_from_db()
    alive.refresh_from_db()
    assert orphan.state == Job.State.FAILED and orphan.message == jobs.STALE_MESSAGE
    assert not upload.exists() and orphan.input_file == ""
    assert alive.state == Job.State.RUNNING  # its process (this one) is alive
    assert Job.objects.get(pk=nxt.pk).state == Job.State.DONE


def test_purge_files_fails_a_job_running_too_long_and_deletes_failed_jobs_uploads(media, settings):
    settings.JOB_STALE_HOURS = 12
    stuck_upload = _upload(media, "stuck.xlsx")
    failed_upload = _upload(media, "failed.xlsx")
    stuck = Job.objects.create(
        kind="households_import",
        title="导入农户",
        state=Job.State.RUNNING,
        started_at=timezone.now() - timedelta(hours=13),
        input_file=str(stuck_upload),
    )
    Job.objects.create(
        kind="households_import", title="t", state=Job.State.FAILED, input_file=str(failed_upload)
    )

    summary = purge_files(days=30, actor=operator())

    stuck.refresh_from_db()
    assert stuck.state == Job.State.FAILED and "后台进程已中止" in stuck.message
    assert not stuck_upload.exists() and not failed_upload.exists()
    assert (summary.stale_jobs, summary.uploads) == (1, 1)
    assert "已标记为失败" in summary.describe()


def test_the_purge_command_reports_stale_jobs(media, capsys):
    Job.objects.create(
        kind="households_import",
        title="t",
        state=Job.State.RUNNING,
        started_at=timezone.now() - timedelta(days=2),
    )
    call_command("purge-files")
    assert "已标记为失败" in capsys.readouterr().out
