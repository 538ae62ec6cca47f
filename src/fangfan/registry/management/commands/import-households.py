"""fangfan import-households FILE [--dry-run] [--sync-national] [--user U]: import the household workbook, or a
folder holding its two CSV files (DATA-FORMATS §2). A progress bar on a terminal, quiet in a pipe; every problem
listed (up to 200) and a non-zero exit when the file has errors; with ``-v 2`` the households it creates or changes
(first 100). Every official status field of an existing household that differs from the file is listed: kept as
stored, or — with ``--sync-national`` (与国家系统同步; as ``--user``, a town-station or county account) — applied and
recorded in the household's history."""

import sys

from fangfan.core.commands import DomainCommand
from fangfan.registry.importing.households import households_import
from fangfan.registry.importing.layout import OFFICIAL_SECTION


class Command(DomainCommand):
    help = "导入农户信息（户信息导入模板 .xlsx，或含 户信息.csv、成员信息.csv 的文件夹）"

    def add_arguments(self, parser):
        parser.add_argument("file", help=".xlsx 文件、单个 .csv 文件，或含两个 CSV 文件的文件夹")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        parser.add_argument(
            "--sync-national",
            action="store_true",
            help="与国家系统同步：已有农户的正式状态字段也按文件更新（仅镇扶贫工作站、市县审核）",
        )
        self.add_user_argument(parser)

    def run(self, *args, **options):
        path = self.existing_file(options["file"])
        show = self.show_progress()
        try:
            summary = households_import(
                path=path,
                actor=self.actor(options),
                dry_run=options["dry_run"],
                progress=self._bar if show else None,
                sync_national=options["sync_national"],
            )
        finally:
            if show:
                sys.stderr.write("\n")
        self.stdout.write(summary.describe())
        if options["verbosity"] >= 2 and summary.preview:  # which households, with -v 2
            total = summary.households_created + summary.households_updated
            shown = len(summary.preview)
            self.stdout.write(
                f"{'将' if summary.dry_run else ''}新增、更新的农户"
                + (f"（前 {shown} 户，共 {total} 户）：" if total > shown else "：")
            )
            for p in summary.preview:
                self.stdout.write(f"  {p['number']}  {p['kind']}  {p['what']}")
        if summary.official_differences:
            title = (
                f"与国家系统同步，{'将' if summary.dry_run else '已'}按文件更新的正式状态字段"
                if summary.sync_national
                else OFFICIAL_SECTION
            )
            self.stdout.write(f"{title}（户编号、字段、系统中的值、文件中的值）：")
            for d in summary.official_differences:
                self.stdout.write(f"  {d['number']}  {d['field']}  {d['system']}  →  {d['file']}")

    def _bar(self, done: int, total: int, message: str = "") -> None:
        percent = int(done * 100 / total) if total else 100
        sys.stderr.write(f"\r[{'#' * (percent // 4):<25}] {percent:3d}% {message}      ")
        sys.stderr.flush()
