"""fangfan report monthly -o FILE [--region CODE] [--month YYYY-MM] [--public]: the monthly report (月报) as .xlsx
or .pdf (CLI.md)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from fangfan.core.commands import DomainCommand


class Command(DomainCommand):
    help = "生成月报（.xlsx 或 .pdf）"

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["monthly"], help="报表类型：monthly（月报）")
        parser.add_argument("-o", "--output", required=True, help="输出文件，以 .xlsx 或 .pdf 结尾")
        parser.add_argument("--region", help="区划代码（镇、县等），命令行账号必须指明")
        parser.add_argument("--month", help="月份 YYYY-MM，默认当月")
        parser.add_argument("--public", action="store_true", help="公开版：不足 5 户的数字不显示")
        self.add_user_argument(parser)

    def run(self, *args, **options):
        from fangfan.reports.monthly_files import write_monthly_pdf, write_monthly_xlsx
        from fangfan.reports.monthly_views import report_for, report_record

        path = Path(options["output"])
        suffix = path.suffix.lower()
        if suffix not in (".xlsx", ".pdf"):
            raise CommandError("输出文件应以 .xlsx 或 .pdf 结尾")
        if not path.parent.exists():
            raise CommandError(f"目录不存在：{path.parent}")
        actor = self.actor(options)
        if not actor.can("dashboard.view"):
            raise CommandError("账号无权查看统计报表")
        report = report_for(
            actor,
            region=options.get("region") or "",
            month=options.get("month") or "",
            public=options["public"],
        )
        (write_monthly_pdf if suffix == ".pdf" else write_monthly_xlsx)(report, path)
        report_record(actor, report, suffix[1:])
        self.stdout.write(f"已生成{report.title}到 {path}")
