"""Backup and restore (issue 21.7): ``fangfan backup`` of a running instance, the database wiped, ``fangfan restore``
brings back every row the manifest counted and an audit chain that verifies; a database in use is not overwritten
without ``--force``; a damaged or foreign archive is refused before anything is touched. On SQLite, or on
PostgreSQL when the suite runs there (``DATABASE_URL``): the instance is a separate process (instance_support)."""

from __future__ import annotations

import gzip
import io
import json
import sqlite3
import tarfile
import threading
import time

import pytest
from instance_support import ON_POSTGRES, new_instance

from fangfan.core.backup import sqlite_copy


@pytest.fixture
def instance(tmp_path):
    return new_instance(tmp_path)


def _manifest(archive) -> dict:
    with tarfile.open(archive, "r:*") as tar:
        return json.loads(tar.extractfile("manifest.json").read())


def test_backup_wipe_restore_brings_back_every_counted_row_and_a_verified_audit_chain(instance, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    out = instance.run("backup", "-o", str(archive)).stdout
    assert "备份完成" in out and "密钥未包含在备份中" in out
    manifest = _manifest(archive)
    assert manifest["database"]["vendor"] == instance.vendor
    assert manifest["secrets_included"] is False
    assert (
        manifest["keys"]["field_key_ids"] == ["k1"] and "恢复时需要字段密钥 k1" in out
    )  # the keys the data uses
    counts = instance.counts()
    # the manifest counts the snapshot: everything in the database at the time (the backup's own event included)
    assert manifest["tables"] == counts
    assert manifest["tables"]["registry_member"] > 50
    assert manifest["audit"]["last_id"] == instance.query("SELECT MAX(id) FROM core_auditevent")[0][0]
    assert manifest["files"], "the demo's case attachments"
    assert all(f["path"].startswith("data/case-files/") for f in manifest["files"])

    instance.wipe()
    done = instance.run("restore", str(archive))
    assert "每张表的行数都与备份清单一致" in done.stdout
    assert "审计日志完好" in done.stdout and "恢复成功" in done.stdout
    after = instance.counts()
    # restore records one event of its own, once the check is done
    assert after["core_auditevent"] == manifest["tables"]["core_auditevent"] + 1
    after["core_auditevent"] -= 1
    assert after == manifest["tables"]
    for entry in manifest["files"]:
        assert (instance.data_dir / entry["path"].removeprefix("data/")).is_file()
    verify = instance.run("verify-audit")
    assert "审计日志完好" in verify.stdout and "与审计锚点一致" in verify.stdout


def test_restore_refuses_a_database_in_use_without_force(instance, tmp_path):
    archive = tmp_path / "backup.tar"
    instance.run("backup", "-o", str(archive))
    before = instance.counts()
    refused = instance.run("restore", str(archive), check=False)
    assert refused.returncode != 0
    assert "当前数据库不是空的" in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert instance.counts() == before
    forced = instance.run("restore", str(archive), "--force")
    assert "恢复成功" in forced.stdout
    assert instance.run("verify-audit").returncode == 0


def _rewrite(archive, target, change) -> None:
    """Copy the tar ``archive`` to ``target`` with ``change(name, data) -> data`` applied to each member."""
    with tarfile.open(archive) as src, tarfile.open(target, "w") as dst:
        for member in src:
            data = change(member.name, src.extractfile(member).read())
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))


