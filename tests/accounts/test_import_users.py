"""Accounts in bulk (``fangfan import-users FILE``): a good file creates and updates accounts (new ones without a
usable password), each audited; every refusal — a role bound to the wrong level, an unknown region or role, an
account twice, an administrator role or account, a 部门 account without its department — is named by row and
column, and nothing is written."""

from __future__ import annotations

import csv
import io

import pytest
from conftest import COUNTY, NEIGHBOUR_TOWN, PROVINCE, TOWN, VILLAGE
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from fangfan.accounts.importing import users_import
from fangfan.accounts.models import User
from fangfan.core.errors import DomainError, ValidationFailed
from fangfan.core.models import AuditEvent

pytestmark = pytest.mark.django_db
HEADERS = ["账号", "姓名", "角色", "区划代码", "手机号", "部门"]


def write_csv(tmp_path, rows, headers=HEADERS, name="accounts.csv"):
    path = tmp_path / name
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


GOOD = [
    ["dfc-wang", "王会计", "村级经办", VILLAGE, "13800000001", ""],
    ["txz-li", "李站长", "镇扶贫工作站", TOWN, "", ""],
    ["county-zhao", "赵审核", "市县审核", COUNTY, "", ""],
    ["prov-qian", "钱备案", "省级备案", PROVINCE, "", ""],
    ["ybj-sun", "孙医保", "部门", COUNTY, "", "医保"],
    ["dfc-zhou", "周联系", "帮扶责任人/联系人", VILLAGE, "", ""],
]


def snapshot():
    return (
        sorted(User.objects.values_list("username", "full_name", "role", "region_id", "department", "phone")),
        AuditEvent.objects.count(),
    )


def test_导入账号_新建与更新_逐个审计(tmp_path, users):
    helper = users["helper"]
    rows = [*GOOD, [helper.username, "吴新名", "村级经办", VILLAGE, "", ""]]
    out = io.StringIO()
    call_command("import-users", str(write_csv(tmp_path, rows)), stdout=out)
    assert "新增 6，更新 1，未变 0" in out.getvalue()
    wang = User.objects.get(username="dfc-wang")
    assert (wang.full_name, wang.role, wang.region_id, wang.phone) == ("王会计", "village_clerk", VILLAGE,
                                                                     "13800000001")  # fmt: skip
    assert not wang.has_usable_password() and wang.is_active
    sun = User.objects.get(username="ybj-sun")
    assert (sun.role, sun.department) == ("department", "medical")
    assert User.objects.get(username="dfc-zhou").role == "helper"
    helper.refresh_from_db()
    assert (helper.full_name, helper.role) == ("吴新名", "village_clerk")
    assert helper.has_usable_password()  # an existing account keeps its password
    assert AuditEvent.objects.filter(action="user.created", note="批量导入账号").count() == 6
    updated = AuditEvent.objects.get(action="user.updated", note="批量导入账号")
    assert updated.after == {"full_name": "吴新名", "role": "village_clerk"}
    # Imported again: nothing changes, nothing is audited.
    before = snapshot()
    out = io.StringIO()
    call_command("import-users", str(write_csv(tmp_path, rows)), stdout=out)
    assert "新增 0，更新 0，未变 7" in out.getvalue()
    assert snapshot() == before


def test_导入xlsx_不带可选列(tmp_path, regions):
    xlsxwriter = pytest.importorskip("xlsxwriter")
    path = tmp_path / "accounts.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("账号")
    sheet.write_row(0, 0, ["账号", "姓名", "角色", "区划代码"])
    sheet.write_row(1, 0, ["txz-li", "李站长", "镇扶贫工作站", TOWN])
    workbook.close()
    summary = users_import(path=path, actor=User.objects.cli_account("ops"))
    assert (summary.created, summary.updated) == (1, 0)


