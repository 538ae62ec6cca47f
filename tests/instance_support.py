"""A real fangfan instance for tests that run the ``fangfan`` command as a separate process (backup, restore, a key
rotation killed with SIGKILL): its own data directory and database — an SQLite file, or, when the suite runs on
PostgreSQL (``DATABASE_URL``), a database of its own on that server, created here and dropped at exit.

The demo town is generated once per test process (``fangfan demo --households 30``, about half a minute) and each
test gets a copy (a copied data directory; ``CREATE DATABASE … TEMPLATE`` on PostgreSQL).
"""

from __future__ import annotations

import atexit
import base64
import functools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FANGFAN = str(Path(sys.executable).with_name("fangfan"))
SUITE_URL = os.environ.get("DATABASE_URL", "").strip()
ON_POSTGRES = SUITE_URL.startswith(("postgres://", "postgresql://"))
HOUSEHOLDS = 30


def _pg_admin():
    import psycopg

    return psycopg.connect(SUITE_URL, autocommit=True)


def _pg_url(name: str) -> str:
    parts = urlsplit(SUITE_URL)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _drop_pg(name: str) -> None:
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Instance:
    data_dir: Path
    db_name: str  # the SQLite file, or the PostgreSQL database's name

    @property
    def vendor(self) -> str:
        return "postgresql" if ON_POSTGRES else "sqlite"

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("FANGFAN_", "DATABASE_URL", "PYTEST"))
        }
        env["FANGFAN_DATA_DIR"] = str(self.data_dir)
        env["DATABASE_URL"] = _pg_url(self.db_name) if ON_POSTGRES else f"sqlite:///{self.db_name}"
        env.update(extra)
        return env

    def run(self, *args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [FANGFAN, *args],
            env=env or self.env(),
            capture_output=True,
            text=True,
            cwd=self.data_dir,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"fangfan {' '.join(args)} → {done.returncode}\n{done.stdout}\n{done.stderr}"
            )
        return done

    def popen(self, *args: str, env: dict | None = None) -> subprocess.Popen:
        return subprocess.Popen(
            [FANGFAN, *args],
            env=env or self.env(),
            cwd=self.data_dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def query(self, sql: str) -> list[tuple]:
        if ON_POSTGRES:
            import psycopg

            with psycopg.connect(_pg_url(self.db_name), autocommit=True) as conn:
                return conn.execute(sql).fetchall()
        conn = sqlite3.connect(self.db_name)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def counts(self) -> dict[str, int]:
        if ON_POSTGRES:
            tables = [
                r[0]
                for r in self.query("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            ]
        else:
            tables = [
                r[0]
                for r in self.query(
                    "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                )
            ]
        return {t: self.query(f'SELECT COUNT(*) FROM "{t}"')[0][0] for t in tables}

    def wipe(self) -> None:
        """The database gone (an empty one in its place), and the stored files with it."""
        if ON_POSTGRES:
            _drop_pg(self.db_name)
            with _pg_admin() as conn:
                conn.execute(f'CREATE DATABASE "{self.db_name}"')
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(self.db_name + suffix).unlink(missing_ok=True)
        for folder in ("evidence", "case-files", "files"):
            shutil.rmtree(self.data_dir / folder, ignore_errors=True)

    def secrets(self) -> dict:
        return json.loads((self.data_dir / "secrets.json").read_text())


@functools.cache
def _template() -> Instance:
    base = Path(tempfile.mkdtemp(prefix="fangfan-instance-"))
    atexit.register(shutil.rmtree, base, True)
    data = base / "data"
    data.mkdir()
    if ON_POSTGRES:
        name = f"fangfan_tpl_{uuid.uuid4().hex[:10]}"
        with _pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        atexit.register(_drop_pg, name)
    else:
        name = str(data / "fangfan.sqlite3")
    inst = Instance(data, name)
    inst.run("demo", "--households", str(HOUSEHOLDS), "--seed", "7", "--no-serve")
    if not ON_POSTGRES:
        conn = sqlite3.connect(name)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
    return inst


def new_instance(tmp_path: Path) -> Instance:
    """A copy of the demo instance for one test, under ``tmp_path``."""
    template = _template()
    data = tmp_path / "data"
    shutil.copytree(template.data_dir, data)
    if ON_POSTGRES:
        name = f"fangfan_t_{uuid.uuid4().hex[:12]}"
        with _pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.db_name}"')
        atexit.register(_drop_pg, name)
    else:
        name = str(data / "fangfan.sqlite3")
    return Instance(data, name)


def decrypt(stored: str, keys: dict[str, str]) -> str:
    """A stored field value decrypted here, independently of the code under test (core.crypto's format)."""
    algorithm, key_id, payload = stored.split(":", 2)
    assert algorithm == "aesgcm"
    token = base64.b64decode(payload)
    return AESGCM(bytes.fromhex(keys[key_id])).decrypt(token[:12], token[12:], b"fangfan-field-v1").decode()