def test_a_damaged_archive_is_refused_and_nothing_is_touched(instance, tmp_path):
    archive = tmp_path / "backup.tar"
    instance.run("backup", "-o", str(archive))
    instance.wipe()

    def flip(name, data):
        if name.startswith("database."):
            middle = len(data) // 2
            return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]
        return data

    flipped = tmp_path / "flipped.tar"
    _rewrite(archive, flipped, flip)
    refused = instance.run("restore", str(flipped), check=False)
    assert refused.returncode != 0
    assert (
        "已损坏" in refused.stderr
        and "校验值与清单不符" in refused.stderr
        and "未做任何改动" in refused.stderr
    )

    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(gzip.compress(archive.read_bytes())[:-5000])
    refused = instance.run("restore", str(truncated), check=False)
    assert refused.returncode != 0 and "已损坏" in refused.stderr and "Traceback" not in refused.stderr

    not_a_backup = tmp_path / "notes.tar"
    with tarfile.open(not_a_backup, "w") as tar:
        tar.addfile(tarfile.TarInfo("readme.txt"), io.BytesIO(b""))
    refused = instance.run("restore", str(not_a_backup), check=False)
    assert refused.returncode != 0 and "缺少 manifest.json" in refused.stderr

    other = "sqlite" if ON_POSTGRES else "postgresql"

    def foreign(name, data):
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["database"]["vendor"] = other
            return json.dumps(manifest).encode()
        return data

    crossed = tmp_path / "crossed.tar"
    _rewrite(archive, crossed, foreign)
    refused = instance.run("restore", str(crossed), check=False)
    assert refused.returncode != 0 and "不支持跨数据库类型恢复" in refused.stderr
    # still the empty database the wipe left
    assert instance.counts().get("core_auditevent", 0) == 0


def test_restore_needs_the_backup_time_keys(instance, tmp_path):
    archive = tmp_path / "backup.tar"
    instance.run("backup", "-o", str(archive))
    refused = instance.run(
        "restore",
        str(archive),
        "--force",
        env=instance.env(FANGFAN_AUDIT_KEY="another-key-" * 4),
        check=False,
    )
    assert refused.returncode != 0 and "审计密钥" in refused.stderr


def test_the_sqlite_copy_never_holds_half_a_transaction(tmp_path):
    """A transaction open in another connection while the copy runs, and a writer committing batches of 50 rows
    throughout: the copy holds whole batches only, never the open transaction's rows."""
    path = tmp_path / "live.sqlite3"
    setup = sqlite3.connect(path)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (batch INTEGER, n INTEGER, pad TEXT)")
    setup.commit()
    setup.close()

    open_tx = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    open_tx.execute("BEGIN IMMEDIATE")
    open_tx.executemany(
        "INSERT INTO t VALUES (-1, ?, 'x')", [(i,) for i in range(25)]
    )  # half of a unit of 50

    stop = threading.Event()

    def writer():
        # waits for the open transaction's lock, then commits batches while the copies run
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        batch = 0
        while not stop.is_set():
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO t VALUES (?, ?, ?)", [(batch, i, "y" * 200) for i in range(50)])
            conn.execute("COMMIT")
            batch += 1
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    copies = []
    first = tmp_path / "copy-open.sqlite3"
    sqlite_copy(path, first)
    copies.append(first)
    open_tx.execute("ROLLBACK")
    open_tx.close()
    for i in range(5):
        time.sleep(0.05)
        copy = tmp_path / f"copy-{i}.sqlite3"
        sqlite_copy(path, copy)
        copies.append(copy)
    stop.set()
    thread.join()
    for copy in copies:
        conn = sqlite3.connect(copy)
        assert conn.execute("SELECT COUNT(*) FROM t WHERE batch = -1").fetchone()[0] == 0
        sizes = {n for (n,) in conn.execute("SELECT COUNT(*) FROM t GROUP BY batch")}
        assert sizes <= {50}
        conn.close()


def test_a_missing_or_too_old_pg_dump_is_named_in_chinese(monkeypatch):
    from fangfan.core import backup
    from fangfan.core.errors import DomainError

    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    with pytest.raises(DomainError, match="未找到 pg_dump：请安装.*PostgreSQL 客户端"):
        backup._check_pg_tool("pg_dump")
    monkeypatch.setattr(backup, "pg_tool", lambda name: ("/usr/bin/pg_dump", 14))
    monkeypatch.setattr(backup, "pg_server_major", lambda: (16, "16.4"))
    with pytest.raises(
        DomainError, match=r"pg_dump 的版本（14）低于数据库服务器（PostgreSQL 16.4）.*postgresql-client-16"
    ):
        backup._check_pg_tool("pg_dump")
