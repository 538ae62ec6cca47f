"""Department batches over the API: a department's system posts its rows (JSON with the Chinese column names of
DATA-FORMATS §3, or the file itself as multipart) and gets the summary back; it can fetch the rows that matched
nobody (IDs masked)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import HttpRequest
from ninja import Path as InPath
from ninja import Router, Schema, Status

from fangfan.core.errors import DomainError, ValidationFailed
from fangfan.monitoring.department import (
    SOURCE_COLUMNS,
    AlreadyImported,
    department_import,
    department_import_rows,
    unmatched_rows,
    unmatched_shown_record,
)
from fangfan.monitoring.department_jobs import save_private, too_large_message
from fangfan.monitoring.models import DepartmentBatch
from fangfan.monitoring.tokens import token_account

from .auth import DepartmentBearer
from .body import load_json
from .common import ErrorOut, ObjectId, ValidationErrorOut

router = Router(auth=DepartmentBearer(), tags=["部门数据"])
MAX_PROBLEMS = 1000
ALLOWED_SUFFIXES = (".xlsx", ".csv")


class BatchOut(Schema):
    batch_id: int
    source: str
    source_label: str
    file_name: str
    rows: int
    matched: int
    unmatched: int
    outside: int
    name_mismatches: int
    warnings: int
    unmatched_url: str


class DepartmentErrorOut(Schema):
    """An error as the contract writes it (``detail``), with ``message`` (the same sentence, as the first
    version answered) and the rows' ``problems``."""

    detail: str
    message: str
    problems: list[str] = []
    batch_id: int | None = None  # 409: the batch that already holds this content


def _errors(*own: int) -> dict:
    """The answers of a department endpoint besides its own: its own refusals, and those of the door (401 bad
    token, 429 too many bad tokens), of the body's size (413) and of the path's values (422)."""
    return {**{code: DepartmentErrorOut for code in own}, 401: ErrorOut, 413: ErrorOut, 422: ValidationErrorOut,
            429: ErrorOut}  # fmt: skip


def _error(status: int, message: str, problems=(), **extra) -> Status:
    return Status(status, {"detail": message, "message": message, "problems": list(problems), **extra})


class UnmatchedRow(Schema):
    row_number: int
    id_masked: str
    name: str
    reason: str
    columns: dict[str, str]
    extra: dict[str, str]


class UnmatchedOut(Schema):
    batch_id: int
    source: str
    count: int
    rows: list[UnmatchedRow]


BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["rows"],
                    "properties": {
                        "file_name": {"type": "string", "description": "批次名称（如 2026年3月结算数据）"},
                        "rows": {
                            "type": "array",
                            "description": "每行一个对象，键为 DATA-FORMATS §3 的中文列名；证件号码为字符串",
                            "items": {"type": "object", "additionalProperties": True},
                        },
                    },
                },
                "example": {
                    "file_name": "2026年3月医保结算",
                    "rows": [
                        {
                            "证件号码": "34152319800101001X",
                            "姓名": "张三",
                            "结算日期": "2026-03-05",
                            "医疗总费用": "32000",
                            "个人自付金额": "8000",
                        }
                    ],
                },  # fmt: skip
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": ".xlsx 或 .csv"}
                    },
                }
            },
        },
    }
}


def _forbidden(token, source: str):
    if source not in SOURCE_COLUMNS:
        return _error(404, f"未知的数据来源：{source}")
    if token.source != source:
        return _error(403, f"该令牌只能报送{token.get_source_display()}数据")
    return None


@router.post(
    "/{source}/batches",
    response={200: BatchOut, **_errors(400, 403, 404, 409)},
    summary="报送一批部门数据",
    description=(
        "与网页上传、命令行导入相同：全部行校验通过才写入；按证件号码匹配成员，未匹配的行保留；随后对本批数据进行"
        "预警筛查。文件最大 FANGFAN_DEPARTMENT_MAX_MB（默认 20 MB）、行数最多 FANGFAN_DEPARTMENT_MAX_ROWS，超出时 400。"
        "内容与本来源、本区划已导入的批次相同时不再导入，答 409 并给出该批次的 batch_id。"
    ),
    openapi_extra=BATCH_BODY,
)
def batch_create(request: HttpRequest, source: str):
    token = request.auth
    refused = _forbidden(token, source)
    if refused:
        return refused
    note = f"接口令牌：{token.name}"
    try:
        if request.content_type == "multipart/form-data":
            upload = request.FILES.get("file")
            if upload is None:
                return _error(400, "请以 file 字段上传 .xlsx 或 .csv 文件")
            suffix = Path(upload.name).suffix.lower()
            if suffix not in ALLOWED_SUFFIXES:
                return _error(400, "只支持 .xlsx 或 .csv 文件")
            limit = settings.DEPARTMENT_MAX_BYTES
            if upload.size is not None and upload.size > limit:
                return _error(400, too_large_message(limit))
            # Bounded: the size above, the reader's rows/columns/cells (core.filelimits) before it allocates.
            path = save_private(upload.chunks(), suffix, limit=limit)
            try:
                summary = department_import(
                    source=source,
                    path=path,
                    actor=token_account(token),
                    channel="api",
                    display_name=Path(upload.name).name,
                    region_code=token.region_id,
                    note=note,
                )
            finally:
                path.unlink(missing_ok=True)
        else:
            try:
                body = load_json(request.body or b"{}")
            except (ValueError, UnicodeDecodeError):
                return _error(400, "请求体不是有效的 JSON")
            if not isinstance(body, dict) or not isinstance(body.get("rows"), list):
                return _error(400, '请求体应为 {"file_name": ..., "rows": [...]}')
            summary = department_import_rows(
                source=source,
                rows=body["rows"],
                file_name=str(body.get("file_name") or "接口报送")[:200],
                actor=token_account(token),
                channel="api",
                region_code=token.region_id,
                note=note,
            )
    except ValidationFailed as exc:
        return _error(400, exc.message, [str(p) for p in exc.problems[:MAX_PROBLEMS]])
    except AlreadyImported as exc:
        return _error(409, exc.message, batch_id=exc.batch.pk)
    except DomainError as exc:
        return _error(400, exc.message)
    return Status(200, summary.as_dict())


@router.get(
    "/{source}/batches/{batch_id}/unmatched",
    response={200: UnmatchedOut, **_errors(403, 404)},
    summary="取回一批数据中未匹配和姓名不一致的行",
    description="证件号码已脱敏；“原因”说明为何未匹配（系统中无此人、在本辖区以外登记、姓名不一致）。",
)
def batch_unmatched(request: HttpRequest, source: str, batch_id: InPath[ObjectId]):
    token = request.auth
    refused = _forbidden(token, source)
    if refused:
        return refused
    account = token_account(token)
    batch = (
        DepartmentBatch.objects.for_user(account, "department.view")
        .filter(pk=batch_id, source=source)
        .first()
    )
    if batch is None:
        return _error(404, "批次不存在")
    rows = list(unmatched_rows(batch))
    unmatched_shown_record(batch=batch, rows=rows, actor=account, via="api", note=f"接口令牌：{token.name}")
    return Status(200, {"batch_id": batch.pk, "source": batch.source, "count": len(rows), "rows": rows})
