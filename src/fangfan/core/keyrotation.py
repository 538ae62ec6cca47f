"""Re-encrypt every encrypted field under the active key (``fangfan rotate-keys``).

The work left is read from the data itself: a value needs rotating when it does not start with the active
``<algorithm>:<key id>:`` prefix (``crypto.needs_rotation``). Each batch (``batch_size`` rows of one table, in id
order) is read, decrypted and re-encrypted with ``crypto``'s batch functions and written back in one transaction
that holds the rows (SQLite's write lock; ``SELECT … FOR UPDATE`` on PostgreSQL), so a kill loses at most the
batch in flight, which simply still needs rotating: running again resumes, and a finished run finds nothing to do
(idempotent). A value is always decrypted to plaintext first, so nothing is ever encrypted twice.

The blind indexes (``BLIND_INDEX_KEY``) are HMACs under their own key and are not touched: rotating that key means
recomputing every index from the decrypted values and is not offered (README: never change it on a live database).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction

from . import audit, crypto
from .errors import DomainError

DEFAULT_BATCH = 2000
Report = Callable[[str, int, int], None]  # (table label, rows done in that table, rows it had to do)


@dataclass(frozen=True)
class EncryptedTable:
    label: str  # "registry.Member"
    table: str
    pk: str
    columns: tuple[str, ...]
    pk_type: str = "bigint"  # the key's column type on PostgreSQL (for the batch UPDATE's array)


def encrypted_tables() -> list[EncryptedTable]:
    """Every concrete model with an ``EncryptedTextField``, and those columns."""
    found = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        cols = tuple(
            str(f.column)
            for f in meta.concrete_fields
            if isinstance(f, crypto.EncryptedTextField) and f.model is model
        )
        if cols and meta.pk is not None:
            pk_type = str(meta.pk.rel_db_type(connection) or "bigint")
            found.append(EncryptedTable(meta.label, meta.db_table, str(meta.pk.column), cols, pk_type))
    return sorted(found, key=lambda t: t.label)


def _prefix() -> str:
    return f"{settings.FIELD_ENCRYPTION_ALGORITHM}:{settings.FIELD_ENCRYPTION_ACTIVE_KEY}:"


def _stale_condition(columns: tuple[str, ...]) -> str:
    """SQL true for a row with at least one value not under the active prefix (one parameter per column)."""
    qn = connection.ops.quote_name
    return "(" + " OR ".join(f"({qn(c)} <> '' AND SUBSTR({qn(c)}, 1, %s) <> %s)" for c in columns) + ")"


def _stale_params(columns: tuple[str, ...]) -> list[Any]:
    prefix = _prefix()
    return [p for _ in columns for p in (len(prefix), prefix)]


def count_stale(table: EncryptedTable) -> int:
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT COUNT(*) FROM {qn(table.table)} WHERE {_stale_condition(table.columns)}",  # noqa: S608
            _stale_params(table.columns),
        )
        return int(cur.fetchone()[0])


def _rotate_batch(table: EncryptedTable, after: Any, size: int) -> tuple[int, Any]:
    """Rotate the next ``size`` stale rows with a key above ``after``, in one transaction: (rows, last key)."""
    qn = connection.ops.quote_name
    cols = ", ".join(qn(c) for c in table.columns)
    lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
    select = (
        f"SELECT {qn(table.pk)}, {cols} FROM {qn(table.table)} "  # noqa: S608
        f"WHERE {qn(table.pk)} > %s AND {_stale_condition(table.columns)} ORDER BY {qn(table.pk)} LIMIT %s{lock}"
    )
    if connection.vendor == "postgresql":
        # One statement per batch (arrays of keys and new values): 2 000 single-row UPDATEs cost 2 000 round trips.
        update = (
            f"UPDATE {qn(table.table)} AS t SET "  # noqa: S608
            + ", ".join(f"{qn(c)} = v.c{i}" for i, c in enumerate(table.columns))
            + f" FROM UNNEST(%s::{table.pk_type}[], "
            + ", ".join("%s::text[]" for _ in table.columns)
            + ") AS v(pk, "
            + ", ".join(f"c{i}" for i in range(len(table.columns)))
            + f") WHERE t.{qn(table.pk)} = v.pk"
        )
    else:
        update = (
            f"UPDATE {qn(table.table)} SET "  # noqa: S608
            + ", ".join(f"{qn(c)} = %s" for c in table.columns)
            + f" WHERE {qn(table.pk)} = %s"
        )
    decrypt, encrypt, prefix = crypto.decryptor(), crypto.encryptor(), _prefix()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(select, [after, *_stale_params(table.columns), size])
        rows = cur.fetchall()
        if not rows:
            return 0, after
        changes = []
        for pk, *values in rows:
            try:
                new = [v if not v or v.startswith(prefix) else encrypt(decrypt(v)) for v in values]
            except crypto.DecryptionError as exc:
                raise DomainError(
                    f"{table.label} 第 {pk} 行的加密字段无法解密（{exc}）：请确认 FANGFAN_FIELD_KEYS 含有所有旧密钥"
                ) from None
            changes.append([*new, pk])
        if connection.vendor == "postgresql":
            columns = list(zip(*changes, strict=True))
            cur.execute(update, [list(columns[-1]), *(list(c) for c in columns[:-1])])
        else:
            cur.executemany(update, changes)
    return len(rows), rows[-1][0]


@dataclass
class RotationSummary:
    key_id: str
    tables: dict[str, int] = field(default_factory=dict)  # rows re-encrypted, by model label
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def describe(self) -> str:
        if not self.rows:
            return f"所有加密字段都已使用密钥 {self.key_id}，无需轮换。"
        per = "、".join(f"{label} {n} 行" for label, n in self.tables.items() if n)
        rate = self.rows / self.seconds if self.seconds else 0
        return (
            f"已将 {self.rows} 行的加密字段改用密钥 {self.key_id} 重新加密（{per}），"
            f"用时 {self.seconds:.1f} 秒（每秒 {rate:.0f} 行）。旧密钥仍需保留，直到确认没有备份需要它。"
        )


def rotate_keys(
    *,
    actor: Any,
    batch_size: int = DEFAULT_BATCH,
    report: Report | None = None,
    pause: float = 0.0,
) -> RotationSummary:
    """Re-encrypt every stale value under the active key, ``batch_size`` rows per transaction; ``pause`` seconds
    between batches (to leave a live system room). Records one audit event when anything was rotated."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    crypto.encryptor()  # the active key must exist and be valid before anything is read
    summary = RotationSummary(key_id=settings.FIELD_ENCRYPTION_ACTIVE_KEY)
    started = time.monotonic()
    for table in encrypted_tables():
        todo = count_stale(table)
        done, after = 0, _lowest_key(table)
        summary.tables[table.label] = 0
        if report and todo:
            report(table.label, 0, todo)
        while True:
            count, after = _rotate_batch(table, after, batch_size)
            if not count:
                break
            done += count
            summary.tables[table.label] = done
            if report:
                report(table.label, done, max(todo, done))
            if pause:
                time.sleep(pause)
    summary.seconds = time.monotonic() - started
    if summary.rows:
        audit.record(
            actor,
            "crypto.keys_rotated",
            object_type="core.field_key",
            object_label=summary.key_id,
            region_code=getattr(actor, "region_id", "") or "",
            after={
                "key": summary.key_id,
                "rows": summary.rows,
                "tables": {k: v for k, v in summary.tables.items()},
            },
        )
    return summary


def _lowest_key(table: EncryptedTable) -> Any:
    """A value below every primary key of the table (integer keys; a text key starts from "")."""
    model = next(m for m in apps.get_models() if m._meta.db_table == table.table)
    return "" if isinstance(model._meta.pk, models.CharField | models.TextField) else -(2**62)
