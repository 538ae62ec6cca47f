"""``fangfan demo`` (spec/CLI.md): migrate, create the demo unless it exists, print the accounts; serving starts the
task worker beside the web server and stops it with the server."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from fangfan.core.models import AuditEvent
from fangfan.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from fangfan.registry.models import Household

pytestmark = pytest.mark.django_db(transaction=False)


def _run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("demo", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_demo_without_serving_creates_the_data_once_and_reuses_it():
    out, err = _run("--no-serve", "--households", "200", "--seed", "5")
    assert "已生成演示数据" in out and "200 户" in out
    for account in DEMO_ACCOUNTS:
        assert account.username in out
    assert DEMO_PASSWORD in out
    assert "村级经办" in out and "桃溪镇东风村" in out
    assert Household.objects.count() == 200
    # quiet in a pipe: no progress bar
    assert "█" not in err

    out, err = _run("--no-serve", "--households", "200", "--seed", "5")
    assert "使用已有的演示数据" in out and "200 户" in out
    assert "重新生成" not in out
    assert Household.objects.count() == 200
    assert AuditEvent.objects.filter(action="demo.generated").count() == 1

    out, _err = _run("--no-serve", "--households", "300")
    assert "使用已有的演示数据" in out and "重新生成" in out
    assert Household.objects.count() == 200


def test_demo_records_who_ran_it():
    _run("--no-serve", "--households", "20")
    event = AuditEvent.objects.get(action="demo.generated")
    assert event.actor_username.startswith("cli-")
    assert event.after["households"] == 20


def test_bad_options_get_a_chinese_error():
    with pytest.raises(CommandError, match="HOST:PORT"):
        _run("--no-serve", "--addr", "localhost:http")
    with pytest.raises(CommandError, match="正整数"):
        _run("--no-serve", "--households", "0")


def test_serving_stops_the_task_worker_with_the_server(monkeypatch):
    """The web server runs in the foreground; when it stops (Ctrl-C), the worker subprocess is ended too."""
    from fangfan.demo.management.commands import demo as command

    started = []
    real_popen = subprocess.Popen

    def fake_popen(args, **kwargs):
        assert args[1:] == ["-m", "fangfan.cli", "db_worker", "--verbosity", "0"]
        process = real_popen([sys.executable, "-c", "import time; time.sleep(60)"], **kwargs)  # noqa: S603
        started.append(process)
        return process

    served = []

    def fake_call_command(name, *args, **kwargs):
        if name == "runserver":
            served.append((args, kwargs))
            raise KeyboardInterrupt
        return call_command(name, *args, **kwargs)

    monkeypatch.setattr(command.subprocess, "Popen", fake_popen)
    monkeypatch.setattr(command, "call_command", fake_call_command)
    out, _err = _run("--households", "10", "--addr", "127.0.0.1:8123")
    assert "http://127.0.0.1:8123/" in out
    assert "演示系统已停止" in out
    assert served == [
        (("127.0.0.1:8123",), {"use_reloader": False, "use_threading": True, "skip_checks": True})
    ]
    assert len(started) == 1 and started[0].poll() is not None
