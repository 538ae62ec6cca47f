"""fangfan backup -o FILE: a consistent online copy of the database and the stored files, with a manifest."""

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from fangfan.core.backup import backup_create
from fangfan.core.commands import DomainCommand


class Command(DomainCommand):
    help = (
        "备份数据库（SQLite 在线备份 / PostgreSQL pg_dump）、佐证材料等文件和备份清单到一个 tar 文件；"
        "不包含密钥，密钥请另行保存"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "-o", "--output", required=True, help="备份文件名（以 .tar.gz 或 .tgz 结尾则压缩）"
        )
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--gzip", dest="gzip", action="store_true", default=None, help="压缩（gzip）")
        group.add_argument("--no-gzip", dest="gzip", action="store_false", help="不压缩")
        self.add_user_argument(parser)

    def run(self, *args: Any, **options: Any) -> None:
        say = self.stderr.write if self.show_progress() else (lambda _text: None)
        result = backup_create(
            output=Path(options["output"]), actor=self.actor(options), gzip=options["gzip"], say=say
        )
        self.stdout.write(result.describe())
