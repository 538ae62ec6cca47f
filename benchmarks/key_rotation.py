"""Rotation of the field keys over a county (``fangfan rotate-keys``): rows per second, total time, peak memory,
and a run killed with SIGKILL part-way and resumed.

    .venv/bin/python benchmarks/key_rotation.py                  # SQLite: a copy of var/bench/list-250000.sqlite3
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/key_rotation.py

The shared county database is never rotated in place: SQLite is copied (with SQLite's backup API) to ``--work``
(default ``var/rotate``), PostgreSQL cloned with ``CREATE DATABASE fangfan_bench_rotate TEMPLATE …`` and dropped at
the end (``--pg-template``, default ``fangfan_bench_list``: build either with ``benchmarks/list_query.py``); the keys are the benchmark's (``var/bench/secrets.json``), copied into the work folder, plus a new key
that becomes the active one. The command runs as a separate process, as an operator would run it:

1. full rotation: every encrypted value of the county re-encrypted under a new key (``rot1``);
2. kill and resume: a second new key (``rot2``); the run is killed with SIGKILL once about a third of the members
   are done, then run again to the end. Afterwards nothing is left to rotate, and a sample of 2 000 members
   decrypts (here, independently of the code) to what it was before.

Peak memory is the command's maximum resident set (``wait4``). Written to ``docs/benchmarks.md`` (section
key_rotation).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from common import BENCH_DIR, ROOT, machine, read_section, replace_marked, table, write_section

FANGFAN = str(ROOT / ".venv" / "bin" / "fangfan")
PG_COPY = "fangfan_bench_rotate"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=250_000)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "rotate")
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument(
        "--pg-template",
        default="fangfan_bench_list",
        help="PostgreSQL: the county database to clone (the list benchmark's); DATABASE_URL names only the server",
    )
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    return parser.parse_args(argv)


class Target:
    """The copy being rotated: its database, its data directory (secrets), and how to query it."""

    def __init__(self, args):
        self.url = os.environ.get("DATABASE_URL", "").strip()
        self.vendor = "postgresql" if self.url.startswith("postgres") else "sqlite"
        self.work = args.work
        if self.work.exists():
            shutil.rmtree(self.work)
        self.work.mkdir(parents=True)
        self.work.chmod(0o700)
        shutil.copy(BENCH_DIR / "secrets.json", self.work / "secrets.json")
        self.keys = json.loads((self.work / "secrets.json").read_text())["field_keys"]
        if self.vendor == "sqlite":
            source = BENCH_DIR / f"list-{args.households}.sqlite3"
            if not source.exists():
                raise SystemExit(f"{source} is missing: build it with benchmarks/list_query.py first")
            self.db = self.work / "county.sqlite3"
            src, dst = sqlite3.connect(source), sqlite3.connect(self.db)
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")
            src.close()
            dst.close()
            self.rotate_url = f"sqlite:///{self.db}"
            self.label = f"SQLite {sqlite3.sqlite_version}"
        else:
            import psycopg

            parts = urlsplit(self.url)
            template = args.pg_template
            admin_url = urlunsplit(parts._replace(path="/postgres"))
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{PG_COPY}"')
                for attempt in range(60):  # the template may be in use by another benchmark for a while
                    try:
                        conn.execute(f'CREATE DATABASE "{PG_COPY}" TEMPLATE "{template}"')
                        break
                    except psycopg.errors.ObjectInUse:
                        if attempt == 59:
                            raise
                        time.sleep(10)
                self.label = "PostgreSQL " + conn.execute("SHOW server_version").fetchone()[0].split()[0]
            self.rotate_url = urlunsplit(parts._replace(path=f"/{PG_COPY}"))
            self.admin_url = admin_url

    def env(self, active: str) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FANGFAN_")}
        env.update(
            DATABASE_URL=self.rotate_url,
            FANGFAN_DATA_DIR=str(self.work),
            FANGFAN_FIELD_KEYS=json.dumps(self.keys),
            FANGFAN_FIELD_ACTIVE_KEY=active,
        )
        return env

    def query(self, sql: str) -> list[tuple]:
        if self.vendor == "sqlite":
            conn = sqlite3.connect(self.db)
            try:
                return conn.execute(sql).fetchall()
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(self.rotate_url, autocommit=True) as conn:
            return conn.execute(sql).fetchall()

    def drop(self) -> None:
        if self.vendor == "postgresql":
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{PG_COPY}" WITH (FORCE)')
        else:
            shutil.rmtree(self.work, ignore_errors=True)


def run(target: Target, active: str, *extra: str, kill_when=None) -> dict:
    """``fangfan rotate-keys`` as a process: seconds, peak RSS (MB), its output; killed when ``kill_when()``."""
    started = time.perf_counter()
    proc = subprocess.Popen(  # noqa: S603 - our own command
        [FANGFAN, "rotate-keys", *extra],
        env=target.env(active),
        cwd=target.work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed, usage = False, None
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG if kill_when else 0)
        if pid:
            break
        if not killed and kill_when():
            proc.send_signal(signal.SIGKILL)
            killed = True
        time.sleep(0.2)
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = proc.stdout.read(), proc.stderr.read()
    seconds = time.perf_counter() - started
    if not killed and proc.returncode != 0:
        raise SystemExit(f"rotate-keys failed ({proc.returncode}):\n{out}\n{err}")
    rows = int(m.group(1)) if (m := re.search(r"已将 (\d+) 行", out)) else 0
    return {
        "seconds": seconds,
        "rss_mb": usage.ru_maxrss / 1024,
        "rows": rows,
        "killed": killed,
        "out": out.strip(),
    }


def decrypt(stored: str, keys: dict) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    _, key_id, payload = stored.split(":", 2)
    token = base64.b64decode(payload)
    return AESGCM(bytes.fromhex(keys[key_id])).decrypt(token[:12], token[12:], b"fangfan-field-v1").decode()


def main(argv=None) -> int:
    args = parse_args(argv)
    target = Target(args)
    try:
        households = target.query("SELECT COUNT(*) FROM registry_household")[0][0]
        members = target.query("SELECT COUNT(*) FROM registry_member")[0][0]
        print(f"{target.label}: {households:,} households, {members:,} members", file=sys.stderr)
        batch = ["--batch-size", str(args.batch_size)]

        target.keys["rot1"] = secrets.token_hex(32)
        full = run(target, "rot1", *batch)
        print(full["out"], file=sys.stderr)

        sample = target.query("SELECT id, id_number FROM registry_member ORDER BY id LIMIT 2000")
        plain = {pk: decrypt(v, target.keys) for pk, v in sample}
        target.keys["rot2"] = secrets.token_hex(32)
        third = members // 3

        def a_third_done() -> bool:
            done = target.query("SELECT COUNT(*) FROM registry_member WHERE id_number LIKE 'aesgcm:rot2:%'")
            return done[0][0] >= third

        killed = run(target, "rot2", *batch, kill_when=a_third_done)
        at_kill = target.query("SELECT COUNT(*) FROM registry_member WHERE id_number LIKE 'aesgcm:rot2:%'")[
            0
        ][0]
        resumed = run(target, "rot2", *batch)
        check = run(target, "rot2", "--check")
        after = dict(target.query("SELECT id, id_number FROM registry_member ORDER BY id LIMIT 2000"))
        intact = all(
            after[pk].startswith("aesgcm:rot2:") and decrypt(after[pk], target.keys) == v
            for pk, v in plain.items()
        )
        left = "全部已使用密钥" in check["out"]
    finally:
        target.drop()

    rate = full["rows"] / full["seconds"]
    rows = [
        [
            "full rotation",
            f"{full['rows']:,}",
            f"{full['seconds']:.1f} s",
            f"{rate:,.0f}",
            f"{full['rss_mb']:.0f} MB",
        ],
        [
            "killed (SIGKILL at ≥ ⅓ of the members)",
            f"{at_kill:,} members done",
            f"{killed['seconds']:.1f} s",
            "",
            f"{killed['rss_mb']:.0f} MB",
        ],
        [
            "resumed to the end",
            f"{resumed['rows']:,}",
            f"{resumed['seconds']:.1f} s",
            f"{resumed['rows'] / resumed['seconds']:,.0f}",
            f"{resumed['rss_mb']:.0f} MB",
        ],
    ]
    verdict = "nothing left to rotate" if left else "VALUES LEFT UNDER THE OLD KEY"
    body = (
        f"### {target.label}\n\n{machine()}; {households:,} households, {members:,} members; batches of "
        f"{args.batch_size:,} rows. Timed under load from the other engineers sharing the machine: read the "
        "figures as an upper bound.\n\n"
        + table(["run", "rows re-encrypted", "time", "rows/s", "peak RSS"], rows)
        + f"\n\nAfter the resumed run: {verdict}; a sample of 2 000 members "
        + ("decrypts to the same ID numbers under the new key." if intact else "DOES NOT DECRYPT AS BEFORE.")
        + "\n"
    )
    print(body)
    if not args.no_write:
        intro = (
            "## `key_rotation.py` — re-encrypting a county under a new field key (`fangfan rotate-keys`)\n\n"
            "Every encrypted field (household phone, member ID number and phone, clue name/ID/phone) decrypted and\n"
            "encrypted again in batches of one transaction each; the work left is read from the data (values not under\n"
            "the active key), so a killed run resumes where its last committed batch ended.\n"
        )
        current = read_section("key_rotation") or intro
        write_section("key_rotation", replace_marked(current, f"key_rotation/{target.vendor}", body))
        print("written to docs/benchmarks.md (section key_rotation)", file=sys.stderr)
    return 0 if (left and intact) else 1


if __name__ == "__main__":
    sys.exit(main())
