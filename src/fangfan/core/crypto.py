"""Field encryption (AES-GCM by default, algorithm pluggable so SM4 can be added) and keyed blind indexes.

A stored value reads ``<algorithm>:<key id>:<base64(nonce || ciphertext)>``, so keys rotate (old ids still
decrypt; the active id encrypts) and a second algorithm can live beside the first. The blind index is an HMAC
of the normalised value under a separate key: exact lookups and department matching without decrypting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable, Iterable
from functools import cache
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import models


class Cipher(Protocol):
    def encrypt(self, key: bytes, plaintext: bytes, aad: bytes) -> bytes: ...
    def decrypt(self, key: bytes, token: bytes, aad: bytes) -> bytes: ...


class AesGcmCipher:
    """AES-256-GCM with a random 96-bit nonce per value."""

    def encrypt(self, key: bytes, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + _aesgcm(key).encrypt(nonce, plaintext, aad)

    def decrypt(self, key: bytes, token: bytes, aad: bytes) -> bytes:
        return _aesgcm(key).decrypt(token[:12], token[12:], aad)


@cache
def _aesgcm(key: bytes) -> AESGCM:
    """One cipher object per key (building it costs more than encrypting an ID number)."""
    return AESGCM(key)


CIPHERS: dict[str, Cipher] = {"aesgcm": AesGcmCipher()}
AAD = b"fangfan-field-v1"


class DecryptionError(Exception):
    pass


def register_cipher(name: str, cipher: Cipher) -> None:
    """Add an algorithm (e.g. an SM4-GCM implementation) under a short name used in stored values."""
    CIPHERS[name] = cipher


@cache
def _key(key_id: str) -> bytes:
    raw = settings.FIELD_ENCRYPTION_KEYS.get(key_id)
    if raw is None:
        raise DecryptionError(f"未配置字段加密密钥 {key_id}")
    key = bytes.fromhex(raw)
    if len(key) not in (16, 24, 32):
        raise DecryptionError(f"字段加密密钥 {key_id} 长度无效")
    return key


def encrypt_text(plaintext: str) -> str:
    algorithm = settings.FIELD_ENCRYPTION_ALGORITHM
    key_id = settings.FIELD_ENCRYPTION_ACTIVE_KEY
    token = CIPHERS[algorithm].encrypt(_key(key_id), plaintext.encode(), AAD)
    return f"{algorithm}:{key_id}:{base64.b64encode(token).decode()}"


def decrypt_text(stored: str) -> str:
    try:
        algorithm, key_id, payload = stored.split(":", 2)
        return CIPHERS[algorithm].decrypt(_key(key_id), base64.b64decode(payload), AAD).decode()
    except DecryptionError:
        raise
    except Exception as exc:  # tampered or foreign value: never return garbage
        raise DecryptionError("加密字段无法解密") from exc


# --- many values at once (an import, a department batch): the key and cipher are looked up once, not per value -


def encryptor() -> Callable[[str], str]:
    """``encrypt_text`` for many values: the active algorithm, key and cipher object resolved once (with AES-GCM
    about half the cost of ``encrypt_text`` per value). The same stored form, a fresh nonce each call."""
    algorithm = settings.FIELD_ENCRYPTION_ALGORITHM
    key_id = settings.FIELD_ENCRYPTION_ACTIVE_KEY
    key = _key(key_id)
    prefix = f"{algorithm}:{key_id}:"
    b64 = base64.b64encode
    if algorithm != "aesgcm":
        cipher = CIPHERS[algorithm]

        def encrypt_other(plaintext: str) -> str:
            return prefix + b64(cipher.encrypt(key, plaintext.encode(), AAD)).decode()

        return encrypt_other
    aead, urandom = _aesgcm(key), os.urandom

    def encrypt(plaintext: str) -> str:
        nonce = urandom(12)
        return prefix + b64(nonce + aead.encrypt(nonce, plaintext.encode(), AAD)).decode()

    return encrypt


def decryptor() -> Callable[[str], str]:
    """``decrypt_text`` for many values: AES-GCM values of the active key with the cipher object resolved once;
    any other value (an older key, another algorithm) through ``decrypt_text``. Raises ``DecryptionError`` alike."""
    key_id = settings.FIELD_ENCRYPTION_ACTIVE_KEY
    try:
        aead = _aesgcm(_key(key_id))
    except (DecryptionError, ValueError):  # no such key, or not hex: each value says so through decrypt_text
        return decrypt_text
    prefix = f"aesgcm:{key_id}:"
    cut = len(prefix)
    b64decode = base64.b64decode

    def decrypt(stored: str) -> str:
        if not stored.startswith(prefix):
            return decrypt_text(stored)
        try:
            token = b64decode(stored[cut:])
            return aead.decrypt(token[:12], token[12:], AAD).decode()
        except Exception:
            return decrypt_text(stored)  # raises DecryptionError

    return decrypt


def indexer(*, purpose: str = "id") -> Callable[[str], str]:
    """``blind_index(value, purpose=purpose)`` for many values: the index key derived once."""
    key, head, digest = _index_key(), f"{purpose}:".encode(), hmac.digest

    def index(value: str) -> str:
        return digest(key, head + value.encode(), "sha256").hex()

    return index


def encrypt_many(values: Iterable[str]) -> list[str]:
    """``encrypt_text`` of each value, in order."""
    return list(map(encryptor(), values))


def decrypt_many(values: Iterable[str]) -> list[str]:
    """``decrypt_text`` of each value, in order (``DecryptionError`` on the first that does not decrypt)."""
    return list(map(decryptor(), values))


def blind_index_many(values: Iterable[str], *, purpose: str = "id") -> list[str]:
    """``blind_index`` of each value, in order."""
    return list(map(indexer(purpose=purpose), values))


def needs_rotation(stored: str) -> bool:
    """True when the value was encrypted under a key or algorithm other than the active ones."""
    prefix = f"{settings.FIELD_ENCRYPTION_ALGORITHM}:{settings.FIELD_ENCRYPTION_ACTIVE_KEY}:"
    return not stored.startswith(prefix)


@cache
def _index_key() -> bytes:
    return hashlib.sha256(b"fangfan-blind-index:" + settings.BLIND_INDEX_KEY.encode()).digest()


def blind_index(value: str, *, purpose: str = "id") -> str:
    """Keyed HMAC-SHA256 (hex, 64 chars) of a normalised value; ``purpose`` separates index families."""
    return hmac.digest(_index_key(), f"{purpose}:{value}".encode(), "sha256").hex()


class EncryptedTextField(models.TextField):
    """Text stored encrypted at rest; Python code sees plaintext. Not searchable: pair it with a blind index."""

    description = "加密文本"

    def from_db_value(self, value: str | None, expression: object, connection: object) -> str | None:
        if value is None or value == "":
            return value
        return decrypt_text(value)

    def get_prep_value(self, value: object) -> object:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_text(str(value))
