"""Encrypted fields and blind indexes."""

from __future__ import annotations

import pytest
from django.test import override_settings

from fangfan.core import crypto


def test_round_trip_and_random_nonce():
    a, b = crypto.encrypt_text("11010519491231002X"), crypto.encrypt_text("11010519491231002X")
    assert a != b
    assert a.startswith("aesgcm:")
    assert crypto.decrypt_text(a) == crypto.decrypt_text(b) == "11010519491231002X"
    assert "1101051949" not in a


def test_tampered_value_is_refused():
    token = crypto.encrypt_text("secret")
    algorithm, key_id, payload = token.split(":", 2)
    flipped = payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_text(f"{algorithm}:{key_id}:{flipped}")


def test_key_rotation_old_values_still_decrypt():
    from django.conf import settings

    old = crypto.encrypt_text("旧密钥加密")
    keys = {**settings.FIELD_ENCRYPTION_KEYS, "k9": "ab" * 32}
    crypto._key.cache_clear()
    try:
        with override_settings(FIELD_ENCRYPTION_KEYS=keys, FIELD_ENCRYPTION_ACTIVE_KEY="k9"):
            new = crypto.encrypt_text("新密钥加密")
            assert new.split(":")[1] == "k9"
            assert crypto.decrypt_text(old) == "旧密钥加密"
            assert crypto.needs_rotation(old) and not crypto.needs_rotation(new)
    finally:
        crypto._key.cache_clear()


def test_pluggable_algorithm():
    class Reversing:
        def encrypt(self, key, plaintext, aad):
            return plaintext[::-1]

        def decrypt(self, key, token, aad):
            return token[::-1]

    crypto.register_cipher("test-rev", Reversing())
    try:
        with override_settings(FIELD_ENCRYPTION_ALGORITHM="test-rev"):
            token = crypto.encrypt_text("abc")
            assert token.startswith("test-rev:")
            assert crypto.decrypt_text(token) == "abc"
    finally:
        crypto.CIPHERS.pop("test-rev")


def test_blind_index_is_keyed_and_separates_purposes():
    value = "11010519491231002X"
    assert crypto.blind_index(value) == crypto.blind_index(value)
    assert crypto.blind_index(value) != crypto.blind_index(value, purpose="phone")
    assert len(crypto.blind_index(value)) == 64
    import hashlib

    assert crypto.blind_index(value) != hashlib.sha256(value.encode()).hexdigest()


def test_batch_functions_agree_with_one_value_at_a_time():
    values = ["34152319700101001X", "110105194912310021", "13800138000", "校验 0123456789X"]
    tokens = crypto.encrypt_many(values)
    assert [t.split(":", 2)[:2] for t in tokens] == [crypto.encrypt_text("x").split(":", 2)[:2]] * len(values)
    assert [crypto.decrypt_text(t) for t in tokens] == values == crypto.decrypt_many(tokens)
    assert crypto.decrypt_many([crypto.encrypt_text(v) for v in values]) == values
    assert crypto.encrypt_many(["x", "x"])[0] != crypto.encrypt_many(["x"])[0]  # a fresh nonce each time
    assert crypto.blind_index_many(values) == [crypto.blind_index(v) for v in values]
    assert crypto.blind_index_many(values, purpose="phone") == [
        crypto.blind_index(v, purpose="phone") for v in values
    ]
    assert crypto.blind_index_many(values[:1], purpose="phone") != crypto.blind_index_many(values[:1])


def test_decrypt_many_reads_older_keys_and_refuses_tampered_values():
    from django.conf import settings

    old = crypto.encrypt_text("旧密钥加密")
    keys = {**settings.FIELD_ENCRYPTION_KEYS, "k9": "ab" * 32}
    crypto._key.cache_clear()
    try:
        with override_settings(FIELD_ENCRYPTION_KEYS=keys, FIELD_ENCRYPTION_ACTIVE_KEY="k9"):
            new = crypto.encrypt_many(["新密钥加密"])[0]
            assert new.split(":")[1] == "k9"
            assert crypto.decrypt_many([old, new]) == ["旧密钥加密", "新密钥加密"]
            flipped = new[:-4] + ("AAAA" if new[-4:] != "AAAA" else "BBBB")
            with pytest.raises(crypto.DecryptionError):
                crypto.decrypt_many([flipped])
    finally:
        crypto._key.cache_clear()


def test_encrypt_many_with_a_registered_algorithm():
    class Reverse:
        def encrypt(self, key, plaintext, aad):
            return plaintext[::-1]

        def decrypt(self, key, token, aad):
            return token[::-1]

    crypto.register_cipher("rev", Reverse())
    try:
        with override_settings(FIELD_ENCRYPTION_ALGORITHM="rev"):
            tokens = crypto.encrypt_many(["abc"])
            assert tokens[0].startswith("rev:") and crypto.decrypt_many(tokens) == ["abc"]
    finally:
        crypto.CIPHERS.pop("rev")
