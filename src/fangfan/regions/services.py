"""Writes to the region tree."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from fangfan.core import audit
from fangfan.core.cells import text
from fangfan.core.errors import DomainError, ValidationFailed
from fangfan.core.tabular import Problem, missing_headers, read_tables, repeated_headers

from .codes import RegionCodeError, level_of, parent_of, validate_code
from .models import Region

HEADERS = ["区划代码", "名称"]
EVERYTHING = ("000000000000", "999999999999~")


def _allowed_span(actor) -> tuple[str, str]:
    if actor is None or not actor.can("region.manage"):
        raise DomainError("您的角色无权维护行政区划")
    return actor.jurisdiction_range() or ("", "")


@dataclass
class RegionImportSummary:
    read: int
    created: int
    updated: int
    unchanged: int


def regions_import(
    *, path: Path, actor, dry_run: bool = False, display_name: str | None = None
) -> RegionImportSummary:
    """Load or update regions from a 区划代码表 (DATA-FORMATS §1). All-or-nothing; re-import changes nothing.

    ``actor`` None is the installation itself (fixtures, the demo); the command-line account may load anything;
    a web administrator needs ``region.manage`` and may only touch codes inside their own jurisdiction."""
    span = _allowed_span(actor)
    tables = read_tables(path, display_name=display_name)
    sheet = tables[0]
    problems = missing_headers(sheet, HEADERS) + repeated_headers(sheet)
    if problems:
        raise ValidationFailed("区划代码表的表头有误（缺少必需的列或有重复的列）", problems)
    incoming: dict[str, tuple[int, str]] = {}
    for row_number, row in sheet.rows:
        raw_code = row.get("区划代码")
        code = text(raw_code)
        name = text(row.get("名称"))
        if isinstance(raw_code, float):
            problems.append(
                Problem(sheet.file, sheet.name, row_number, "区划代码", code, "区划代码应设为文本格式")
            )
        try:
            validate_code(code)
        except RegionCodeError as exc:
            problems.append(Problem(sheet.file, sheet.name, row_number, "区划代码", code, str(exc)))
            continue
        if not name:
            problems.append(Problem(sheet.file, sheet.name, row_number, "名称", "", "名称不能为空"))
        elif len(name) > 100:
            problems.append(
                Problem(sheet.file, sheet.name, row_number, "名称", name[:20], "名称过长（最多100字）")
            )
        if not (span[0] <= code < span[1]):
            problems.append(
                Problem(sheet.file, sheet.name, row_number, "区划代码", code, "不在您的管辖范围内")
            )
            continue
        if code in incoming:
            problems.append(
                Problem(
                    sheet.file, sheet.name, row_number, "区划代码", code, f"与第{incoming[code][0]}行重复"
                )
            )
        incoming[code] = (row_number, name)
    existing = {r.code: r for r in Region.objects.filter(code__in=list(incoming))}
    known_parents = set(incoming) | set(
        Region.objects.filter(code__in={parent_of(c) for c in incoming if parent_of(c)}).values_list(
            "code", flat=True
        )
    )
    for code, (row_number, _name) in incoming.items():
        parent = parent_of(code)
        if parent and parent not in known_parents:
            problems.append(
                Problem(
                    sheet.file,
                    sheet.name,
                    row_number,
                    "区划代码",
                    code,
                    f"上级区划 {parent} 不存在，请先导入上级",
                )
            )
    if problems:
        raise ValidationFailed(f"区划代码表有 {len(problems)} 处错误，未导入任何数据", problems)

    created = updated = unchanged = 0
    to_create: list[Region] = []
    to_update: list[Region] = []
    for code in sorted(incoming, key=lambda c: (level_of(c), c)):
        name = incoming[code][1]
        region = existing.get(code)
        if region is None:
            to_create.append(
                Region(code=code, name=name, level=int(level_of(code)), parent_id=parent_of(code))
            )
            created += 1
        elif region.name != name:
            region.name = name
            to_update.append(region)
            updated += 1
        else:
            unchanged += 1
    summary = RegionImportSummary(read=len(incoming), created=created, updated=updated, unchanged=unchanged)
    if dry_run or not (to_create or to_update):
        return summary
    with transaction.atomic():
        Region.objects.bulk_create(to_create, batch_size=1000)
        Region.objects.bulk_update(to_update, ["name"], batch_size=1000)
        audit.record(
            actor,
            "region.imported",
            object_type="regions.region",
            object_label=sheet.file,
            after={
                "created": created,
                "updated": updated,
                "codes": sorted(r.code for r in to_create + to_update)[:500],
            },
        )
    return summary
