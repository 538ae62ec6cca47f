"""fangfan purge-files [--days N]: delete exported and uploaded files older than the retention period."""

from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from fangfan.core.commands import DomainCommand
from fangfan.core.retention import purge_files


class Command(DomainCommand):
    help = (
        "删除超过保存期限的导出文件、导入错误清单和残留的上传文件（默认保存 FANGFAN_FILE_RETENTION_DAYS 天）"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, default=None, help=f"保存天数（默认 {settings.FILE_RETENTION_DAYS}）"
        )
        self.add_user_argument(parser)

    def run(self, *args: Any, **options: Any) -> None:
        days = options.get("days")
        if days is not None and days < 0:
            from django.core.management.base import CommandError

            raise CommandError("--days 不能为负数")
        summary = purge_files(days=days, actor=self.actor(options))
        self.stdout.write(summary.describe())
