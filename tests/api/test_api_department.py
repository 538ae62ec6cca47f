"""The department API (``/api/v1/``): OpenAPI schema, bearer-token auth (unknown or revoked → 401, another source →
403), the happy path as JSON and as a multipart file, Chinese problems with 400 and nothing written, and the
unmatched rows (masked) of the token's own batches only."""

from __future__ import annotations

import json
from datetime import date

import pytest
from conftest import NEIGHBOUR_TOWN, NEIGHBOUR_VILLAGE, TOWN, VILLAGE
from django.core.files.uploadedfile import SimpleUploadedFile
from registry_factory import make_household

from fangfan.core.models import AuditEvent
from fangfan.monitoring.models import DepartmentBatch, DepartmentRecord, EarlyWarning
from fangfan.monitoring.tokens import token_issue, token_revoke

pytestmark = pytest.mark.django_db
UNKNOWN_ID = "11010519491231002X"
BATCHES = "/api/v1/department/{}/batches"


@pytest.fixture
def home(regions):
    return make_household("H-DF-001", VILLAGE, household_type="exited", exited_class="monitored",
                          members=[("张三", date(1970, 5, 1), "户主")])  # fmt: skip


@pytest.fixture
def token(users):
    _row, raw = token_issue(
        actor=users["town_station"], name="县医保局结算系统", source="medical", region_code=TOWN
    )
    return raw


