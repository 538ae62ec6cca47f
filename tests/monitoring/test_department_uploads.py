"""Security issues 16.5 / 17 on department uploads: they run as background jobs with a size limit and the bounded
reader (the crafted workbook no longer takes the web server down), the browser is redirected after the post, the
same content is imported once (web, API, CLI), an empty file is refused, and uploads are private (0600) and gone
when the job ends."""

from __future__ import annotations

import json
from datetime import date

import pytest
from conftest import TOWN, VILLAGE
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from monitoring.screening_support import id_of
from registry_factory import make_household

from fangfan.core.models import Job
from fangfan.monitoring import department_jobs
from fangfan.monitoring.models import DepartmentBatch
from fangfan.monitoring.tokens import token_issue
from tests.xlsx_craft import attack_workbook

pytestmark = pytest.mark.django_db
HEADER = ["证件号码", "姓名", "结算日期", "个人自付金额"]


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "files"
    return settings.MEDIA_ROOT


@pytest.fixture
def home(regions):
    return make_household("H-DU-001", VILLAGE, household_type="exited", exited_class="monitored",
                          members=[("张三", date(1970, 5, 1), "户主")])  # fmt: skip


def _csv(home) -> bytes:
    return "\n".join([",".join(HEADER), f"{id_of(home)},张三,2026-03-01,8000"]).encode("utf-8-sig")


def _post(client, capture, name: str, content: bytes, **data):
    with capture(execute=True):
        return client.post(
            reverse("department:batch_upload"),
            {"source": "medical", "file": SimpleUploadedFile(name, content), **data},
        )


def _uploads(media) -> list:
    folder = media / "uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_an_upload_redirects_to_its_job_and_a_reload_imports_nothing_again(
    client, users, home, media, django_capture_on_commit_callbacks
):
    client.force_login(users["department"])
    response = _post(client, django_capture_on_commit_callbacks, "医保3月.csv", _csv(home))
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert "导入完成" in page.content.decode()
    for _ in range(3):  # F5 on the result page: a GET, nothing posted
        assert client.get(response["Location"]).status_code == 200
    assert DepartmentBatch.objects.count() == 1
    assert _uploads(media) == []  # the upload is deleted when the job ends
    assert Job.objects.get(kind="department_import").input_file == ""


def test_the_same_file_posted_again_is_not_imported_twice(
    client, users, home, media, django_capture_on_commit_callbacks
):
    client.force_login(users["department"])
    _post(client, django_capture_on_commit_callbacks, "医保3月.csv", _csv(home))
    again = _post(client, django_capture_on_commit_callbacks, "医保3月（副本）.csv", _csv(home))
    page = client.get(again["Location"]).content.decode()
    batch = DepartmentBatch.objects.get()
    assert f"批次 {batch.pk}" in page and "未重复导入" in page
    assert Job.objects.filter(kind="department_import").latest("id").state == Job.State.FAILED


def test_the_crafted_workbook_fails_its_job_in_chinese_and_the_server_lives(
    client, users, home, media, tmp_path, django_capture_on_commit_callbacks
):
    content = attack_workbook(tmp_path / "x.xlsx").read_bytes()
    client.force_login(users["department"])
    response = _post(client, django_capture_on_commit_callbacks, "医保.xlsx", content)
    job = Job.objects.get(kind="department_import")
    assert job.state == Job.State.FAILED and job.message.startswith("文件过大：医保.xlsx 工作表")
    assert "文件过大" in client.get(response["Location"]).content.decode()
    assert _uploads(media) == [] and not DepartmentBatch.objects.exists()


def test_a_file_over_the_size_limit_is_refused_at_upload(
    client, users, home, media, settings, django_capture_on_commit_callbacks
):
    settings.DEPARTMENT_MAX_BYTES = 50
    client.force_login(users["department"])
    response = _post(client, django_capture_on_commit_callbacks, "医保.csv", _csv(home))
    assert response.status_code == 200 and "文件过大" in response.content.decode()
    assert not Job.objects.exists() and _uploads(media) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "文件是空的"), ("证件号码,姓名,结算日期,个人自付金额\n".encode(), "没有数据行")],
)
def test_an_empty_or_header_only_file_is_refused(
    client, users, home, media, content, message, django_capture_on_commit_callbacks
):
    client.force_login(users["department"])
    response = _post(client, django_capture_on_commit_callbacks, "医保.csv", content)
    if response.status_code == 302:
        response = client.get(response["Location"])
    assert message in response.content.decode()
    assert not DepartmentBatch.objects.exists()


def test_a_saved_upload_is_private(users, media):
    upload = SimpleUploadedFile("医保.csv", b"a,b\n1,2\n")
    path = department_jobs.save_private(upload.chunks(), ".csv", limit=1000)
    assert path.stat().st_mode & 0o777 == 0o600
    assert (media / "uploads").stat().st_mode & 0o077 == 0


# --- API and CLI ---------------------------------------------------------------------------------------------------


@pytest.fixture
def token(users):
    return token_issue(actor=users["town_station"], name="县医保局", source="medical", region_code=TOWN)[1]


def _api_file(client, token, name, content):
    return client.post(
        "/api/v1/department/medical/batches",
        {"file": SimpleUploadedFile(name, content)},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_api_refuses_the_crafted_workbook_and_a_too_large_file(
    client, token, home, media, settings, tmp_path
):
    response = _api_file(client, token, "医保.xlsx", attack_workbook(tmp_path / "x.xlsx").read_bytes())
    assert response.status_code == 400 and response.json()["message"].startswith("文件过大")
    settings.DEPARTMENT_MAX_BYTES = 50
    response = _api_file(client, token, "医保.csv", _csv(home))
    assert response.status_code == 400 and "文件过大" in response.json()["message"]
    assert not DepartmentBatch.objects.exists() and _uploads(media) == []


def test_api_answers_409_for_content_already_imported(client, token, home, media):
    first = _api_file(client, token, "医保.csv", _csv(home))
    assert first.status_code == 200
    again = _api_file(client, token, "医保-重发.csv", _csv(home))
    assert again.status_code == 409 and again.json()["batch_id"] == first.json()["batch_id"]
    assert "未重复导入" in again.json()["message"]
    body = json.dumps({"rows": [{"证件号码": id_of(home), "结算日期": "2026-03-02", "个人自付金额": "1"}]})
    kwargs = {"content_type": "application/json", "HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.post("/api/v1/department/medical/batches", body, **kwargs).status_code == 200
    assert client.post("/api/v1/department/medical/batches", body, **kwargs).status_code == 409
    assert DepartmentBatch.objects.count() == 2


def test_cli_says_a_file_was_already_imported(home, tmp_path):
    path = tmp_path / "医保.csv"
    path.write_bytes(_csv(home))
    call_command("import-department", "medical", str(path))
    with pytest.raises(CommandError, match="未重复导入"):
        call_command("import-department", "medical", str(path))
    assert DepartmentBatch.objects.count() == 1
