"""fangfan export KIND -o FILE [--region CODE] [--reveal-ids] [--members]: write a list (CLI.md, DATA-FORMATS §4).

Kinds are registered by the apps that own them (``core.exports.register_export``); this command checks the region
code and calls the kind's function.
``fangfan export ledger NAME`` passes ``name`` and ``month`` in ``options``; ``fangfan export decisions`` ``from`` and
``to`` (``--from``/``--to``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import CommandError

from fangfan.core.commands import DomainCommand
from fangfan.core.exports import discover, run_export
from fangfan.regions.codes import RegionCodeError, validate_code


class Command(DomainCommand):
    help = "导出清单（农户清单、预警清单、台账等）为 .xlsx 或 .csv"

    def add_arguments(self, parser):
        parser.add_argument(
            "kind", help="导出的内容，例如 households（农户清单）、warnings（预警清单）、ledger（台账）"
        )
        parser.add_argument("name", nargs="?", help="台账名称（仅 ledger），例如 monitored（监测对象台账）")
        parser.add_argument("-o", "--output", required=True, help="输出文件，以 .xlsx 或 .csv 结尾")
        parser.add_argument("--region", help="只导出该区划（及下辖）的数据，默认全部")
        parser.add_argument(
            "--reveal-ids", action="store_true", help="显示完整证件号码和电话（记入审计日志）"
        )
        parser.add_argument(
            "--members", action="store_true", help="同时导出成员信息表（仅 households，.xlsx）"
        )
        parser.add_argument("--month", help="月份 YYYY-MM（台账），默认当前")
        parser.add_argument(
            "--from", dest="date_from", help="起始日期 YYYY-MM-DD（decisions），默认截止日期所在月的第一天"
        )
        parser.add_argument("--to", dest="date_to", help="截止日期 YYYY-MM-DD（decisions），默认今天")
        self.add_user_argument(parser)

    def run(self, *args, **options):
        kinds = discover()
        kind = kinds.get(options["kind"])
        if kind is None:
            known = "、".join(
                f"{k}（{v.description}）" if v.description else k for k, v in sorted(kinds.items())
            )
            raise CommandError(f"未知的导出类型“{options['kind']}”。可用：{known or '无'}")
        if options.get("name") and options["kind"] != "ledger":
            raise CommandError(f"多余的参数“{options['name']}”（只有 ledger 需要台账名称）")
        path = Path(options["output"])
        if path.suffix.lower() not in (".xlsx", ".csv"):
            raise CommandError("输出文件应以 .xlsx 或 .csv 结尾")
        if not path.parent.exists():
            raise CommandError(f"目录不存在：{path.parent}")
        region = options.get("region") or None
        if region is not None:
            try:
                validate_code(region)
            except RegionCodeError as exc:
                raise CommandError(f"区划代码 {region} 无效：{exc}") from None
        result = run_export(
            kind,
            actor=self.actor(options),
            path=path,
            region_code=region,
            reveal_ids=options["reveal_ids"],
            progress=self._progress() if self.show_progress() else None,
            options={
                "members": options["members"],
                "name": options.get("name"),
                "month": options.get("month"),
                "from": options.get("date_from"),
                "to": options.get("date_to"),
            },
        )
        if self.show_progress():
            sys.stderr.write("\n")
        if isinstance(result, int):
            self.stdout.write(f"已导出 {result} 行到 {path}")
        else:
            self.stdout.write(str(result))

    def _progress(self):
        def show(done: int, total: int, message: str = "") -> None:
            percent = int(done * 100 / total) if total else 100
            bar = "#" * (percent // 4)
            sys.stderr.write(f"\r[{bar:<25}] {percent:3d}% {done}/{total} {message}   ")
            sys.stderr.flush()

        return show
