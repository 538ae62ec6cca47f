"""``fangfan backup``: one archive holding a consistent copy of the database, the stored files and a manifest.

The database copy is a single snapshot taken while the system runs: SQLite's online backup API (one step, under one
read transaction, so a writer's uncommitted or later transaction is never half in it) or ``pg_dump`` of an exported
snapshot (``pg_export_snapshot`` in a REPEATABLE READ transaction that also counts the rows, so the manifest's
counts are exactly the dump's). The manifest (``manifest.json``, the archive's last member) records the format,
the database vendor, every table's row count, the audit chain's last event (id and hash), the applied migrations,
and every member's SHA-256; ``core.restore`` refuses an archive whose members do not match it.

Files: the evidence and case attachments kept under the data directory (``KEPT_FOLDERS``, all of them) and the job
files (uploads, exports) the snapshot's jobs still name. The audit anchor file goes in too. Secrets (field keys,
blind-index key, audit key) never do: the archive is useless without them, and a stolen archive stays encrypted
(its manifest only names the key ids and a fingerprint of the audit and index keys, so restore can say which key is
missing).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connection, transaction

from . import audit
from .errors import DomainError
from .privatefiles import FILE_MODE, private_folder

FORMAT = "fangfan-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DB_MEMBER = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
ANCHOR_MEMBER = "audit-anchor.log"
DATA_PREFIX = "data/"  # a stored file's member name: data/<path under the data directory>
# Folders of the data directory whose files live as long as their records (assistance.evidence_dir,
# workflows.attachment_dir): copied whole.
KEPT_FOLDERS = ("evidence", "case-files")
AUDIT_TABLE = "core_auditevent"
JOB_TABLE = "core_job"
CHUNK = 1024 * 1024
Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass
class BackupResult:
    path: Path
    manifest: dict
    size: int
    seconds: float

    def describe(self) -> str:
        m = self.manifest
        rows = sum(m["tables"].values())
        head = m["audit"]
        lines = [
            f"备份完成：{self.path}（{_size_text(self.size)}，用时 {self.seconds:.1f} 秒）",
            f"  数据库：{_vendor_text(m['database']['vendor'])}，{len(m['tables'])} 张表共 {rows} 行",
            f"  审计日志：{head['count']} 条，最后一条第 {head['last_id']} 号",
            f"  文件：{len(m['files'])} 个",
        ]
        if m.get("missing_files"):
            lines.append(f"  注意：{len(m['missing_files'])} 个记录中的文件已不在磁盘上，未能备份")
        lines.append(
            "  密钥未包含在备份中（字段加密密钥、索引密钥、审计密钥）：请另行安全保存，"
            f"恢复时需要字段密钥 {', '.join(m['keys']['field_key_ids']) or '（无）'} 和同一审计密钥。"
        )
        return "\n".join(lines)


def _size_text(size: int) -> str:
    if size >= 1024 * 1024 * 1024:
        return f"{size / 1024 / 1024 / 1024:.2f} GB"
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{size / 1024:.0f} KB"


def _vendor_text(vendor: str) -> str:
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(vendor, vendor)


def fingerprint(secret: str) -> str:
    """A short, one-way mark of a key: equal keys give equal marks; the mark tells nothing about the key."""
    return hmac.new(secret.encode(), b"fangfan-backup-key-fingerprint", hashlib.sha256).hexdigest()[:16]


def key_marks(used: list[str]) -> dict:
    return {
        "field_key_ids": used,  # the keys the data is encrypted under: restore needs each of them
        "active_field_key": settings.FIELD_ENCRYPTION_ACTIVE_KEY,
        "audit_key_fingerprint": fingerprint(settings.AUDIT_KEY),
        "blind_index_key_fingerprint": fingerprint(settings.BLIND_INDEX_KEY),
    }


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def work_dir() -> Path:
    """A private scratch folder on the data directory's file system (a county's database is gigabytes)."""
    return Path(tempfile.mkdtemp(prefix="backup-", dir=private_folder(Path(settings.DATA_DIR) / "tmp")))


# --- what the snapshot holds ---------------------------------------------------------------------------------


@dataclass
class Snapshot:
    """What one consistent view of the database holds: its tables' row counts, the audit head, the job files."""

    tables: dict[str, int] = field(default_factory=dict)
    audit_last: tuple[int, str] | None = None
    job_files: list[str] = field(default_factory=list)
    migrations: dict[str, str] = field(default_factory=dict)
    server_version: str = ""
    field_keys: list[str] = field(default_factory=list)  # key ids found in the encrypted columns


