"""The web journey: the import page, template download, upload → background job → status page (htmx polling,
summary, or the table of problems with an .xlsx to download), job visibility, and the list-page export."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import VILLAGE
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from python_calamine import CalamineWorkbook

sys.path.insert(0, str(Path(__file__).parent))
import test_import  # noqa: E402
from test_import import H1, H2, counts, sample, write_csv_pair, write_xlsx  # noqa: E402

import fangfan.registry.jobs  # noqa: E402,F401  (registers the job handlers, as apps.ready() does)
from fangfan.core.models import AuditEvent, Job
from fangfan.registry.models import Household

pytestmark = pytest.mark.django_db
people = test_import.people
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _upload(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type=XLSX)


def _post(client, capture, files, **data):
    with capture(execute=True):
        return client.post(reverse("transfer:import"), {"file": files, **data})


def test_import_page_offers_template_and_form(client, people):
    client.force_login(people["village_clerk"])
    html = client.get(reverse("transfer:import")).content.decode()
    assert reverse("transfer:template") in html and 'type="file"' in html and "试导入" in html


def test_roles_without_import_cannot_open_it(client, people):
    client.force_login(people["helper"])
    assert client.get(reverse("transfer:import")).status_code == 403
    client.force_login(people["town_leader"])
    assert client.get(reverse("transfer:import")).status_code == 403


def test_template_download(client, people):
    client.force_login(people["village_clerk"])
    response = client.get(reverse("transfer:template"))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    assert response.content.startswith(b"PK")
    assert "%E6%88%B7%E4%BF%A1%E6%81%AF" in response["Content-Disposition"]  # 户信息… encoded


def test_upload_dry_run_then_import(client, people, media, tmp_path, django_capture_on_commit_callbacks):
    client.force_login(people["village_clerk"])
    households, members = sample()
    book = write_xlsx(tmp_path / "东风村.xlsx", households, members)
    response = _post(client, django_capture_on_commit_callbacks, [_upload(book)], dry_run="1")
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("transfer:job", args=[job.pk])
    assert job.state == "done" and job.result["dry_run"] and job.result["households_created"] == 2
    assert Household.objects.count() == 0
    # A passed dry run keeps its file for the import that may follow (the next test); uploading again works too.
    assert len(list((media / "uploads").iterdir())) == 1
    html = client.get(response["Location"]).content.decode()
    assert "试导入结果（未写入任何数据）" in html and "hx-trigger" not in html

    response = _post(client, django_capture_on_commit_callbacks, [_upload(book)])
    job = Job.objects.latest("id")
    assert job.state == "done" and Household.objects.count() == 2
    assert job.region_code == VILLAGE and job.created_by == people["village_clerk"]
    html = client.get(response["Location"]).content.decode()
    assert "导入结果" in html and 'data-testid="import-summary"' in html
    assert AuditEvent.objects.filter(action="household.imported").count() == 1
    assert (
        len(list((media / "uploads").iterdir())) == 1
    )  # the real import's upload is gone, the dry run's stays


def test_the_summary_names_the_households_that_change(
    client, people, media, tmp_path, django_capture_on_commit_callbacks
):
    """Which households an import creates or changes, and what changes (field names and member counts, no
    values), first by 户编号 — before a real import as after it."""
    from fangfan.registry.importing.households import households_import

    client.force_login(people["village_clerk"])
    households, members = sample()
    households_import(
        path=write_xlsx(tmp_path / "first.xlsx", households, members), actor=people["village_clerk"]
    )
    households[1]["工资性收入"] = "4321"
    extra = dict(members[3], 姓名="王小五", 证件号码=test_import.make_id("20150505", 33), 与户主关系="之子")
    book = write_xlsx(tmp_path / "second.xlsx", households, [*members, extra])
    response = _post(client, django_capture_on_commit_callbacks, [_upload(book)], dry_run="1")
    job = Job.objects.latest("id")
    assert job.result["preview"] == [
        {"number": H2, "kind": "更新", "what": job.result["preview"][0]["what"]},
    ]
    what = job.result["preview"][0]["what"]
    assert "工资性收入" in what and "新增成员 1 人" in what and "4321" not in what
    html = client.get(response["Location"]).content.decode()
    assert 'data-testid="import-preview"' in html and H2 in html and "将变更的内容" in html
    assert H1 not in html.split('data-testid="import-preview"')[1]  # unchanged: not listed


def test_a_checked_file_is_imported_without_uploading_it_again(
    client, people, media, tmp_path, django_capture_on_commit_callbacks
):
    """After a passed dry run its starter imports the same file with one button: a new job, which checks it again
    and deletes it; only once, and only by its starter. A file that failed, or was imported, is not kept."""
    client.force_login(people["village_clerk"])
    households, members = sample()
    book = write_xlsx(tmp_path / "东风村.xlsx", households, members)
    response = _post(client, django_capture_on_commit_callbacks, [_upload(book)], dry_run="1")
    dry = Job.objects.get()
    assert dry.input_file and Path(dry.input_file).exists()  # kept for the import that follows
    page = client.get(response["Location"]).content.decode()
    url = reverse("transfer:import_checked", args=[dry.pk])
    assert 'data-testid="import-checked"' in page and url in page
    # Someone else who may see the job (the town station) cannot import another's file.
    client.force_login(people["town_station"])
    assert 'data-testid="import-checked"' not in client.get(response["Location"]).content.decode()
    client.post(url)
    assert Job.objects.count() == 1
    client.force_login(people["village_clerk"])
    assert client.get(url).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        imported = client.post(url)
    job = Job.objects.latest("id")
    assert imported["Location"] == reverse("transfer:job", args=[job.pk])
    assert job.state == "done" and not job.result["dry_run"] and Household.objects.count() == 2
    assert job.title == "导入农户：东风村.xlsx" and job.created_by == people["village_clerk"]
    assert not any((media / "uploads").iterdir()) and not job.input_file  # gone once imported
    dry.refresh_from_db()
    assert not dry.input_file
    # Once only.
    again = client.post(url, follow=True)
    assert "该试导入的文件已不在" in again.content.decode() and Job.objects.count() == 2
    # A dry run that fails keeps nothing.
    members[0]["证件号码"] = "341523"
    _post(
        client,
        django_capture_on_commit_callbacks,
        [_upload(write_xlsx(tmp_path / "b.xlsx", households, members))],
        dry_run="1",
    )
    failed = Job.objects.latest("id")
    assert failed.state == "failed" and not failed.input_file and not any((media / "uploads").iterdir())


def test_two_csv_files_upload(client, people, media, tmp_path, django_capture_on_commit_callbacks):
    client.force_login(people["town_station"])
    households, members = sample()
    folder = write_csv_pair(tmp_path / "csv", households, members, encoding="gb18030")
    files = [_upload(folder / "户信息.csv"), _upload(folder / "成员信息.csv")]
    _post(client, django_capture_on_commit_callbacks, files)
    assert Job.objects.get().state == "done" and Household.objects.count() == 2


def test_bad_file_shows_problems_table_and_download(
    client, people, media, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(people["village_clerk"])
    households, members = sample()
    members[2]["证件号码"] = "341523"
    households[0]["工资性收入"] = "-3"
    before = counts()
    response = _post(
        client,
        django_capture_on_commit_callbacks,
        [_upload(write_xlsx(tmp_path / "b.xlsx", households, members))],
    )
    job = Job.objects.get()
    assert job.state == "failed" and "2 处错误" in job.message
    assert counts()[:2] == before[:2] and not AuditEvent.objects.filter(action="household.imported").exists()
    html = client.get(response["Location"]).content.decode()
    assert "错误清单（共 2 处" in html
    for text in (
        "<th>工作表</th>",
        "<th>列</th>",
        "<th>值</th>",
        "<th>原因</th>",
        "成员信息",
        "金额不能为负数",
    ):
        assert text in html
    download = client.get(reverse("transfer:job_problems", args=[job.pk]))
    assert download.status_code == 200
    path = tmp_path / "problems.xlsx"
    path.write_bytes(b"".join(download.streaming_content))
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("错误清单").to_python()
    assert rows[0] == ["文件", "工作表", "行", "列", "值", "原因"] and len(rows) == 3


def test_failed_import_keeps_only_the_count_and_its_page_is_reached_from_the_job_list(
    client, people, media, tmp_path, django_capture_on_commit_callbacks
):
    """A problem quotes the cell (here a mistyped ID number): the job row, which outlives the retention of files,
    keeps only how many there were; the list of problems stays in files that ``purge-files`` removes. The page
    shows no progress bar for a failed job (it would stand wherever progress was last written), and the job list
    leads to this page, not to the generic one without the problems."""
    client.force_login(people["village_clerk"])
    households, members = sample()
    wrong = members[1]["证件号码"][:-1] + ("1" if members[1]["证件号码"][-1] != "1" else "2")
    members[1]["证件号码"] = wrong
    _post(
        client,
        django_capture_on_commit_callbacks,
        [_upload(write_xlsx(tmp_path / "b.xlsx", households, members))],
    )
    job = Job.objects.get()
    assert job.state == "failed" and job.result == {"problem_count": 1}
    assert wrong not in str(job.result) and wrong not in job.message

    html = client.get(reverse("transfer:job", args=[job.pk])).content.decode()
    assert "校验码" in html and 'role="progressbar"' not in html and "0%" not in html
    listed = client.get(reverse("core:job_list")).content.decode()
    assert reverse("core:job_detail", args=[job.pk]) in listed and "0%" not in listed
    response = client.get(reverse("core:job_detail", args=[job.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("transfer:job", args=[job.pk])

    for path in Path(media, "jobs").iterdir():  # as ``purge-files`` leaves it after the retention period
        path.unlink()
    Job.objects.filter(pk=job.pk).update(output_file="")
    html = client.get(reverse("transfer:job", args=[job.pk])).content.decode()
    assert 'data-testid="problems-purged"' in html and "错误清单（共 1 处）含个人信息" in html
    assert 'data-testid="problems"' not in html


def test_wrong_upload_is_refused_on_the_form(client, people, media):
    client.force_login(people["village_clerk"])
    response = client.post(reverse("transfer:import"), {"file": [SimpleUploadedFile("a.txt", b"x")]})
    assert response.status_code == 400 and "只能导入 .xlsx 或 .csv 文件" in response.content.decode()
    response = client.post(reverse("transfer:import"), {})
    assert "请选择要导入的文件" in response.content.decode()
    assert not Job.objects.exists()


def test_status_fragment_polls_while_running_and_stops_when_done(client, people):
    job = Job.objects.create(
        kind="households_import",
        title="导入农户：x.xlsx",
        region_code=VILLAGE,
        created_by=people["village_clerk"],
        state=Job.State.RUNNING,
        progress=30,
        total=120,
    )
    client.force_login(people["village_clerk"])
    fragment = client.get(reverse("transfer:job", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in fragment and "<html" not in fragment
    assert 'aria-valuenow="25"' in fragment and "progress-bar" in fragment
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.DONE, result={"households_read": 1, "dry_run": False}
    )
    fragment = client.get(reverse("transfer:job", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in fragment and "导入结果" in fragment


def test_job_is_visible_to_its_creator_and_the_jurisdiction_only(client, people):
    job = Job.objects.create(
        kind="households_import", title="导入", region_code=VILLAGE, created_by=people["village_clerk"]
    )
    url = reverse("transfer:job", args=[job.pk])
    for who, status in (
        ("village_clerk", 200),
        ("town_station", 200),
        ("other_village_clerk", 404),
        ("neighbour_station", 404),
        ("helper", 403),  # no job.view
    ):
        client.force_login(people[who])
        assert client.get(url).status_code == status, who
    other = Job.objects.create(
        kind="import", title="别的任务", region_code=VILLAGE, created_by=people["village_clerk"]
    )
    client.force_login(people["village_clerk"])
    assert client.get(reverse("transfer:job", args=[other.pk])).status_code == 404


def test_list_export_downloads_directly(client, people, media, tmp_path):
    households, members = sample()
    from fangfan.registry.importing.households import households_import

    households_import(
        path=write_xlsx(tmp_path / "in.xlsx", households, members), actor=people["village_clerk"]
    )
    client.force_login(people["village_clerk"])
    response = client.get(reverse("transfer:export"), {"household_type": "general"})
    assert response.status_code == 200
    path = tmp_path / "out.xlsx"
    path.write_bytes(b"".join(response.streaming_content))
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("农户清单").to_python()
    assert [r[0] for r in rows[1:]] == [H2]
    assert not list((media / "exports").iterdir())  # nothing left on disk
    event = AuditEvent.objects.get(action="household.exported")
    assert event.after["filters"] == {"household_type": "general"}
    response = client.get(reverse("transfer:export"), {"format": "csv"})
    assert b"".join(response.streaming_content).startswith(b"\xef\xbb\xbf")
    # A list opened from the dashboard's figures exports what it shows.
    response = client.get(
        reverse("transfer:export"), {"format": "csv", "category": "general", "area": VILLAGE[:9] + "000"}
    )
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == [H2]


def test_list_export_reveal_needs_permission(client, people, media):
    client.force_login(people["village_clerk"])
    assert client.get(reverse("transfer:export"), {"reveal": "1"}).status_code == 403
    client.force_login(people["helper"])
    assert client.get(reverse("transfer:export")).status_code == 403


def test_large_export_runs_as_a_job(
    client, people, media, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    from fangfan.registry import transfer_views
    from fangfan.registry.importing.households import households_import

    households, members = sample()
    households_import(
        path=write_xlsx(tmp_path / "in.xlsx", households, members), actor=people["village_clerk"]
    )
    monkeypatch.setattr(transfer_views, "DIRECT_EXPORT_LIMIT", 0)
    client.force_login(people["town_station"])
    # The list's search (张) travels as a token of the session, like the list page's export link.
    token = client.post(reverse("registry:household_list"), {"q": "张"})["Location"].split("s=", 1)[1]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("transfer:export"), {"members": "1", "s": token})
    job = Job.objects.get(kind="households_export")
    assert response.status_code == 302 and job.state == "done", job.message
    html = client.get(response["Location"]).content.decode()
    assert reverse("transfer:job_download", args=[job.pk]) in html
    download = client.get(reverse("transfer:job_download", args=[job.pk]))
    path = tmp_path / "job.xlsx"
    path.write_bytes(b"".join(download.streaming_content))
    book = CalamineWorkbook.from_path(str(path))
    assert [r[0] for r in book.get_sheet_by_name("农户清单").to_python()[1:]] == [H1]
    assert book.sheet_names == ["农户清单", "成员信息"]
    client.force_login(people["neighbour_station"])
    assert client.get(reverse("transfer:job_download", args=[job.pk])).status_code == 404


def test_uploads_and_error_lists_are_private(
    client, people, media, tmp_path, django_capture_on_commit_callbacks
):
    """Issue 16.14: files holding personal data are created 0600 in folders 0700 (not world-readable by default)."""
    client.force_login(people["village_clerk"])
    households, members = sample()
    book = write_xlsx(tmp_path / "东风村.xlsx", households, members)
    _post(client, django_capture_on_commit_callbacks, [_upload(book)], dry_run="1")
    (kept,) = (media / "uploads").iterdir()  # a passed dry run's upload waits for the import
    assert kept.stat().st_mode & 0o777 == 0o600
    assert (media / "uploads").stat().st_mode & 0o777 == 0o700
    households[0]["户编号"] = ""
    bad = write_xlsx(tmp_path / "错.xlsx", households, members)
    _post(client, django_capture_on_commit_callbacks, [_upload(bad)])
    job = Job.objects.latest("id")
    assert job.state == "failed" and job.output_file
    for path in (media / "jobs").iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path.name


def test_the_crafted_workbook_fails_the_import_job_not_the_worker(
    client, people, media, tmp_path, django_capture_on_commit_callbacks
):
    """Issue 16.1: the 5 KB workbook with a cell at XFD1048576 used to abort the worker (its job 进行中 for ever)."""
    from tests.xlsx_craft import attack_workbook

    client.force_login(people["village_clerk"])
    book = attack_workbook(tmp_path / "户.xlsx")
    _post(client, django_capture_on_commit_callbacks, [_upload(book)])
    job = Job.objects.get()
    assert job.state == "failed" and job.message.startswith("文件过大：户.xlsx 工作表")
    assert list((media / "uploads").iterdir()) == [] and job.input_file == ""
