"""Production refuses to start without its secrets; development keeps its own under the data directory."""

import os
import subprocess
import sys

import pytest


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


GOOD_PRODUCTION = {
    "FANGFAN_ENV": "production",
    "FANGFAN_SECRET_KEY": "q7Vf2LzX9pR4sT1uW8yB3nD6gH0jK5mC-aE_iO2lP7rS9tU4vX1zA3bC6dF8gH0j",
    "FANGFAN_FIELD_KEYS": '{"k1": "' + "0123456789abcdef" * 4 + '"}',
    "FANGFAN_BLIND_INDEX_KEY": "fedcba9876543210" * 4,
    "FANGFAN_AUDIT_KEY": "a1b2c3d4e5f60718" * 4,
    "FANGFAN_ALLOWED_HOSTS": "fangfan.example.gov.cn",
}


def _check(env_extra, tmp_path, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANGFAN_") and k != "DATABASE_URL"}
    env.update({"FANGFAN_DATA_DIR": str(tmp_path), **env_extra})
    return subprocess.run(
        [sys.executable, "-m", "fangfan.cli", "check", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_documented_production_settings_pass_the_deploy_check(tmp_path):
    result = _check(GOOD_PRODUCTION, tmp_path, "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr + result.stdout


def _setting(env_extra, tmp_path, expression):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANGFAN_") and k != "DATABASE_URL"}
    env.update({"FANGFAN_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "fangfan.settings", **env_extra})
    code = f"from django.conf import settings; print(repr({expression}))"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_is_https_only_and_believes_a_proxy_header_only_when_configured(tmp_path):
    values = "(settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS > 0, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SECURE_PROXY_SSL_HEADER)"
    assert _setting(GOOD_PRODUCTION, tmp_path, values) == "(True, True, True, True, None)"
    behind = {**GOOD_PRODUCTION, "FANGFAN_PROXY_SSL_HEADER": "X-Forwarded-Proto: https"}
    assert (
        _setting(behind, tmp_path, "settings.SECURE_PROXY_SSL_HEADER")
        == "('HTTP_X_FORWARDED_PROTO', 'https')"
    )


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"FANGFAN_SECRET_KEY": "short-secret"}, "FANGFAN_SECRET_KEY"),
        ({"FANGFAN_SECRET_KEY": "ab" * 40}, "FANGFAN_SECRET_KEY"),  # long, but two characters
        ({"FANGFAN_FIELD_KEYS": "k1=abc"}, "FANGFAN_FIELD_KEYS"),  # not JSON
        ({"FANGFAN_FIELD_KEYS": '{"k1": "not-hex"}'}, "FANGFAN_FIELD_KEYS"),
        ({"FANGFAN_FIELD_KEYS": '["' + "0" * 64 + '"]'}, "FANGFAN_FIELD_KEYS"),
        ({"FANGFAN_BLIND_INDEX_KEY": "tooshort"}, "FANGFAN_BLIND_INDEX_KEY"),
        ({"FANGFAN_ALLOWED_HOSTS": "*"}, "FANGFAN_ALLOWED_HOSTS"),
        ({"FANGFAN_ALLOWED_HOSTS": "fangfan.example.gov.cn,*"}, "FANGFAN_ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_weak_or_malformed_secrets(tmp_path, change, named):
    result = _check({**GOOD_PRODUCTION, **change}, tmp_path)
    assert result.returncode != 0
    assert named in result.stderr
    assert "Traceback" not in result.stderr
    for value in change.values():
        if len(value) > 8:
            assert value not in result.stderr  # never echoes a secret
