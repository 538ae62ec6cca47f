"""fangfan restore FILE [--force]: put a backup back and check it against its manifest and the audit chain."""

from functools import partial
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from fangfan.core.commands import DomainCommand
from fangfan.core.restore import restore_archive


class Command(DomainCommand):
    help = "从 fangfan backup 的备份文件恢复数据库和文件，并按备份清单核对行数、校验审计日志"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="备份文件")
        parser.add_argument("--force", action="store_true", help="当前数据库不是空的时也覆盖它")
        self.add_user_argument(parser)

    def run(self, *args: Any, **options: Any) -> None:
        say = self.stderr.write if self.show_progress() else (lambda _text: None)
        result = restore_archive(
            archive=Path(options["file"]),
            actor_for=partial(self.actor, options),
            force=options["force"],
            say=say,
        )
        self.stdout.write(result.describe())
        if not result.ok:
            raise CommandError("恢复后的数据与备份清单不一致")
