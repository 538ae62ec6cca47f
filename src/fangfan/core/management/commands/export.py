"""fangfan export KIND -o FILE [--region CODE] [--reveal-ids] [--members]: write a list (CLI.md, DATA-FORMATS §4).

Kinds are not listed here: an app registers each of its exports at import time, in a module named ``exporter``,
``exporting`` or ``exports`` (found by autodiscovery) or from its ``AppConfig.ready()``::

    from fangfan.core.management.commands.export import register_export

    register_export("warnings", warnings_export_region, "预警清单")

The function is called with keyword arguments, and only with those its signature accepts, out of
``actor`` (the user running the command), ``path`` (a ``Path`` ending in .xlsx or .csv), ``region_code`` (or None
for everything), ``reveal_ids`` (bool), ``progress(done, total, message)`` and ``options`` (a dict of the other
flags, e.g. ``{"members": True}``; ``name`` — the second word of ``fangfan export ledger NAME`` — and ``month``). It returns the number of rows written, or a Chinese sentence saying what it did.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.core.management.base import CommandError
from django.utils.module_loading import autodiscover_modules

from fangfan.core.commands import DomainCommand


@dataclass(frozen=True)
class ExportKind:
    name: str
    function: Callable
    description: str


EXPORTERS: dict[str, ExportKind] = {}
_PASSABLE = ("actor", "path", "region_code", "reveal_ids", "progress", "options")


def register_export(name: str, function: Callable, description: str = "", **_ignored) -> None:
    """Make ``fangfan export NAME`` call ``function`` (see the module docstring for its arguments)."""
    EXPORTERS[name] = ExportKind(name=name, function=function, description=description)


def discover() -> dict[str, ExportKind]:
    autodiscover_modules("exporter", "exporting", "exports")
    return EXPORTERS


def run_export(kind: ExportKind, **kwargs):
    """Call an exporter with the arguments its signature accepts."""
    params = inspect.signature(kind.function).parameters
    takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return kind.function(**{k: v for k, v in kwargs.items() if takes_all or k in params})


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
            from fangfan.regions.codes import RegionCodeError, validate_code

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
