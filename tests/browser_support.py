"""Driving the real system in Chromium: a server subprocess on its own SQLite data directory, and a browser.

pytest-django's ``live_server`` is not used: its table flush DELETEs rows, which the append-only audit table
refuses. Each browser module starts ``fangfan runserver`` on a fresh data directory prepared by a setup script.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

requires_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="需要 /usr/bin/chromium（apt-get install chromium）"
)


def _server_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "FANGFAN_TESTING")}
    env.update({"FANGFAN_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "fangfan.settings"})
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_setup(data_dir: Path, script: str) -> None:
    """Migrate the data directory's database, then run ``script`` (Python source, Django set up) against it."""
    env = _server_env(data_dir)
    subprocess.run([sys.executable, "-m", "fangfan.cli", "migrate", "-v0"], env=env, check=True, timeout=300)
    # The script is test setup, the operator's work: its reads need no scope (``core.scoping``), and
    # ``OPERATOR`` is the command-line account to pass as ``actor``.
    prelude = (
        "import django\ndjango.setup()\n"
        "from fangfan.core.scoping import unscoped_reads\n_SETUP = unscoped_reads()\n_SETUP.__enter__()\n"
        "from fangfan.accounts.models import User as _User\nOPERATOR = _User.objects.cli_account('test')\n"
    )
    subprocess.run([sys.executable, "-c", prelude + script], env=env, check=True, timeout=600)


def start_server(data_dir: Path, setup_script: str = "") -> tuple[str, Callable[[], None]]:
    """Prepare ``data_dir`` and serve it; returns the base URL and a function that stops the server."""
    run_setup(data_dir, setup_script or "pass")
    port = _free_port()
    env = _server_env(data_dir)
    log = open(data_dir / "server.log", "w")  # noqa: SIM115 - closed in stop()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fangfan.cli", "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/accounts/login/", timeout=2)  # noqa: S310 - localhost only
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log.close()
                raise RuntimeError(
                    "测试服务器未能启动：" + (data_dir / "server.log").read_text()[-2000:]
                ) from None
            time.sleep(0.3)

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()

    return url, stop


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def watch_requests(page, base_url: str) -> list[str]:
    """Collect every request that leaves the test server (there must be none: pages load nothing external)."""
    outside: list[str] = []
    page.on(
        "request",
        lambda req: outside.append(req.url) if not req.url.startswith((base_url, "data:")) else None,
    )
    return outside


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page, base_url: str, username: str, password: str, totp_key: str = "") -> None:
    """Sign in; then, for an account with a second factor, pass it: enrol on first sign-in (the key is read from
    the page and kept for later sign-ins of the same account on the same server), or type the current code of the
    kept key (or of ``totp_key``, e.g. the demo's)."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    pass_second_factor(page, base_url, username, totp_key)


# (server, account) → the base32 key enrolled, and the last 30-second step whose code was used (a code works once).
_TOTP_KEYS: dict[tuple[str, str], str] = {}
_TOTP_STEPS: dict[tuple[str, str], int] = {}


def _fresh_code(account: tuple[str, str], key: str) -> str:
    from fangfan.demo.accounts import totp_code

    while True:
        step = int(time.time() // 30)
        # The server takes the codes of the step before and after too; one not yet used is needed.
        for candidate in (step, step + 1):
            if candidate > _TOTP_STEPS.get(account, -1):
                _TOTP_STEPS[account] = candidate
                return totp_code(key, candidate * 30)
        time.sleep(1)


def pass_second_factor(page, base_url: str, username: str, totp_key: str = "") -> None:
    account = (base_url, username)
    if "/accounts/2fa/enrol/" in page.url:
        key = page.locator("[data-testid=otp-key]").inner_text().replace(" ", "")
        _TOTP_KEYS[account] = key
        page.fill("#id_token", _fresh_code(account, key))
        page.click("[data-testid=otp-enrol] button[type=submit]")
        page.wait_for_load_state("networkidle")
        page.click("[data-testid=recovery-codes] a.btn-primary")
        page.wait_for_load_state("networkidle")
    elif "/accounts/2fa/" in page.url:
        key = totp_key or _TOTP_KEYS[account]
        page.fill("#id_token", _fresh_code(account, key))
        page.click("[data-testid=otp-verify] button[type=submit]")
        page.wait_for_load_state("networkidle")