def _read_snapshot(cursor: Any, table_names: list[str]) -> Snapshot:
    snap = Snapshot()
    for name in sorted(table_names):
        cursor.execute(f'SELECT COUNT(*) FROM "{name}"')  # noqa: S608 - names from the catalogue
        snap.tables[name] = int(cursor.fetchone()[0])
    if AUDIT_TABLE in snap.tables:
        cursor.execute(f"SELECT id, hash FROM {AUDIT_TABLE} ORDER BY id DESC LIMIT 1")
        row = cursor.fetchone()
        snap.audit_last = (int(row[0]), row[1]) if row else None
    if JOB_TABLE in snap.tables:
        cursor.execute(f"SELECT input_file, output_file FROM {JOB_TABLE}")
        snap.job_files = sorted({p for pair in cursor.fetchall() for p in pair if p})
    snap.field_keys = _keys_in_use(cursor, snap.tables)
    if "django_migrations" in snap.tables:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        for app, name in cursor.fetchall():
            snap.migrations[app] = max(snap.migrations.get(app, ""), name)
    return snap


def _keys_in_use(cursor: Any, tables: dict[str, int]) -> list[str]:
    """The configured field keys some stored value is encrypted under (one EXISTS per key and column)."""
    from .keyrotation import encrypted_tables

    used = []
    for key_id in sorted(settings.FIELD_ENCRYPTION_KEYS):
        for table in encrypted_tables():
            if table.table not in tables or key_id in used:
                continue
            for column in table.columns:
                cursor.execute(
                    f'SELECT 1 FROM "{table.table}" WHERE "{column}" LIKE %s LIMIT 1'.replace(  # noqa: S608
                        "%s", "?" if isinstance(cursor, sqlite3.Cursor) else "%s"
                    ),
                    [f"%:{key_id}:%"],
                )
                if cursor.fetchone():
                    used.append(key_id)
                    break
    return used


def sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return [r[0] for r in rows]


def sqlite_copy(source: str | Path, target: Path) -> None:
    """Copy a live SQLite database with the online backup API, in one step: the copy is one read transaction's view
    (committed transactions only, each whole), whatever other connections write meanwhile."""
    src = sqlite3.connect(str(source), timeout=60)
    dst = sqlite3.connect(str(target))
    try:
        src.execute("PRAGMA busy_timeout = 60000")
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file in the archive
    finally:
        dst.close()
        src.close()


def sqlite_snapshot(path: Path) -> Snapshot:
    conn = sqlite3.connect(str(path))
    try:
        snap = _read_snapshot(conn.cursor(), sqlite_tables(conn))
        snap.server_version = sqlite3.sqlite_version
    finally:
        conn.close()
    return snap


def _dump_sqlite(target: Path) -> Snapshot:
    connection.close()  # our own connection holds nothing open while the copy runs
    sqlite_copy(settings.DATABASES["default"]["NAME"], target)
    return sqlite_snapshot(target)


# --- PostgreSQL ------------------------------------------------------------------------------------------------


def pg_env_args() -> tuple[dict[str, str], list[str]]:
    """The environment and connection arguments for ``pg_dump``/``pg_restore``/``psql`` from Django's settings
    (the password through ``PGPASSWORD``, never on the command line)."""
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    args = []
    if db.get("HOST"):
        args += ["-h", str(db["HOST"])]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    if db.get("USER"):
        args += ["-U", str(db["USER"])]
    return env, args


def pg_tool(tool: str) -> tuple[str, int]:
    """The path and major version of a PostgreSQL client program, or a DomainError saying how to get it."""
    path = shutil.which(tool)
    if path is None:
        raise DomainError(
            f"未找到 {tool}：请安装与数据库服务器相同或更新版本的 PostgreSQL 客户端"
            "（Debian/Ubuntu：apt-get install postgresql-client），并确保它在 PATH 中"
        )
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout  # noqa: S603
    try:
        major = int(out.split()[-1].split(".")[0])
    except (IndexError, ValueError):
        raise DomainError(f"无法识别 {tool} 的版本（{out.strip()}）") from None
    return path, major


def pg_server_major() -> tuple[int, str]:
    with connection.cursor() as cur:
        cur.execute("SHOW server_version_num")
        num = int(cur.fetchone()[0])
        cur.execute("SHOW server_version")
        text = cur.fetchone()[0].split()[0]
    return num // 10000, text


def _check_pg_tool(tool: str) -> str:
    path, major = pg_tool(tool)
    server, text = pg_server_major()
    if major < server:
        raise DomainError(
            f"{tool} 的版本（{major}）低于数据库服务器（PostgreSQL {text}）：请安装 postgresql-client-{server} "
            f"或更新版本，并让它在 PATH 中排在前面"
        )
    return path


def _pg_tables(cursor: Any) -> list[str]:
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename",
    )
    return [r[0] for r in cursor.fetchall()]


