"""``fangfan restore``: put a ``fangfan backup`` archive back, and prove it came back whole.

In order, nothing touched until the archive has proved sound: every member is extracted to a private scratch folder
and checked against the manifest's SHA-256; the archive must be of this database's vendor (no SQLite → PostgreSQL);
the keys it needs must be configured (the field key ids, the same audit key); a database that already holds users
or audit events is overwritten only with ``force``. Then the database is restored (SQLite's backup API into the
configured file; ``pg_restore --clean --single-transaction`` on PostgreSQL), the stored files are put back under the
data directory, and the audit anchor is set to the backup's (the one found is kept beside it, renamed). Last, every
table's row count is compared with the manifest, the audit chain's head with the manifest's, and the whole chain
verified (``audit.verify_chain``); any difference makes the result fail.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from . import anchor, audit
from .backup import (
    ANCHOR_MEMBER,
    AUDIT_TABLE,
    DATA_PREFIX,
    DB_MEMBER,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    Say,
    _check_pg_tool,
    _pg_tables,
    _quiet,
    _read_snapshot,
    _vendor_text,
    fingerprint,
    pg_env_args,
    scratch_dir,
    sha256_file,
    sqlite_snapshot,
)
from .errors import DomainError
from .privatefiles import FILE_MODE, private_folder


@dataclass
class RestoreResult:
    manifest: dict
    tables_checked: int = 0
    rows: int = 0
    files: int = 0
    mismatches: list[str] = field(default_factory=list)
    audit_checked: int = 0
    audit_break: str = ""
    anchor_kept: Path | None = None
    pending_migrations: bool = False

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.audit_break

    def describe(self) -> str:
        m = self.manifest
        lines = [
            f"已从 {m['created_at']} 的备份恢复（{_vendor_text(m['database']['vendor'])}，"
            f"fangfan {m.get('fangfan_version', '?')}）：",
            f"  数据表：{self.tables_checked} 张，共 {self.rows} 行",
            f"  文件：{self.files} 个",
        ]
        if self.mismatches:
            lines.append(f"  行数与备份清单不符的表 {len(self.mismatches)} 张：")
            lines += [f"    {line}" for line in self.mismatches[:50]]
        else:
            lines.append("  每张表的行数都与备份清单一致。")
        if self.audit_break:
            lines.append(f"  审计日志校验失败：{self.audit_break}")
        else:
            lines.append(
                f"  审计日志完好：共 {self.audit_checked} 条，最后一条第 {m['audit']['last_id']} 号，与备份清单一致。"
            )
        if self.anchor_kept is not None:
            lines.append(f"  原审计锚点文件已改名保留：{self.anchor_kept}")
        if self.pending_migrations:
            lines.append("  备份来自较早的版本：请运行 fangfan migrate 更新数据库结构。")
        lines.append("恢复成功。" if self.ok else "恢复后的数据与备份清单不一致，请勿投入使用。")
        return "\n".join(lines)


def _refuse(path: Path, reason: str) -> DomainError:
    return DomainError(f"备份文件 {path.name} 已损坏或不是 fangfan 备份：{reason}；未做任何改动")


def _extract(archive: Path, into: Path) -> dict:
    """Every regular member extracted (no links, no paths outside ``into``); the manifest read and each member
    checked against it. Raises DomainError naming what is wrong."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                if not member.isfile():
                    raise _refuse(archive, f"含有非普通文件的成员 {member.name}")
                tar.extract(member, into, filter="data")
    except DomainError:
        raise
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise _refuse(archive, f"无法读取（{type(exc).__name__}：{str(exc)[:200]}）") from None
    manifest_path = into / MANIFEST
    if not manifest_path.is_file():
        raise _refuse(archive, f"缺少 {MANIFEST}（文件不完整）")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except ValueError:
        raise _refuse(archive, f"{MANIFEST} 不是有效的 JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _refuse(archive, f"{MANIFEST} 不是 fangfan 备份清单")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise DomainError(
            f"备份格式版本 {manifest.get('format_version')} 不受此版本支持（支持 {FORMAT_VERSION}），请用较新的 fangfan 恢复"
        )
    expected = [(manifest["database"]["member"], manifest["database"])] + [
        (f["path"], f) for f in manifest["files"]
    ]
    if "anchor" in manifest:
        expected.append((ANCHOR_MEMBER, manifest["anchor"]))
    for name, entry in expected:
        path = into / name
        if not path.is_file():
            raise _refuse(archive, f"缺少成员 {name}")
        if path.stat().st_size != entry["size"] or sha256_file(path) != entry["sha256"]:
            raise _refuse(archive, f"成员 {name} 的校验值与清单不符（内容被改动或损坏）")
    return manifest


