"""fangfan import-department SOURCE FILE [--dry-run] [--user U]: import one department batch (DATA-FORMATS §3)."""

from django.core.management.base import CommandError

from fangfan.core.commands import DomainCommand
from fangfan.monitoring.department import SOURCE_COLUMNS, department_import, source_label


class Command(DomainCommand):
    requires_system_checks: list = []  # run often (cron, scripts): skip the ~1 s of project-wide checks
    help = "导入一批部门数据（医保、民政、残联……），按证件号码匹配农户成员，并对本批数据进行预警筛查"

    def add_arguments(self, parser):
        choices = "、".join(f"{s}（{source_label(s)}）" for s in SOURCE_COLUMNS)
        parser.add_argument("source", help=f"数据来源：{choices}")
        parser.add_argument("file", help="部门数据文件（.xlsx 或 .csv）")
        parser.add_argument("--dry-run", action="store_true", help="只检查和匹配，不写入")
        self.add_user_argument(parser)

    def run(self, *args, **options):
        source = options["source"]
        if source not in SOURCE_COLUMNS:
            raise CommandError(f"未知的数据来源“{source}”，可选：{'、'.join(SOURCE_COLUMNS)}")
        path = self.existing_file(options["file"])
        summary = department_import(
            source=source, path=path, actor=self.actor(options), dry_run=options["dry_run"], channel="cli"
        )
        head = "检查通过（未写入）" if summary.dry_run else "导入完成"
        self.stdout.write(f"{head}：{summary.source_label}数据 {summary.file_name}")
        self.stdout.write(
            f"  读取 {summary.rows} 行，已匹配 {summary.matched} 行，未匹配 {summary.unmatched} 行"
        )
        if summary.outside:
            self.stdout.write(f"  其中 {summary.outside} 行的人员在本辖区以外登记，按未匹配处理")
        self.stdout.write(f"  姓名不一致 {summary.name_mismatches} 行（已标记，不影响导入）")
        if summary.dry_run:
            if summary.unmatched_rows:
                shown = "、".join(str(n) for n in summary.unmatched_rows[:20])
                more = "……" if len(summary.unmatched_rows) > 20 else ""
                self.stdout.write(f"  未匹配的行号：{shown}{more}")
            return
        self.stdout.write(f"  批次编号 {summary.batch_id}；产生预警 {summary.warnings} 条")
        if summary.unmatched or summary.name_mismatches:
            self.stdout.write(f"  未匹配和姓名不一致的行可在网页下载：{summary.unmatched_url}")
