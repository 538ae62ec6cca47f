"""Production refuses weak or malformed secrets at start (imported by settings: no Django models here).

Every message is Chinese and English, and names the variable, never its value.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ImproperlyConfigured

HEX_KEY = re.compile(r"^[0-9a-fA-F]{64}$")
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
SECRET_KEY_MIN = 50
BLIND_INDEX_KEY_MIN = 32
MIN_DISTINCT = 10


def _weak(value: str, minimum: int) -> bool:
    return len(value) < minimum or len(set(value)) < MIN_DISTINCT


def production_problems(
    *, secret_key: str, field_keys: object, blind_index_key: str, allowed_hosts: list[str]
) -> list[str]:
    problems = []
    if _weak(secret_key, SECRET_KEY_MIN) or secret_key.startswith("django-insecure-"):
        problems.append(
            f"FANGFAN_SECRET_KEY 太短或太简单：至少 {SECRET_KEY_MIN} 个字符、不少于 {MIN_DISTINCT} 种不同字符的随机值"
            f" / FANGFAN_SECRET_KEY is too short or too simple: use a random value of at least {SECRET_KEY_MIN}"
            f" characters (e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))')"
        )
    if (
        not isinstance(field_keys, dict)
        or not field_keys
        or not all(isinstance(k, str) and KEY_ID.match(k) for k in field_keys)
        or not all(isinstance(v, str) and HEX_KEY.match(v) for v in field_keys.values())
    ):
        problems.append(
            'FANGFAN_FIELD_KEYS 应为 JSON 对象，每个密钥为 64 位十六进制，如 {"k1": "<64 位十六进制>"}'
            ' / FANGFAN_FIELD_KEYS must be a JSON object of 64-hex-digit keys, e.g. {"k1": "<64 hex digits>"}'
        )
    if _weak(blind_index_key, BLIND_INDEX_KEY_MIN):
        problems.append(
            f"FANGFAN_BLIND_INDEX_KEY 太短或太简单：至少 {BLIND_INDEX_KEY_MIN} 个字符的随机值（建议 64 位十六进制）"
            f" / FANGFAN_BLIND_INDEX_KEY is too short or too simple: at least {BLIND_INDEX_KEY_MIN} random"
            " characters (64 hex digits recommended)"
        )
    if not allowed_hosts or any(h == "*" for h in allowed_hosts):
        problems.append(
            "FANGFAN_ALLOWED_HOSTS 不能为 * ，请列出本系统的域名 / FANGFAN_ALLOWED_HOSTS must not be *:"
            " list the site's host names"
        )
    return problems


def check_production_settings(**values: Any) -> None:
    problems = production_problems(**values)
    if problems:
        raise ImproperlyConfigured(
            "生产环境配置不安全 / unsafe production settings:\n  " + "\n  ".join(problems)
        )
