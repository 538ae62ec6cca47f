"""Issue 21.3, killed work leaves nothing half done: the process doing a household import, a screening, a ledger
export (each a job of ``fangfan db_worker``), a monthly snapshot (``fangfan snapshot``) or a town's batch approval
(the web request) is stopped with SIGKILL in the middle of its work, on an SQLite file and on a PostgreSQL
database of its own; then the worker is started again.

Where each is stopped, and what the data must be afterwards:

- household import — inside its one transaction, the households written, their members not yet: the data is as
  before the job (all or nothing);
- screening — inside the transaction that writes the warnings into their verification tasks: as before;
- ledger export — the workbook written, the job not yet done: the data as before, and the half-finished file (whole
  rows of personal data) deleted once the worker is back;
- monthly snapshot — inside its transaction: as before; running the command again completes it;
- batch approval — after the first committed group (the test commits one case per group): that case approved,
  the others untouched; approving the batch again does the rest.

A job ends as failed as soon as the worker is back, its page shows its starter a 重试 button, and the retry runs
it to the end; ``fangfan verify-audit`` passes after the kill and after the retry. The processes run
``tests/kill_support.py`` (seeded once per database, copied for each test); the pause is ``FANGFAN_TEST_PAUSE``
(``core.testhooks``), so the kill lands provably mid-work. PostgreSQL runs are skipped only when no server answers
on 127.0.0.1:5432.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUPPORT = ROOT / "tests" / "kill_support.py"
PG = "postgres://postgres@127.0.0.1:5432/"
WAIT = 240  # seconds: the machine may be loaded; every wait polls and stops as soon as it can
_serial = itertools.count(1)


def _pg_answers() -> bool:
    try:
        import psycopg

        psycopg.connect(PG + "postgres", connect_timeout=3).close()
    except Exception:
        return False
    return True


def _pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG + "postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


class Place:
    """A database and data directory of one test, with the processes it started (all killed at the end)."""

    def __init__(self, vendor: str, folder: Path, url: str):
        self.vendor, self.folder, self.url = vendor, folder, url
        self.children: list[subprocess.Popen] = []
        self.env = {
            k: v for k, v in os.environ.items() if k not in ("FANGFAN_TESTING", "DJANGO_SETTINGS_MODULE")
        }
        self.env.update(
            DATABASE_URL=url,
            FANGFAN_DATA_DIR=str(folder),
            FANGFAN_ALLOWED_HOSTS="testserver,127.0.0.1",
            FANGFAN_AUDIT_ANCHOR_FILE=str(folder / "audit-anchor.log"),
        )

    def run(self, *args: str, pause: str = "", timeout: float = WAIT) -> object:
        """Run a kill_support action to its end; its JSON result."""
        env = self._env(pause)
        done = subprocess.run(
            [sys.executable, str(SUPPORT), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        for line in reversed(done.stdout.splitlines()):
            if line.startswith("RESULT "):
                return json.loads(line[len("RESULT ") :])
        raise AssertionError(f"kill_support {args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}")

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "fangfan.cli", *args],
            env=self._env(""),
            capture_output=True,
            text=True,
            timeout=WAIT,
            check=False,
        )

    def spawn(self, argv: list[str], *, pause: str = "") -> subprocess.Popen:
        log = (self.folder / f"proc-{len(self.children)}.log").open("w")
        child = subprocess.Popen(argv, env=self._env(pause), stdout=log, stderr=subprocess.STDOUT)
        self.children.append(child)
        return child

    def worker(self, *, pause: str = "") -> subprocess.Popen:
        return self.spawn(
            [sys.executable, "-m", "fangfan.cli", "db_worker", "--interval", "0.2", "--no-startup-delay"],
            pause=pause,
        )

    def _env(self, pause: str) -> dict:
        env = dict(self.env)
        if pause:
            env["FANGFAN_TEST_PAUSE"] = pause
            env["FANGFAN_TEST_PAUSE_FILE"] = str(self.marker)
        return env

    @property
    def marker(self) -> Path:
        return self.folder / "paused"

    def wait_paused(self, child: subprocess.Popen) -> str:
        """Until ``child`` blocks at its checkpoint (its id in the marker file); the point's name."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if self.marker.exists() and self.marker.read_text().strip():
                pid, name = self.marker.read_text().split(" ", 1)
                assert int(pid) == child.pid
                return name.strip()
            if child.poll() is not None:
                raise AssertionError(f"the process ended before its checkpoint:\n{self.logs()}")
            time.sleep(0.2)
        raise AssertionError(f"the process never reached its checkpoint:\n{self.logs()}")

    def kill(self, child: subprocess.Popen) -> None:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        assert child.returncode == -signal.SIGKILL
        self.marker.unlink(missing_ok=True)

    def wait_job(self, job: int, state: str) -> dict:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            row = self.run("job", str(job))
            if row.get("state") == state:
                return row
            time.sleep(0.5)
        raise AssertionError(f"job {job} never became {state}: {row}\n{self.logs()}")

    def audit_verified(self) -> None:
        done = self.cli("verify-audit")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "审计日志完好" in done.stdout

    def logs(self) -> str:
        return "\n".join(p.read_text()[-3000:] for p in sorted(self.folder.glob("proc-*.log")))

    def close(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.kill()
                child.wait(timeout=30)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def template(request, tmp_path_factory):
    """A seeded database per vendor (once per module) and the data directory that goes with it (its keys, audit
    anchor and files)."""
    vendor = request.param
    folder = tmp_path_factory.mktemp(f"kill-{vendor}")
    if vendor == "postgresql":
        if not _pg_answers():
            pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432")
        name = f"fangfan_kill_{os.getpid()}_tpl"
        _pg(f'DROP DATABASE IF EXISTS "{name}"')
        _pg(f'CREATE DATABASE "{name}"')
        url = PG + name
    else:
        name = str(folder / "db.sqlite3")
        url = f"sqlite:///{name}"
    place = Place(vendor, folder, url)
    try:
        seeded = place.run("seed", timeout=15 * 60)  # migrations and the seed: minutes on a loaded machine
        yield {"vendor": vendor, "folder": folder, "name": name, "seeded": seeded}
    finally:
        if vendor == "postgresql":
            _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def place(template, tmp_path):
    """A copy of the seeded database and its data directory for one test; every process it starts is killed and
    the database dropped afterwards."""
    folder = tmp_path / "data"
    shutil.copytree(template["folder"], folder, ignore=shutil.ignore_patterns("proc-*.log", "paused"))
    if template["vendor"] == "postgresql":
        name = f"fangfan_kill_{os.getpid()}_{next(_serial)}"
        _pg(f'CREATE DATABASE "{name}" TEMPLATE "{template["name"]}"')
        url = PG + name
    else:
        url = f"sqlite:///{folder / 'db.sqlite3'}"
    place = Place(template["vendor"], folder, url)
    place.seeded = template["seeded"]
    try:
        yield place
    finally:
        place.close()
        if template["vendor"] == "postgresql":
            _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _changed(before: dict, after: dict) -> set[str]:
    return {t for t in set(before) | set(after) if before.get(t) != after.get(t)}


def _killed_job_is_failed_with_a_retry_button(place: Place, job: int) -> None:
    """The worker back: the job fails at once (not "进行中" for ever) and its starter sees the 重试 button."""
    place.worker()
    place.wait_job(job, "failed")
    check = place.run("check", str(job))
    assert check["page"]["status"] == 200
    assert check["page"]["retry_button"] and check["page"]["message_shown"]
    place.audit_verified()


@pytest.mark.parametrize(
    ("kind", "pause", "grows"),
    [
        ("import", "progress:households_import:正在写入", {"registry_household", "registry_member"}),
        ("screening", "monitoring.warnings_insert", {"monitoring_earlywarning", "monitoring_screeningrun"}),
        ("ledger", "progress:ledger_export:已写入", {"core_auditevent"}),
    ],
)
def test_a_job_killed_mid_work_leaves_the_data_as_before_and_can_be_retried(place, kind, pause, grows):
    job = place.run("start", kind)  # queued (the page's own writes, if any, are not the job's)
    before = place.run("state")
    worker = place.worker(pause=pause)
    place.wait_paused(worker)

    place.kill(worker)

    after_kill = place.run("check", str(job))
    assert after_kill["state"] == before, (
        f"changed by a killed {kind}: {_changed(before, after_kill['state'])}"
    )
    assert after_kill["job"]["state"] == "running"  # until a worker is back
    _killed_job_is_failed_with_a_retry_button(place, job)
    failed = place.run("job", str(job))
    assert failed["output_file"] == ""  # a half-written export is deleted, never offered
    assert not list((place.folder / "files" / "exports").glob(f"ledger-{job}-*"))
    if kind == "import":
        assert failed["input_exists"]  # the upload waits for the retry

    assert place.run("retry", str(job)) == 302
    done = place.wait_job(job, "done")
    after = place.run("state")
    assert grows <= _changed(before, after), done
    place.audit_verified()


def test_a_snapshot_killed_mid_work_leaves_the_month_as_before_and_runs_again(place):
    before = place.run("state")
    command = place.spawn([sys.executable, "-m", "fangfan.cli", "snapshot"], pause="registry.snapshot")
    place.wait_paused(command)

    place.kill(command)

    assert place.run("state") == before
    place.audit_verified()
    again = place.cli("snapshot")
    assert again.returncode == 0, again.stderr
    assert "月度记录完成" in again.stdout
    assert {"registry_householdmonth", "core_auditevent"} <= _changed(before, place.run("state"))
    place.audit_verified()


def test_a_batch_approval_killed_after_its_first_case_keeps_that_case_and_leaves_the_others(place):
    cases = [str(c) for c in place.seeded["cases"]]
    steps = place.run("cases")
    assert {steps[c] for c in cases} == {"乡镇审核"}
    request = place.spawn([sys.executable, str(SUPPORT), "batch", *cases], pause="workflows.batch")
    place.wait_paused(request)

    place.kill(request)

    steps = place.run("cases")
    assert steps[cases[0]] != "乡镇审核"  # committed: the first case moved on to the county
    assert [steps[c] for c in cases[1:]] == ["乡镇审核"] * (len(cases) - 1)  # untouched
    place.audit_verified()

    assert place.run("batch", *cases[1:]) == 200
    steps = place.run("cases")
    assert all(steps[c] == steps[cases[0]] for c in cases)
    place.audit_verified()
