"""Department data in (DATA-FORMATS §3): one file per batch from 医保, 民政, 残联, 教育, 住建, 水利, 应急, 人社, 公安 or
the exclusion checks (车辆/房产/工商/公职/存款), validated all-or-nothing, matched to members by the ID blind index,
kept whole — a row that matches nobody is stored (member NULL), counted as 未匹配 and can be downloaded back by the
department, never dropped — and followed by an incremental screening of the batch's rows.

Matching is set-based: the blind index of every row is computed once, the members are fetched with one ``IN``
query per chunk of 5 000 indexes (measured faster than inserting first and joining in an UPDATE, see
docs/benchmarks.md), and the records are written with ``bulk_create``.

Jurisdiction: a department user imports only its own source; a row counts only for households inside the
batch's region (the uploader's jurisdiction, or the API token's region) — a row matching a member registered
elsewhere is 未匹配 for this batch and reported as such.
"""

from .columns import SOURCE_COLUMNS, AlreadyImported, BatchSummary, source_headers, source_label
from .importing import department_import, department_import_rows
from .unmatched import template_export, unmatched_export, unmatched_rows, unmatched_shown_record

__all__ = [
    "SOURCE_COLUMNS",
    "AlreadyImported",
    "BatchSummary",
    "department_import",
    "department_import_rows",
    "source_headers",
    "source_label",
    "template_export",
    "unmatched_export",
    "unmatched_rows",
    "unmatched_shown_record",
]
