"""fangfan snapshot [--month YYYY-MM] [--region CODE]: keep every household's figures for the month (idempotent)."""

from django.core.management.base import CommandError

from fangfan.core.commands import DomainCommand
from fangfan.regions.codes import RegionCodeError, validate_code
from fangfan.regions.models import Region
from fangfan.registry.history import history_snapshot, month_parse


class Command(DomainCommand):
    requires_system_checks: list = []  # run from cron every night
    help = "记录各农户本月（或指定月份）的收入、三保障指标、建议分类和监测状态；重复运行不会重复记录"

    def add_arguments(self, parser):
        parser.add_argument("--month", help="月份 YYYY-MM，默认本月；过去的月份只补记没有记录的农户")
        parser.add_argument("--region", help="12 位行政区划代码（县、乡镇或村），默认全部")
        self.add_user_argument(parser)

    def run(self, *args, **options):
        region = options.get("region")
        if region:
            try:
                region = validate_code(region)
            except RegionCodeError as exc:
                raise CommandError(f"区划代码“{region}”无效：{exc}") from None
            if not Region.objects.filter(code=region).exists():
                raise CommandError(f"区划代码“{region}”不存在，请先导入区划")
        result = history_snapshot(
            actor=self.actor(options), month=month_parse(options.get("month")), region_code=region or None
        )
        what = "补记" if result.backfilled else "记录"
        self.stdout.write(
            f"{result.month:%Y-%m} 月度{what}完成：农户 {result.households} 户，本次写入 {result.written} 条"
        )
