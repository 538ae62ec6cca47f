"""A department batch written: its rows matched to members by the ID blind index (one ``IN`` query per chunk),
the batch and its records stored in one transaction, and an incremental screening of them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from fangfan.core import audit
from fangfan.core.errors import DomainError, ValidationFailed
from fangfan.core.masking import mask_id
from fangfan.core.tabular import Sheet, read_tables
from fangfan.regions.codes import code_range
from fangfan.regions.models import Region
from fangfan.registry.bulkdb import insert_rows
from fangfan.registry.models import Member
from fangfan.registry.services import elsewhere_shown_record, id_index

from ..models import DepartmentBatch, DepartmentRecord
from .columns import (
    ANALYZE_ROWS,
    MATCH_CHUNK,
    RECORD_FIELDS,
    SOURCE_COLUMNS,
    AlreadyImported,
    BatchSummary,
    department_limits,
    file_hash,
    parse_sheet,
    pick_sheet,
    rows_hash,
    sheet_from_rows,
    source_label,
)

if TYPE_CHECKING:
    from fangfan.accounts.models import User

# --- matching ---------------------------------------------------------------------------------------------------


def _normal_name(name: str) -> str:
    return re.sub(r"[\s·•・．.]", "", name or "")


def match_members(indexes: Iterable[str]) -> dict[str, tuple[int, int, str, str]]:
    """id_index → (member id, household id, household region, registered name), one ``IN`` query per chunk."""
    unique = list(dict.fromkeys(indexes))
    found: dict[str, tuple[int, int, str, str]] = {}
    for start in range(0, len(unique), MATCH_CHUNK):
        chunk = unique[start : start + MATCH_CHUNK]
        # Unscoped: a department's rows are matched system-wide; rows of households outside the batch's region
        # are kept as unmatched (``_import``), never shown with the household.
        for idx, member_id, household_id, region, name in (
            Member.objects.unscoped().filter(id_index__in=chunk)
        ).values_list("id_index", "id", "household_id", "household__region_id", "name"):
            found[idx] = (member_id, household_id, region, name)
    return found


# --- the service ------------------------------------------------------------------------------------------------


def _root_region() -> Region:
    roots = list(Region.objects.filter(parent__isnull=True)[:2])
    if len(roots) != 1:
        raise DomainError("请用 --user 指定以哪个账号（及其辖区）导入，或先导入区划")
    return roots[0]


def _batch_region(actor: User, source: str, region_code: str | None) -> Region:
    """Check who may import what, and the region the batch counts for."""
    if source not in SOURCE_COLUMNS:
        raise DomainError(f"未知的数据来源：{source}（可选：{'、'.join(SOURCE_COLUMNS)}）")
    if actor is None:
        raise DomainError("导入部门数据须有办理账号（命令行为运维账号，接口为令牌的服务账号）")
    if not actor.is_operator:
        if actor.role == "department" and actor.department != source:
            raise DomainError(
                f"部门用户只能报送本部门（{actor.get_department_display()}）的数据，不能报送{source_label(source)}数据"
            )
        if not actor.can("department.import"):
            raise DomainError("您的角色无权导入部门数据")
        span = actor.jurisdiction_range()
        region_code = region_code or actor.region_id
        if span is None or not region_code or not (span[0] <= region_code < span[1]):
            raise DomainError("只能为本辖区导入部门数据")
    if region_code:
        region = Region.objects.filter(code=region_code).first()
        if region is None:
            raise DomainError(f"区划不存在：{region_code}")
        return region
    return _root_region()


def _import(
    *,
    sheet: Sheet,
    source: str,
    actor: User,
    dry_run: bool,
    channel: str,
    file_name: str,
    region_code: str | None,
    note: str = "",
    content_hash: str = "",
) -> BatchSummary:
    region = _batch_region(actor, source, region_code)
    if content_hash:
        done = (
            DepartmentBatch.objects.unscoped()  # the same file already imported for this region (checked above)
            .filter(source=source, region=region, content_hash=content_hash)
            .first()
        )
        if done is not None:
            raise AlreadyImported(done)
    parsed = parse_sheet(sheet, source)
    lo, hi = code_range(region.code)
    indexes = [id_index(p.id18) for p in parsed]
    found = match_members(indexes)

    summary = BatchSummary(source=source, file_name=file_name, rows=len(parsed), dry_run=dry_run)
    records: list[tuple] = []
    for row, idx in zip(parsed, indexes, strict=True):
        hit = found.get(idx)
        member_id = household_id = None
        region_of_row = region.code
        mismatch = False
        if hit is not None and lo <= hit[2] < hi:
            member_id, household_id, region_of_row, registered = hit
            mismatch = bool(row.name) and _normal_name(row.name) != _normal_name(registered)
            summary.matched += 1
            summary.name_mismatches += mismatch
        else:
            summary.unmatched += 1
            summary.outside += hit is not None
            summary.unmatched_rows.append(row.row_number)
        if not dry_run:
            fields = row.fields
            records.append(
                (
                    source,
                    row.row_number,
                    idx,
                    mask_id(row.id18),
                    row.name,
                    member_id,
                    household_id,
                    region_of_row,
                    mismatch,
                    fields.get("event_date"),
                    fields["kind"],
                    fields["status"],
                    fields["grade"],
                    fields.get("amount"),
                    fields.get("total_amount"),
                    fields.get("flag"),
                    json.dumps(row.data, ensure_ascii=False),
                )
            )
    if dry_run:
        # How many people are registered outside the region is a disclosure (the import's own event carries it).
        elsewhere_shown_record(
            actor=actor, count=summary.outside, via="department_import", dry_run=True, region_code=region.code
        )
        return summary

    try:
        batch = _write_batch(
            source=source, region=region, actor=actor, channel=channel, file_name=file_name, note=note,
            summary=summary, records=records, content_hash=content_hash,
        )  # fmt: skip
    except IntegrityError:  # the same content posted twice at once: the other post made the batch
        done = (
            DepartmentBatch.objects.unscoped()  # the same file already imported for this region (checked above)
            .filter(source=source, region=region, content_hash=content_hash)
            .first()
        )
        if content_hash and done is not None:
            raise AlreadyImported(done) from None
        raise
    summary.batch_id = batch.pk

    from ..screening import screening_run  # the screening reads this module's batches; imported late

    run = screening_run(actor=actor, batch=batch)
    summary.warnings = run.new_warnings
    summary.screening_run_id = run.pk
    return summary


def _write_batch(
    *, source, region, actor: User, channel, file_name, note, summary, records, content_hash
) -> DepartmentBatch:
    with transaction.atomic():
        batch = DepartmentBatch.objects.create(
            source=source,
            file_name=file_name[:200],
            channel=channel,
            region=region,
            uploaded_by=actor if getattr(actor, "pk", None) else None,
            rows=summary.rows,
            matched=summary.matched,
            unmatched=summary.unmatched,
            name_mismatches=summary.name_mismatches,
            state=DepartmentBatch.State.IMPORTED,
            content_hash=content_hash,
        )
        insert_rows(DepartmentRecord, ["batch", *RECORD_FIELDS], [(batch.pk, *record) for record in records])
        if len(records) >= ANALYZE_ROWS and connection.vendor == "postgresql":
            # A large new batch: PostgreSQL would otherwise plan "batch_id = <new>" as one row (nested loops
            # over whole tables in anything that joins the batch's rows before autovacuum catches up).
            with connection.cursor() as cursor:
                cursor.execute(
                    f"ANALYZE {DepartmentRecord._meta.db_table} (batch_id, source, member_id, household_id)"
                )
        audit.record(
            actor,
            "department.imported",
            batch,
            after={
                "source": source,
                "file_name": file_name,
                "channel": channel,
                "rows": summary.rows,
                "matched": summary.matched,
                "unmatched": summary.unmatched,
                "outside": summary.outside,
                "name_mismatches": summary.name_mismatches,
            },
            note=note,
        )
    return batch


def department_import(
    *,
    source: str,
    path: Path | str,
    actor: User,
    dry_run: bool = False,
    channel: str = "cli",
    display_name: str | None = None,
    region_code: str | None = None,
    note: str = "",
) -> BatchSummary:
    """Import one department file (.xlsx or .csv) as a batch: validate every row (all-or-nothing), match to
    members, keep unmatched rows, audit ``department.imported``, then screen the batch's rows with the rules of
    its source. ``region_code`` is the region the batch counts for (default: the actor's; the API passes the
    token's). A dry run validates and counts, and writes nothing. A file larger than ``department_limits()`` is
    refused before it is read; one whose content is already a batch of this source and region raises
    ``AlreadyImported``."""
    path = Path(path)
    name = display_name or path.name
    if source not in SOURCE_COLUMNS:
        raise DomainError(f"未知的数据来源：{source}（可选：{'、'.join(SOURCE_COLUMNS)}）")
    bound = department_limits()
    if path.stat().st_size > bound.file_bytes:
        raise ValidationFailed(
            f"文件过大：{name} 超过 {bound.file_bytes // (1024 * 1024)} MB，未导入任何数据；请按月份或乡镇拆分后再报送"
        )
    sheet = pick_sheet(read_tables(path, display_name=name, bound=bound), source)
    return _import(
        sheet=sheet,
        source=source,
        actor=actor,
        dry_run=dry_run,
        channel=channel,
        file_name=name,
        region_code=region_code,
        note=note,
        content_hash=file_hash(path),
    )


def department_import_rows(
    *,
    source: str,
    rows: list[dict],
    file_name: str,
    actor: User,
    dry_run: bool = False,
    channel: str = "api",
    region_code: str | None = None,
    note: str = "",
) -> BatchSummary:
    """The same import from rows already parsed (the API's JSON body), keyed by the Chinese column names."""
    if source not in SOURCE_COLUMNS:
        raise DomainError(f"未知的数据来源：{source}（可选：{'、'.join(SOURCE_COLUMNS)}）")
    if isinstance(rows, list) and len(rows) > settings.DEPARTMENT_MAX_ROWS:
        raise ValidationFailed(
            f"一次最多报送 {settings.DEPARTMENT_MAX_ROWS} 行（本次 {len(rows)} 行），未导入任何数据；请分批报送"
        )
    sheet = sheet_from_rows(rows, file_name=file_name or "接口报送")
    return _import(
        sheet=sheet,
        source=source,
        actor=actor,
        dry_run=dry_run,
        channel=channel,
        file_name=file_name or "接口报送",
        region_code=region_code,
        note=note,
        content_hash=rows_hash(rows),
    )
