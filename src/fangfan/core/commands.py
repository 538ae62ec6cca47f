"""Base for our management commands: Chinese errors on stderr and a non-zero exit, never a traceback for bad
input; ``--user`` names who ran it for the audit log (default: the operating-system user's system account)."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from .errors import DomainError, ValidationFailed

MAX_PROBLEMS_SHOWN = 200


class DomainCommand(BaseCommand):
    def add_user_argument(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--user", help="以哪个系统账号的名义执行（记入审计日志），默认为当前操作系统用户对应的命令行账号"
        )

    def actor(self, options: dict[str, Any]) -> Any:
        User = get_user_model()
        username = options.get("user")
        if username:
            try:
                return User.objects.get(username=username, is_active=True)
            except User.DoesNotExist:
                raise CommandError(f"账号“{username}”不存在或已停用") from None
        return User.objects.cli_account(getpass.getuser())

    def existing_file(self, name: str) -> Path:
        path = Path(name)
        if not path.exists():
            raise CommandError(f"文件不存在：{name}")
        return path

    def show_progress(self) -> bool:
        return sys.stderr.isatty()

    def execute(self, *args: Any, **options: Any) -> str | None:
        """From the command line, an error is one Chinese line on stderr ("错误：…") and the exit status, without
        the ``CommandError:`` class name Django would print before it (``--traceback`` still shows everything;
        ``call_command`` still raises)."""
        try:
            return super().execute(*args, **options)
        except CommandError as exc:
            if not getattr(self, "_called_from_command_line", False) or options.get("traceback"):
                raise
            self.stderr.write(f"错误：{exc}")
            sys.exit(exc.returncode)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self.run(*args, **options)
        except ValidationFailed as exc:
            for problem in exc.problems[:MAX_PROBLEMS_SHOWN]:
                self.stderr.write(f"  {problem}")
            if len(exc.problems) > MAX_PROBLEMS_SHOWN:
                self.stderr.write(f"  ……另有 {len(exc.problems) - MAX_PROBLEMS_SHOWN} 处错误未列出")
            raise CommandError(exc.message) from None
        except DomainError as exc:
            raise CommandError(exc.message) from None

    def run(self, *args: Any, **options: Any) -> None:  # pragma: no cover - overridden
        raise NotImplementedError