def _check_keys(manifest: dict) -> None:
    keys = manifest.get("keys", {})
    missing = sorted(set(keys.get("field_key_ids", [])) - set(settings.FIELD_ENCRYPTION_KEYS))
    if missing:
        raise DomainError(
            f"缺少字段加密密钥 {', '.join(missing)}：备份中的数据用它们加密，请先在 FANGFAN_FIELD_KEYS 中配置"
        )
    if keys.get("audit_key_fingerprint") and keys["audit_key_fingerprint"] != fingerprint(settings.AUDIT_KEY):
        raise DomainError(
            "当前的审计密钥（FANGFAN_AUDIT_KEY）与备份时不同：恢复后无法校验审计日志，请配置备份时的密钥"
        )
    if keys.get("blind_index_key_fingerprint") and keys["blind_index_key_fingerprint"] != fingerprint(
        settings.BLIND_INDEX_KEY
    ):
        raise DomainError(
            "当前的索引密钥（FANGFAN_BLIND_INDEX_KEY）与备份时不同：恢复后将无法按证件号码查找，请配置备份时的密钥"
        )


def _tables_now() -> list[str]:
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            return [r[0] for r in cur.fetchall()]
        return _pg_tables(cur)


def database_in_use() -> str:
    """ "" for a database that holds no users and no audit events (new, or only migrated); else what it holds."""
    tables = set(_tables_now())
    held = []
    for table, label in ((get_user_model()._meta.db_table, "账号"), (AUDIT_TABLE, "审计记录")):
        if table in tables:
            with connection.cursor() as cur:
                cur.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 - our own table names
                count = cur.fetchone()[0]
            if count:
                held.append(f"{label} {count} 条")
    return "、".join(held)


def _restore_sqlite(db_file: Path) -> None:
    target = settings.DATABASES["default"]["NAME"]
    connection.close()
    check = sqlite3.connect(str(db_file))
    try:
        result = check.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        check.close()
    if result != "ok":
        raise DomainError(f"备份中的数据库文件未通过完整性检查：{result}")
    src = sqlite3.connect(str(db_file))
    dst = sqlite3.connect(str(target), timeout=60)
    try:
        dst.execute("PRAGMA busy_timeout = 60000")
        src.backup(dst, pages=-1)  # replaces every page of the target, under its write lock
        dst.execute("PRAGMA journal_mode = WAL")
    finally:
        dst.close()
        src.close()


