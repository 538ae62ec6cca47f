"""Security issue 16.1: a job that fails for any reason ends as failed with its upload deleted, and the worker goes
on; a job left "running" by a worker that was killed does not stay "进行中" for ever. Issue 21.3: such a job keeps
its upload for a retry (until the retention period ends), loses what it had begun to write, and its starter may
queue it again while they still have the right."""

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
    half_written = media / "uploads" / "ledger-half.xlsx"
    half_written.write_bytes(b"PK half a ledger")
    orphan = Job.objects.create(
        kind="test_fine",
        title="导入农户",
        state=Job.State.RUNNING,
        started_at=timezone.now(),
        input_file=str(upload),
        output_file=str(half_written),
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
    assert upload.exists() and orphan.input_file == str(upload)  # kept for a retry
    assert not half_written.exists() and orphan.output_file == ""
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
    assert stuck_upload.exists() and not failed_upload.exists()  # the stuck job's upload waits for a retry
    assert (summary.stale_jobs, summary.uploads) == (1, 1)
    assert "已标记为失败" in summary.describe()

    later = purge_files(
        days=0, actor=operator(), now=timezone.now() + timedelta(seconds=5)
    )  # its retention period is over
    stuck.refresh_from_db()
    assert not stuck_upload.exists() and stuck.input_file == "" and later.files == 1


def test_the_purge_command_reports_stale_jobs(media, capsys):
    Job.objects.create(
        kind="households_import",
        title="t",
        state=Job.State.RUNNING,
        started_at=timezone.now() - timedelta(days=2),
    )
    call_command("purge-files")
    assert "已标记为失败" in capsys.readouterr().out


# --- retry (issue 21.3) ---------------------------------------------------------------------------------------------


def _failed_screening(users, **over):
    values = {
        "kind": "screening",
        "title": "预警筛查（桃溪镇）",
        "region_code": "341523104000",
        "created_by": users["town_station"],
        "state": Job.State.FAILED,
        "message": jobs.STALE_MESSAGE,
        **over,
    }
    return Job.objects.create(**values)


def test_the_starter_retries_a_failed_job_from_its_page(
    client, users, media, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from fangfan.core.models import AuditEvent

    job = _failed_screening(users)
    client.force_login(users["town_station"])
    page = client.get(reverse("core:job_detail", args=[job.pk]))
    assert 'data-testid="job-retry"' in page.content.decode()
    assert reverse("core:job_retry", args=[job.pk]) in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("core:job_retry", args=[job.pk]))

    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == Job.State.DONE  # the immediate backend of the tests ran it again at once
    assert AuditEvent.objects.filter(action="job.retried", object_id=str(job.pk)).exists()


def test_only_the_starter_with_the_right_still_may_retry(client, users, media):
    from django.urls import reverse

    job = _failed_screening(users)
    client.force_login(users["county_review"])  # sees the job (screen.run over the county), did not start it
    assert (
        'data-testid="job-retry"'
        not in client.get(reverse("core:job_detail", args=[job.pk])).content.decode()
    )
    client.post(reverse("core:job_retry", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == Job.State.FAILED

    starter = users["town_station"]
    starter.role = "town_leader"  # no longer runs screenings: the job is not theirs to see, nor to retry
    starter.save(update_fields=["role"])
    client.force_login(starter)
    assert client.post(reverse("core:job_retry", args=[job.pk])).status_code in (403, 404)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED


def test_an_import_whose_upload_is_gone_cannot_be_retried(users, media):
    from fangfan.core.errors import Conflict

    job = Job.objects.create(
        kind="households_import",
        title="导入农户",
        region_code="341523104201",
        created_by=users["village_clerk"],
        state=Job.State.FAILED,
        input_file="",
    )
    assert not jobs.job_retryable(job)
    with pytest.raises(Conflict, match="重新上传"):
        jobs.job_retry(job=job, actor=users["village_clerk"])
    done = Job.objects.create(
        kind="screening", title="t", created_by=users["town_station"], state=Job.State.DONE
    )
    with pytest.raises(Conflict):
        jobs.job_retry(job=done, actor=users["town_station"])