def _dump_postgresql(target: Path) -> Snapshot:
    pg_dump = _check_pg_tool("pg_dump")
    env, args = pg_env_args()
    db = settings.DATABASES["default"]
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cur.execute("SELECT pg_export_snapshot()")
        snapshot_id = cur.fetchone()[0]
        snap = _read_snapshot(cur, _pg_tables(cur))
        snap.server_version = pg_server_major()[1]
        # pg_dump reads the very snapshot counted above; this transaction stays open until it is done.
        done = subprocess.run(  # noqa: S603
            [pg_dump, *args, "-Fc", f"--snapshot={snapshot_id}", "-f", str(target), "-d", str(db["NAME"])],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise DomainError(f"pg_dump 失败：{done.stderr.strip()[:500]}")
    return snap


# --- the archive -------------------------------------------------------------------------------------------------


class _Hashing(io.RawIOBase):
    """A file read through, hashing what tarfile reads from it."""

    def __init__(self, f: IO[bytes]):
        self.f = f
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.f.read(size)
        self.digest.update(data)
        return data


def _add_file(tar: tarfile.TarFile, path: Path, name: str) -> dict:
    """Add ``path`` as ``name``; its size and SHA-256 as read into the archive."""
    with path.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, FILE_MODE, int(time.time())
        hashing = _Hashing(f)
        tar.addfile(info, hashing)
    return {"path": name, "size": size, "sha256": hashing.digest.hexdigest()}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), FILE_MODE, int(time.time())
    tar.addfile(info, io.BytesIO(data))


def _stored_files(job_files: list[str]) -> Iterator[tuple[Path, str]]:
    """(file, path under the data directory) of every file to keep: the kept folders whole, and the job files the
    snapshot names (a file, or an upload's folder of CSV files)."""
    root = Path(settings.DATA_DIR).resolve()
    for folder in KEPT_FOLDERS:
        base = root / folder
        if base.is_dir():
            for path in sorted(p for p in base.rglob("*") if p.is_file()):
                yield path, path.relative_to(root).as_posix()
    for name in job_files:
        path = Path(name).resolve()
        if root not in path.parents:
            continue  # not ours to copy (an export written elsewhere by the command line)
        paths = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for p in paths:
            yield p, p.relative_to(root).as_posix()


def opener_mode(path: Path, gzip: bool | None) -> str:
    compress = gzip if gzip is not None else path.name.endswith((".gz", ".tgz"))
    return "w:gz" if compress else "w"


def backup_create(*, output: Path, actor: Any, gzip: bool | None = None, say: Say = _quiet) -> BackupResult:
    """Write the archive to ``output`` (through ``output.partial``, renamed when complete: a backup cut short never
    looks like one). Records an audit event first, so the backup holds the record of itself."""
    started = time.monotonic()
    output = output.resolve()
    if output.is_dir():
        raise DomainError(f"{output} 是一个文件夹，请给出备份文件名（如 fangfan-2026-12-07.tar.gz）")
    if not output.parent.is_dir():
        raise DomainError(f"文件夹不存在：{output.parent}")
    vendor = connection.vendor
    if vendor not in DB_MEMBER:
        raise DomainError(f"不支持备份此类数据库：{vendor}")
    audit.record(
        actor,
        "system.backup",
        object_type="core.backup",
        object_label=output.name,
        region_code=getattr(actor, "region_id", "") or "",
    )
    scratch = work_dir()
    partial = output.with_name(output.name + ".partial")
    try:
        db_file = scratch / DB_MEMBER[vendor]
        say("正在复制数据库……")
        snap = _dump_sqlite(db_file) if vendor == "sqlite" else _dump_postgresql(db_file)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "fangfan_version": _version(),
            "database": {
                "vendor": vendor,
                "member": DB_MEMBER[vendor],
                "server_version": snap.server_version,
            },
            "tables": snap.tables,
            "audit": {
                "count": snap.tables.get(AUDIT_TABLE, 0),
                "last_id": snap.audit_last[0] if snap.audit_last else 0,
                "last_hash": snap.audit_last[1] if snap.audit_last else audit.GENESIS,
            },
            "migrations": snap.migrations,
            "secrets_included": False,
            "keys": key_marks(snap.field_keys),
            "files": [],
            "missing_files": [],
        }
        with partial.open("wb") as raw:
            os.chmod(partial, FILE_MODE)
            with tarfile.open(fileobj=raw, mode=opener_mode(output, gzip)) as tar:  # type: ignore[call-overload]
                entry = _add_file(tar, db_file, DB_MEMBER[vendor])
                manifest["database"].update(size=entry["size"], sha256=entry["sha256"])
                db_file.unlink()
                say("正在复制文件……")
                seen: set[str] = set()
                for path, rel in _stored_files(snap.job_files):
                    if rel in seen:
                        continue
                    seen.add(rel)
                    try:
                        manifest["files"].append(_add_file(tar, path, DATA_PREFIX + rel))
                    except FileNotFoundError:
                        manifest["missing_files"].append(rel)
                for name in snap.job_files:
                    if not Path(name).exists():
                        manifest["missing_files"].append(name)
                anchor_file = Path(settings.AUDIT_ANCHOR_FILE)
                if anchor_file.is_file():
                    manifest["anchor"] = _add_file(tar, anchor_file, ANCHOR_MEMBER)
                body = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
                _add_bytes(tar, MANIFEST, body)
            raw.flush()
            os.fsync(raw.fileno())
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(scratch, ignore_errors=True)
    return BackupResult(output, manifest, output.stat().st_size, time.monotonic() - started)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fangfan")
    except PackageNotFoundError:
        return "unknown"


@contextmanager
def scratch_dir() -> Iterator[Path]:
    path = work_dir()
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