def _restore_postgresql(dump: Path) -> None:
    pg_restore = _check_pg_tool("pg_restore")
    env, args = pg_env_args()
    db = settings.DATABASES["default"]
    connection.close()
    done = subprocess.run(  # noqa: S603
        [
            pg_restore,
            *args,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "-d",
            str(db["NAME"]),
            str(dump),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise DomainError(f"pg_restore 失败，数据库未改动：{done.stderr.strip()[:800]}")


def _restore_files(scratch: Path, manifest: dict) -> int:
    root = Path(settings.DATA_DIR).resolve()
    count = 0
    for entry in manifest["files"]:
        rel = entry["path"].removeprefix(DATA_PREFIX)
        target = (root / rel).resolve()
        if root not in target.parents:
            continue  # extracted with the "data" filter already; never written outside the data directory
        private_folder(target.parent)
        shutil.move(str(scratch / entry["path"]), target)
        target.chmod(FILE_MODE)
        count += 1
    return count


def _restore_anchor(scratch: Path, manifest: dict) -> Path | None:
    """The backup's anchor lines up to its last event, then that event itself (checked against the table below).
    An anchor file already here (it may run ahead of the backup) is renamed, not deleted."""
    path = anchor.anchor_path()
    kept = None
    if path.exists():
        kept = path.with_name(f"{path.name}.before-restore-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
        path.replace(kept)
    last_id = manifest["audit"]["last_id"]
    lines = []
    source = scratch / ANCHOR_MEMBER
    if source.is_file():
        for line in source.read_text(encoding="ascii", errors="replace").splitlines(keepends=True):
            parts = line.split()
            if line.endswith("\n") and len(parts) == 3 and parts[0].isdigit() and int(parts[0]) <= last_id:
                lines.append(line)
    if last_id:
        lines.append(anchor.anchor_line(last_id, manifest["audit"]["last_hash"]))
    if lines:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(lines), encoding="ascii")
        path.chmod(FILE_MODE)
    return kept


def _snapshot_now() -> Any:
    if connection.vendor == "sqlite":
        return sqlite_snapshot(Path(settings.DATABASES["default"]["NAME"]))
    with connection.cursor() as cur:
        return _read_snapshot(cur, _pg_tables(cur))


def restore_archive(
    *, archive: Path, actor_for: Any, force: bool = False, say: Say = _quiet
) -> RestoreResult:
    """Restore ``archive`` into the configured database and data directory. ``actor_for`` is called after the
    database is back, to get the account the restore is recorded under (it lives in the restored database)."""
    if not archive.is_file():
        raise DomainError(f"文件不存在：{archive}")
    with scratch_dir() as scratch:
        say("正在检查备份文件……")
        manifest = _extract(archive, scratch)
        vendor = manifest["database"]["vendor"]
        if vendor != connection.vendor or manifest["database"]["member"] != DB_MEMBER.get(connection.vendor):
            raise DomainError(
                f"这是 {_vendor_text(vendor)} 数据库的备份，当前配置的是 {_vendor_text(connection.vendor)}："
                "不支持跨数据库类型恢复，请恢复到同类数据库"
            )
        _check_keys(manifest)
        held = database_in_use()
        if held and not force:
            raise DomainError(
                f"当前数据库不是空的（{held}）：恢复会覆盖其中的全部数据。确认要覆盖，请加 --force 重新运行"
            )
        say("正在恢复数据库……")
        db_file = scratch / manifest["database"]["member"]
        _restore_sqlite(db_file) if vendor == "sqlite" else _restore_postgresql(db_file)
        say("正在恢复文件……")
        result = RestoreResult(manifest=manifest)
        result.files = _restore_files(scratch, manifest)
        result.anchor_kept = _restore_anchor(scratch, manifest)
    say("正在核对行数和审计日志……")
    snap = _snapshot_now()
    for table, expected in sorted(manifest["tables"].items()):
        found = snap.tables.get(table)
        result.tables_checked += 1
        result.rows += found or 0
        if found != expected:
            result.mismatches.append(
                f"{table}：备份清单 {expected} 行，恢复后 {'缺表' if found is None else found} 行"
            )
    head = manifest["audit"]
    if head["last_id"] and snap.audit_last != (head["last_id"], head["last_hash"]):
        result.audit_break = f"最后一条记录与备份清单不符（清单：第 {head['last_id']} 号）"
    else:
        checked, broken = audit.verify_chain()
        result.audit_checked = checked
        if broken is not None:
            result.audit_break = f"第 {broken.event_id} 号记录处断裂：{broken.reason}"
    result.pending_migrations = any(
        name > snap.migrations.get(app, "") for app, name in _code_migrations().items()
    )
    if result.ok:
        audit.record(
            actor_for(),
            "system.restored",
            object_type="core.backup",
            object_label=archive.name,
            after={
                "created_at": manifest["created_at"],
                "tables": result.tables_checked,
                "rows": result.rows,
            },
        )
    return result


def _code_migrations() -> dict[str, str]:
    from django.db.migrations.loader import MigrationLoader

    heads: dict[str, str] = {}
    for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations:
        heads[app] = max(heads.get(app, ""), name)
    return heads
