"""fangfan health [--queue-minutes N] [--probe SECONDS]: exit 0 when the database and the background worker are
fine, 1 with a Chinese line per problem otherwise (for monitoring and cron)."""

from typing import Any

from django.core.management.base import CommandError, CommandParser

from fangfan.core.commands import DomainCommand
from fangfan.core.health import DEFAULT_QUEUE_MINUTES, check_health


class Command(DomainCommand):
    help = "检查数据库和后台进程是否正常（供监控使用：正常时退出码为 0，异常时为 1）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--queue-minutes",
            type=int,
            default=DEFAULT_QUEUE_MINUTES,
            help=f"后台任务排队超过多少分钟算异常（默认 {DEFAULT_QUEUE_MINUTES}）",
        )
        parser.add_argument(
            "--probe", type=float, default=0.0, help="另外提交一个探测任务，等待后台进程在这么多秒内执行它"
        )

    def run(self, *args: Any, **options: Any) -> None:
        if options["queue_minutes"] < 1 or options["probe"] < 0:
            raise CommandError("--queue-minutes 必须是正整数，--probe 不能为负数")
        health = check_health(queue_minutes=options["queue_minutes"], probe=options["probe"])
        self.stdout.write(health.describe())
        if not health.ok:
            raise CommandError("系统状态异常", returncode=1)
