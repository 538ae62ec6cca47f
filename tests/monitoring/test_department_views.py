"""Department-data pages: the batch history (a department user sees its own source only), upload (own source fixed
for a department user; the town station chooses), batch detail and the unmatched download, the screening history
with the "立即筛查" button, and API tokens (shown once, only the hash stored, revocable)."""

from __future__ import annotations

import hashlib
import io
from datetime import date

import pytest
from conftest import NEIGHBOUR_VILLAGE, TOWN, VILLAGE
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from monitoring.screening_support import id_of, import_rows
from python_calamine import CalamineWorkbook
from registry_factory import make_household

from fangfan.core.models import Job
from fangfan.monitoring.models import DepartmentBatch, DepartmentToken, ScreeningRun
from fangfan.monitoring.screening import screening_run

pytestmark = pytest.mark.django_db
UNKNOWN_ID = "11010519491231002X"


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "files"
    return settings.MEDIA_ROOT


@pytest.fixture
def home(regions):
    return make_household("H-DF-001", VILLAGE, household_type="exited", exited_class="monitored",
                          members=[("张三", date(1970, 5, 1), "户主")])  # fmt: skip


def _csv(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(r) for r in rows).encode("utf-8-sig")


def test_批次列表_部门用户只看到本部门批次(client, users, home, tmp_path):
    import_rows(tmp_path, "medical", [{"证件号码": id_of(home), "结算日期": "2026-01-01", "个人自付金额": "7000"}],
                actor=users["town_station"])  # fmt: skip
    import_rows(tmp_path, "employment", [{"证件号码": id_of(home), "状态": "失业"}], actor=users["town_station"],
                name="e.csv")  # fmt: skip
    client.force_login(users["department"])
    response = client.get(reverse("department:batch_list"))
    assert response.status_code == 200
    assert [b.source for b in response.context["page"]] == ["medical"]
    assert "立即筛查" not in response.content.decode()
    client.force_login(users["town_station"])
    response = client.get(reverse("department:batch_list"))
    assert {b.source for b in response.context["page"]} == {"medical", "employment"}
    assert "立即筛查" in response.content.decode()
    client.force_login(users["neighbour_station"])
    assert len(client.get(reverse("department:batch_list")).context["page"]) == 0


def _upload(client, capture, data):
    """Post the upload form; the import runs as a job (immediately in tests) and the browser goes to its page."""
    with capture(execute=True):
        response = client.post(reverse("department:batch_upload"), data)
    assert response.status_code == 302, response.content.decode()[:500]
    job = Job.objects.filter(kind="department_import").latest("id")
    assert response["Location"] == reverse("department:batch_job", args=[job.pk])
    return client.get(response["Location"])


def test_部门用户上传本部门数据_来源固定(client, users, home, media, django_capture_on_commit_callbacks):
    client.force_login(users["department"])
    page = client.get(reverse("department:batch_upload"))
    assert [c[0] for c in page.context["form"].fields["source"].choices] == ["medical"]
    upload = SimpleUploadedFile(
        "医保3月.csv",
        _csv(
            [
                ["证件号码", "姓名", "结算日期", "个人自付金额"],
                [id_of(home), "张三", "2026-03-01", "8000"],
                [UNKNOWN_ID, "李四", "2026-03-01", "300"],
            ]
        ),  # fmt: skip
    )
    response = _upload(client, django_capture_on_commit_callbacks, {"source": "medical", "file": upload})
    assert response.status_code == 200
    summary = response.context["summary"]
    assert (summary["matched"], summary["unmatched"], summary["warnings"]) == (1, 1, 1)
    text = response.content.decode()
    assert "未匹配 1 行" in text and "下载未匹配数据" in text
    batch = DepartmentBatch.objects.get()
    assert batch.channel == "web" and batch.file_name == "医保3月.csv" and batch.region_id == TOWN


def test_部门用户不能上传其他部门数据(client, users, home):
    client.force_login(users["department"])
    upload = SimpleUploadedFile("民政.csv", _csv([["证件号码", "救助类型", "状态", "日期"],
                                                 [id_of(home), "低保", "新增", "2026-03-01"]]))  # fmt: skip
    response = client.post(reverse("department:batch_upload"), {"source": "civil", "file": upload})
    assert response.status_code == 200 and response.context["form"].errors["source"]
    assert not DepartmentBatch.objects.exists()


