"""Generated files hold personal data and are kept ``FILE_RETENTION_DAYS`` (``fangfan purge-files``): older ones
go, with the jobs' references to them and one audit event; files of running jobs and newer files stay."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import operator
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from fangfan.core.models import AuditEvent, Job
from fangfan.core.retention import purge_files

pytestmark = pytest.mark.django_db
DAY = 24 * 3600


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "files"
    return settings.MEDIA_ROOT


def _file(path: Path, age_days: float, text: str = "张三,341523197001010011") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    then = time.time() - age_days * DAY
    os.utime(path, (then, then))
    return path


def test_old_files_go_new_and_busy_ones_stay(media):
    old_export = _file(media / "exports" / "export-1.xlsx", 40)
    new_export = _file(media / "exports" / "export-2.xlsx", 3)
    old_problems = _file(media / "jobs" / "job-3-problems.xlsx", 31)
    busy_upload = _file(media / "uploads" / "abc.xlsx", 60)
    old_folder = media / "uploads" / "csvpair"
    _file(old_folder / "户信息.csv", 45)
    os.utime(old_folder, (time.time() - 45 * DAY,) * 2)
    done = Job.objects.create(
        kind="households_export", title="导出", state="done", output_file=str(old_export)
    )
    running = Job.objects.create(
        kind="households_import", title="导入", state="running", input_file=str(busy_upload)
    )

    summary = purge_files(days=30, actor=operator())

    assert (summary.files, summary.folders, summary.jobs) == (2, 1, 1)
    assert not old_export.exists() and not old_problems.exists() and not old_folder.exists()
    assert new_export.exists() and busy_upload.exists()
    done.refresh_from_db()
    running.refresh_from_db()
    assert done.output_file == "" and running.input_file == str(busy_upload)
    event = AuditEvent.objects.get(action="files.purged")
    assert event.after == {"days": 30, "files": 2, "folders": 1, "jobs": 1}
    assert "已删除超过 30 天的文件 2 个、上传文件夹 1 个" in summary.describe()


def test_nothing_old_records_nothing(media):
    _file(media / "exports" / "export-2.xlsx", 1)
    assert purge_files(days=30, actor=operator()).files == 0
    assert not AuditEvent.objects.filter(action="files.purged").exists()
    assert purge_files(days=0, now=None, actor=operator()).files == 1  # 0 days: everything older than now


def test_command_uses_the_setting_and_reports(media, capsys, monkeypatch):
    monkeypatch.setattr(settings, "FILE_RETENTION_DAYS", 10)
    _file(media / "exports" / "a.csv", 11)
    _file(media / "exports" / "b.csv", 9)
    call_command("purge-files")
    assert "已删除超过 10 天的文件 1 个" in capsys.readouterr().out
    assert [p.name for p in (media / "exports").iterdir()] == ["b.csv"]
    event = AuditEvent.objects.get(action="files.purged")
    assert event.actor_username.startswith("cli-")


def test_job_page_says_the_export_was_removed(client, media, make_user):
    station = make_user("town_station", "341523104000")
    job = Job.objects.create(
        kind="households_export",
        title="导出农户清单",
        state="done",
        created_by=station,
        region_code="341523104000",
    )
    client.force_login(station)
    html = client.get(reverse("transfer:job", args=[job.pk])).content.decode()
    assert "已超过保存期限" in html and "下载导出文件" not in html


def test_negative_days_are_refused(media):
    with pytest.raises(ValueError):
        purge_files(days=-1, actor=operator())