def test_新账号不能登录网页(client, tmp_path, regions):
    users_import(path=write_csv(tmp_path, GOOD[:1]), actor=User.objects.cli_account("ops"))
    wang = User.objects.get(username="dfc-wang")
    assert not wang.has_usable_password() and wang.password_changed_at is None
    for password in ("!", wang.password, "Fangfan-Test-2026!"):
        response = client.post(reverse("accounts:login"), {"username": "dfc-wang", "password": password})
        assert response.status_code == 200 and "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (["bad-level", "甲", "村级经办", TOWN, "", ""], "区划代码", "只能绑定到村（社区）级区划"),
        (["bad-level2", "甲", "省级备案", COUNTY, "", ""], "区划代码", "只能绑定到省级区划，“舒城县”是县级"),
        (["no-region", "甲", "村级经办", "341523104299", "", ""], "区划代码", "区划不存在"),
        (["no-role", "甲", "村长", VILLAGE, "", ""], "角色", "未知的角色"),
        (["admin", "甲", "系统管理员", COUNTY, "", ""], "角色", "不能通过导入创建"),
        (["audit", "甲", "审计管理员", COUNTY, "", ""], "角色", "不能通过导入创建"),
        (["no-dept", "甲", "部门", COUNTY, "", ""], "部门", "须填写所属部门"),
        (["bad-phone", "甲", "村级经办", VILLAGE, "12345", ""], "手机号", "11 位"),
        (["", "甲", "村级经办", VILLAGE, "", ""], "账号", "不能为空"),
        (["bad name!", "甲", "村级经办", VILLAGE, "", ""], "账号", "只能由"),
        (["no-name", "", "村级经办", VILLAGE, "", ""], "姓名", "不能为空"),
    ],
)
def test_逐行拒绝_不写入任何账号(tmp_path, users, row, column, reason):
    before = snapshot()
    with pytest.raises(ValidationFailed) as caught:
        users_import(path=write_csv(tmp_path, [*GOOD, row]), actor=User.objects.cli_account("ops"))
    problems = caught.value.problems
    assert [(p.row, p.column) for p in problems] == [(len(GOOD) + 2, column)], problems
    assert reason in problems[0].reason
    assert "accounts.csv 第8行" in str(problems[0])
    assert "未导入任何账号" in caught.value.message
    # cli_account() itself may have been created above; nothing else was
    after = snapshot()
    assert [u for u in after[0] if not u[0].startswith("cli-")] == [
        u for u in before[0] if not u[0].startswith("cli-")
    ]
    assert not AuditEvent.objects.filter(action__startswith="user.").exists()


def test_文件内账号重复(tmp_path, regions):
    rows = [*GOOD, ["DFC-WANG", "王二", "村级经办", VILLAGE, "", ""]]
    with pytest.raises(ValidationFailed) as caught:
        users_import(path=write_csv(tmp_path, rows), actor=User.objects.cli_account("ops"))
    assert [(p.row, p.column, p.reason) for p in caught.value.problems] == [(8, "账号", "与第2行的账号重复")]
    assert not User.objects.filter(username__in=[r[0] for r in GOOD]).exists()


def test_不能通过导入修改管理员账号(tmp_path, users):
    admin = users["sec_admin"]
    rows = [[admin.username, "改名", "村级经办", VILLAGE, "", ""]]
    with pytest.raises(ValidationFailed) as caught:
        users_import(path=write_csv(tmp_path, rows), actor=User.objects.cli_account("ops"))
    assert "管理员" in caught.value.problems[0].reason
    admin.refresh_from_db()
    assert admin.role == "sec_admin"


def test_缺少必需的列(tmp_path, regions):
    path = write_csv(tmp_path, [["a", "甲", "村级经办"]], headers=["账号", "姓名", "角色"])
    with pytest.raises(ValidationFailed) as caught:
        users_import(path=path, actor=User.objects.cli_account("ops"))
    assert [(p.column, p.reason) for p in caught.value.problems] == [("区划代码", "缺少必需的列（表头）")]


def test_网页管理员只能导入本辖区_其他角色不能导入(tmp_path, users, make_user):
    town_admin = make_user("sys_admin", TOWN, username="town-admin")
    rows = [["qrq-clerk", "甲", "镇扶贫工作站", NEIGHBOUR_TOWN, "", ""]]
    with pytest.raises(ValidationFailed) as caught:
        users_import(path=write_csv(tmp_path, rows), actor=town_admin)
    assert "不在您的管辖范围内" in caught.value.problems[0].reason
    with pytest.raises(DomainError, match="只有系统管理员"):
        users_import(path=write_csv(tmp_path, GOOD), actor=users["town_station"])
    assert not User.objects.filter(username="qrq-clerk").exists()


def test_命令_错误时中文说明行列(tmp_path, regions):
    path = write_csv(tmp_path, [["bad-level", "甲", "村级经办", TOWN, "", ""]])
    with pytest.raises(CommandError, match="账号表有 1 处错误"):
        call_command("import-users", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError, match="文件不存在"):
        call_command("import-users", str(tmp_path / "nope.csv"), stdout=io.StringIO())


def test_安全管理员设置初始密码后才能登录_登录后须改设新密码(client, tmp_path, users):
    """三员分立: only the security administrator sets a first password; the person must change it on first sign-in."""
    users_import(path=write_csv(tmp_path, GOOD[:1]), actor=User.objects.cli_account("ops"))
    wang = User.objects.get(username="dfc-wang")
    client.force_login(users["sys_admin"])
    page = client.get(reverse("accounts:user_edit", args=[wang.pk])).content.decode()
    assert 'data-testid="no-password"' in page and "安全管理员" in page
    client.force_login(users["sec_admin"])
    password = "Chushi-Mima-2026!"
    client.post(
        reverse("accounts:security"),
        {"form": "password", "username": "dfc-wang", "password1": password, "password2": password},
    )
    client.logout()
    client.post(reverse("accounts:login"), {"username": "dfc-wang", "password": password})
    assert client.session.get("_auth_user_id") == str(wang.pk)
    assert client.get(reverse("home")).url.startswith(reverse("accounts:password_change"))