def test_上传错误文件显示中文问题清单(client, users, home, media, django_capture_on_commit_callbacks):
    client.force_login(users["town_station"])
    upload = SimpleUploadedFile(
        "住建.csv", _csv([["证件号码", "鉴定等级", "鉴定日期"], [id_of(home), "E", "2026-03-01"]])
    )
    response = _upload(client, django_capture_on_commit_callbacks, {"source": "housing", "file": upload})
    text = response.content.decode()
    assert "第2行" in text and "鉴定等级" in text and "应为：A、B、C、D" in text
    assert not DepartmentBatch.objects.exists()


def test_批次详情与未匹配下载(client, users, home, tmp_path):
    summary = import_rows(tmp_path, "medical", [{"证件号码": UNKNOWN_ID, "姓名": "李四", "结算日期": "2026-03-01",
                                                 "个人自付金额": "300"}], actor=users["department"])  # fmt: skip
    client.force_login(users["department"])
    response = client.get(reverse("department:batch_detail", args=[summary.batch_id]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "110105********002X" in text and UNKNOWN_ID not in text and "系统中无此证件号码" in text
    download = client.get(reverse("department:batch_unmatched", args=[summary.batch_id]))
    assert download.status_code == 200
    rows = CalamineWorkbook.from_filelike(
        io.BytesIO(b"".join(download.streaming_content))
    ).get_sheet_by_index(0)
    assert rows.to_python()[1][2] == "李四"
    client.force_login(users["neighbour_station"])
    assert client.get(reverse("department:batch_detail", args=[summary.batch_id])).status_code == 404
    assert client.get(reverse("department:batch_unmatched", args=[summary.batch_id])).status_code == 404


def test_模板下载(client, users):
    client.force_login(users["department"])
    response = client.get(reverse("department:batch_template") + "?source=medical")
    assert response.status_code == 200
    sheet = CalamineWorkbook.from_filelike(
        io.BytesIO(b"".join(response.streaming_content))
    ).get_sheet_by_index(0)
    assert sheet.to_python()[0] == ["证件号码", "姓名", "结算日期", "医疗总费用", "个人自付金额"]
    assert client.get(reverse("department:batch_template") + "?source=civil").status_code == 404


def test_立即筛查按钮启动后台任务(client, users, home, regions):
    make_household("H-FY-1", NEIGHBOUR_VILLAGE, income={"wage_income": 1000})
    client.force_login(users["town_station"])
    assert client.get(reverse("department:screening_start")).status_code == 200
    response = client.post(reverse("department:screening_start"))
    job = Job.objects.get(kind="screening")
    assert response.status_code == 302 and response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert job.region_code == TOWN
    client.force_login(users["department"])
    assert client.post(reverse("department:screening_start")).status_code == 403


def test_筛查记录页(client, users, home):
    screening_run(actor=users["town_station"])
    screening_run(actor=users["neighbour_station"])
    client.force_login(users["town_station"])
    response = client.get(reverse("department:screening_list"))
    assert response.status_code == 200
    assert [r.region_code for r in response.context["page"]] == [TOWN]
    assert ScreeningRun.objects.count() == 2


def test_接口令牌只显示一次_只存哈希_可停用(client, users):
    client.force_login(users["town_station"])
    response = client.post(
        reverse("department:token_list"), {"name": "县医保局结算系统", "source": "medical", "region": TOWN}
    )
    assert response.status_code == 200
    raw = response.context["raw"]
    token = DepartmentToken.objects.get()
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest() and raw not in str(token.__dict__)
    assert raw not in client.get(reverse("department:token_list")).content.decode()
    client.force_login(users["neighbour_station"])
    assert client.post(reverse("department:token_revoke", args=[token.pk])).status_code == 404
    client.force_login(users["town_station"])
    assert client.get(reverse("department:token_revoke", args=[token.pk])).status_code == 200
    assert client.post(reverse("department:token_revoke", args=[token.pk])).status_code == 302
    token.refresh_from_db()
    assert token.active is False


def test_令牌区划不能超出辖区(client, users):
    client.force_login(users["town_station"])
    response = client.post(
        reverse("department:token_list"), {"name": "越权", "source": "medical", "region": "341523105000"}
    )
    assert response.context["form"].errors["region"] and not DepartmentToken.objects.exists()


def test_无权限角色被拒绝(client, users):
    client.force_login(users["village_clerk"])
    assert client.get(reverse("department:batch_list")).status_code == 403
    assert client.get(reverse("department:token_list")).status_code == 403
    client.force_login(users["county_review"])
    assert client.get(reverse("department:screening_list")).status_code == 200
    assert client.get(reverse("department:batch_list")).status_code == 403
