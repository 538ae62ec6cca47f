"""fangfan screen [--region CODE]: run the early-warning rules over a region and print what they found."""

import sys

from django.core.management.base import CommandError

from fangfan.core.commands import DomainCommand
from fangfan.monitoring.screening import screening_run
from fangfan.regions.codes import RegionCodeError, validate_code
from fangfan.regions.models import Region
from fangfan.registry.history import history_snapshot


class Command(DomainCommand):
    requires_system_checks: list = []  # run often (cron, scripts): skip the ~1 s of project-wide checks
    help = "对指定区划（默认全部）运行预警规则，输出各规则新增预警数"

    def add_arguments(self, parser):
        parser.add_argument("--region", help="12 位行政区划代码（县、乡镇或村），默认全部")
        parser.add_argument(
            "--no-snapshot",
            action="store_true",
            help="不记录本月月度数据（默认筛查后记录，见 fangfan snapshot）",
        )
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
        progress = self._progress if self.show_progress() else None
        run = screening_run(region_code=region or None, actor=self.actor(options), progress=progress)
        if progress:
            sys.stderr.write("\r" + " " * 70 + "\r")
        name = Region.objects.filter(code=run.region_code).values_list("name", flat=True).first()
        self.stdout.write(f"预警筛查完成：{name or '全部地区'}，用时 {run.seconds:.2f} 秒")
        width = max((len(item["name"]) for item in run.per_rule.values()), default=10)
        for item in run.per_rule.values():
            pad = "　" * (width - len(item["name"]))
            self.stdout.write(f"  {item['name']}{pad}  新增 {item['new']:>6} 条")
        self.stdout.write(f"合计新增预警 {run.new_warnings} 条（筛查记录 {run.pk}）")
        if not options.get("no_snapshot"):
            # The nightly screening keeps the month's figures too (issue 18: the trend rule reads them).
            kept = history_snapshot(actor=self.actor(options), region_code=region or None)
            self.stdout.write(
                f"{kept.month:%Y-%m} 月度记录：农户 {kept.households} 户，本次写入 {kept.written} 条"
            )

    def _progress(self, done: int, total: int, message: str) -> None:
        bar = "#" * int(30 * done / max(total, 1))
        sys.stderr.write(f"\r[{bar:<30}] {done}/{total} {message[:30]}")
        sys.stderr.flush()