def auth(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def rows_body(*rows, file_name="2026年3月医保结算") -> str:
    return json.dumps({"file_name": file_name, "rows": list(rows)}, ensure_ascii=False)


def medical(id_number, amount="8000", name="张三") -> dict:
    return {
        "证件号码": id_number,
        "姓名": name,
        "结算日期": "2026-03-05",
        "医疗总费用": "30000",
        "个人自付金额": amount,
    }


def test_OpenAPI文档可访问(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/department/{source}/batches" in schema["paths"]
    assert "/api/v1/department/{source}/batches/{batch_id}/unmatched" in schema["paths"]
    body = schema["paths"]["/api/v1/department/{source}/batches"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "multipart/form-data"}
    assert client.get("/api/v1/").status_code == 200


def test_报送JSON行数据_返回汇总(client, home, token):
    member = home.members.get()
    response = client.post(
        BATCHES.format("medical"),
        rows_body(medical(member.id_number), medical(UNKNOWN_ID, "300", "李四")),
        content_type="application/json",
        **auth(token),
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["rows"], data["matched"], data["unmatched"], data["warnings"]) == (2, 1, 1, 1)
    batch = DepartmentBatch.objects.get(pk=data["batch_id"])
    assert batch.channel == "api" and batch.region_id == TOWN
    # The token's service account: a department user of the token's source and region (monitoring.tokens).
    account = batch.uploaded_by
    assert account.username.startswith("dept-token-") and not account.has_usable_password()
    assert (account.role, account.department, account.region_id) == ("department", "medical", TOWN)
    assert data["unmatched_url"] == f"/department/batches/{batch.pk}/unmatched/"
    assert EarlyWarning.objects.get().source == "medical"
    assert "县医保局结算系统" in AuditEvent.objects.get(action="department.imported").note


def test_报送文件_multipart(client, home, token):
    content = f"证件号码,结算日期,个人自付金额\n{home.members.get().id_number},2026-03-01,9000\n"
    upload = SimpleUploadedFile("医保.csv", content.encode("utf-8"))
    response = client.post(BATCHES.format("medical"), {"file": upload}, **auth(token))
    assert response.status_code == 200, response.content
    assert response.json()["matched"] == 1 and response.json()["file_name"] == "医保.csv"


def test_令牌来源与路径不符_403(client, home, token):
    response = client.post(
        BATCHES.format("civil"),
        json.dumps(
            {"rows": [{"证件号码": UNKNOWN_ID, "救助类型": "低保", "状态": "新增", "日期": "2026-01-01"}]}
        ),
        content_type="application/json",
        **auth(token),
    )
    assert response.status_code == 403
    assert "只能报送医保数据" in response.json()["message"]
    assert not DepartmentBatch.objects.exists()


def test_令牌停用或错误_401(client, home, token, users):
    from fangfan.monitoring.models import DepartmentToken

    body = rows_body(medical(UNKNOWN_ID))
    assert client.post(BATCHES.format("medical"), body, content_type="application/json").status_code == 401
    wrong = auth("ffd_not-a-real-token")
    assert (
        client.post(BATCHES.format("medical"), body, content_type="application/json", **wrong).status_code
        == 401
    )
    token_revoke(actor=users["town_station"], token=DepartmentToken.objects.get())
    response = client.post(BATCHES.format("medical"), body, content_type="application/json", **auth(token))
    assert response.status_code == 401
    assert not DepartmentBatch.objects.exists()


def test_已登录的网页用户没有令牌也是401(client, users, home):
    client.force_login(users["town_station"])
    response = client.post(
        BATCHES.format("medical"), rows_body(medical(UNKNOWN_ID)), content_type="application/json"
    )
    assert response.status_code == 401


def test_数据有误_400中文问题清单_不写入(client, home, token):
    response = client.post(
        BATCHES.format("medical"),
        rows_body(medical(home.members.get().id_number), medical("34152319700501001", amount="abc")),
        content_type="application/json",
        **auth(token),
    )
    assert response.status_code == 400
    data = response.json()
    assert "未导入任何数据" in data["message"]
    assert any("第2行" in p and "证件号码" in p for p in data["problems"])
    assert any("第2行" in p and "个人自付金额" in p and "金额" in p for p in data["problems"])
    assert not DepartmentBatch.objects.exists() and not DepartmentRecord.objects.exists()
    bad = client.post(BATCHES.format("medical"), "not json", content_type="application/json", **auth(token))
    assert bad.status_code == 400 and "JSON" in bad.json()["message"]


def test_令牌区划以外的人员按未匹配处理(client, regions, token):
    far = make_household("H-FY-001", NEIGHBOUR_VILLAGE, household_type="exited", exited_class="monitored")
    response = client.post(
        BATCHES.format("medical"), rows_body(medical(far.members.get().id_number)),
        content_type="application/json", **auth(token),
    )  # fmt: skip
    assert response.json()["unmatched"] == 1 and response.json()["outside"] == 1
    assert not EarlyWarning.objects.exists()


def test_取回未匹配行_证件号码脱敏_只能取本令牌的批次(client, home, token, users):
    data = client.post(
        BATCHES.format("medical"), rows_body(medical(UNKNOWN_ID, "300", "李四")),
        content_type="application/json", **auth(token),
    ).json()  # fmt: skip
    url = f"/api/v1/department/medical/batches/{data['batch_id']}/unmatched"
    response = client.get(url, **auth(token))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    row = body["rows"][0]
    assert row["id_masked"] == "110105********002X" and row["name"] == "李四" and row["row_number"] == 1
    assert row["columns"]["个人自付金额"] == "300" and "系统中无此证件号码" in row["reason"]
    assert UNKNOWN_ID not in response.content.decode()
    _other, other_raw = token_issue(
        actor=users["neighbour_station"], name="千人桥医保", source="medical", region_code=NEIGHBOUR_TOWN
    )
    assert client.get(url, **auth(other_raw)).status_code == 404
    assert client.get(url.replace("medical", "civil"), **auth(token)).status_code == 403


def test_取回未匹配行时_辖区外登记的人数记入审计日志(client, regions, token):
    """Issue 16 point 10: the API's unmatched reasons say a person is registered outside the token's region;
    each such answer is one audit event with the count, naming the token, not the ID."""
    far = make_household("H-FY-002", NEIGHBOUR_VILLAGE, household_type="exited", exited_class="monitored")
    far_id = far.members.get().id_number
    data = client.post(
        BATCHES.format("medical"), rows_body(medical(far_id)), content_type="application/json", **auth(token)
    ).json()
    url = f"/api/v1/department/medical/batches/{data['batch_id']}/unmatched"
    for _ in range(2):
        body = client.get(url, **auth(token)).json()
        assert "本辖区以外" in body["rows"][0]["reason"]
    events = list(AuditEvent.objects.filter(action="member.elsewhere_shown"))
    assert len(events) == 2
    assert events[0].after == {"count": 1, "via": "api", "dry_run": False}
    assert events[0].object_id == str(data["batch_id"]) and events[0].region_code == TOWN
    assert events[0].note.startswith("接口令牌：") and far_id not in str(events[0].after)
