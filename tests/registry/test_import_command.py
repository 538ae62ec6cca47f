"""``fangfan import-households FILE [--dry-run] [--user U]`` (CLI.md): exit status 0 and a Chinese summary on success;
every problem on stderr and a non-zero exit otherwise — never a traceback for bad input."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from django.core.management import execute_from_command_line

sys.path.insert(0, str(Path(__file__).parent))
import test_import  # noqa: E402
from test_import import counts, sample, write_csv_pair, write_xlsx  # noqa: E402

from fangfan.core.models import AuditEvent
from fangfan.registry.models import Household

pytestmark = pytest.mark.django_db
people = test_import.people


def run(*args: str) -> int:
    """Run the command as the console script does; its exit status. (Django closes the database connections when a
    command ends; here that would end the test's transaction, so closing is skipped.)"""
    from unittest import mock

    with mock.patch("django.db.connections.close_all"):
        try:
            execute_from_command_line(["fangfan", "import-households", *args])
        except SystemExit as exc:
            return int(exc.code or 0)
    return 0


def test_success_prints_a_summary_and_exits_zero(tmp_path, regions, capsys):
    households, members = sample()
    assert run(str(write_xlsx(tmp_path / "b.xlsx", households, members))) == 0
    out = capsys.readouterr()
    assert "导入完成：读取农户 2 户、成员 4 人；农户新增 2" in out.out
    assert out.err == ""  # no progress bar in a pipe
    assert Household.objects.count() == 2
    assert AuditEvent.objects.get(action="household.imported").actor_username.startswith("cli-")


def test_folder_of_csv_files_and_dry_run(tmp_path, regions, capsys):
    households, members = sample()
    folder = write_csv_pair(tmp_path / "csv", households, members, encoding="gb18030")
    assert run(str(folder), "--dry-run") == 0
    assert "检查通过（试导入，未写入任何数据）" in capsys.readouterr().out
    assert Household.objects.count() == 0


def test_verbose_run_names_the_households_it_creates(tmp_path, regions, capsys):
    households, members = sample()
    book = write_xlsx(tmp_path / "b.xlsx", households, members)
    assert run(str(book), "--dry-run", "-v", "2") == 0
    out = capsys.readouterr().out
    assert "将新增、更新的农户：" in out
    assert f"  {test_import.H1}  新增  新建农户档案、新增成员 3 人" in out
    assert run(str(book), "--dry-run") == 0
    assert "新增、更新的农户" not in capsys.readouterr().out  # only with -v 2


def test_bad_file_lists_problems_and_exits_non_zero(tmp_path, regions, capsys):
    households, members = sample()
    members[0]["证件号码"] = "34152319700101001"
    households[1]["饮水安全"] = "不知道"
    before = counts()
    assert run(str(write_xlsx(tmp_path / "b.xlsx", households, members))) == 1
    err = capsys.readouterr().err
    assert "b.xlsx 工作表“成员信息” 第2行 列“证件号码”（值：34152319700101001）：证件号码无效" in err
    assert "工作表“户信息” 第3行 列“饮水安全”（值：不知道）：应填“是”或“否”" in err
    assert "错误：b.xlsx 有 2 处错误，未导入任何数据" in err
    assert "Traceback" not in err and "CommandError" not in err
    assert counts() == before


def test_missing_file_and_unknown_user(tmp_path, regions, people, capsys):
    assert run(str(tmp_path / "nope.xlsx")) == 1
    err = capsys.readouterr().err
    assert err.startswith("错误：文件不存在") and "CommandError" not in err
    households, members = sample()
    book = write_xlsx(tmp_path / "b.xlsx", households, members)
    assert run(str(book), "--user", "nobody") == 1
    assert "账号“nobody”不存在或已停用" in capsys.readouterr().err


def test_user_option_applies_that_users_jurisdiction(tmp_path, regions, people, capsys):
    households, members = sample()
    book = write_xlsx(tmp_path / "b.xlsx", households, members)
    assert run(str(book), "--user", people["neighbour_clerk"].username) == 1
    assert "该村不在您的管辖范围内" in capsys.readouterr().err
    assert run(str(book), "--user", people["village_clerk"].username) == 0
    assert AuditEvent.objects.get(action="household.imported").actor == people["village_clerk"]
