"""Production refuses to start without its secrets; development keeps its own under the data directory."""

import os
import subprocess
import sys


def _run(env_extra, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANGFAN_") and k != "DATABASE_URL"}
    env.update({"FANGFAN_DATA_DIR": str(tmp_path), **env_extra})
    return subprocess.run(
        [sys.executable, "-m", "fangfan.cli", "check"], env=env, capture_output=True, text=True, timeout=120
    )


def test_production_without_secrets_fails_with_a_clear_message(tmp_path):
    result = _run({"FANGFAN_ENV": "production"}, tmp_path)
    assert result.returncode != 0
    assert "FANGFAN_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_development_generates_and_keeps_its_secrets(tmp_path):
    assert _run({}, tmp_path).returncode == 0
    first = (tmp_path / "secrets.json").read_text()
    assert _run({}, tmp_path).returncode == 0
    assert (tmp_path / "secrets.json").read_text() == first
    assert oct((tmp_path / "secrets.json").stat().st_mode)[-3:] == "600"
