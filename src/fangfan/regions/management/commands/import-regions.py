"""fangfan import-regions FILE: load or update regions (DATA-FORMATS §1)."""

from pathlib import Path

from fangfan.core.commands import DomainCommand
from fangfan.regions.services import regions_import


class Command(DomainCommand):
    help = "导入或更新行政区划（区划代码表 .xlsx/.csv）"

    def add_arguments(self, parser):
        parser.add_argument("file", help="区划代码表文件（.xlsx 或 .csv）")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        self.add_user_argument(parser)

    def run(self, *args, **options):
        path = self.existing_file(options["file"])
        summary = regions_import(path=path, actor=self.actor(options), dry_run=options["dry_run"])
        prefix = "检查通过（未写入）" if options["dry_run"] else "导入完成"
        self.stdout.write(
            f"{prefix}：读取 {summary.read} 条，新增 {summary.created}，更新 {summary.updated}，未变 {summary.unchanged}。"
        )
        return Path(path)
