"""Rotation of the field keys (issue 21.8): ``fangfan rotate-keys`` re-encrypts every encrypted field under the
active key in batches; a run killed with SIGKILL after a batch committed resumes when run again, and in the end
every value decrypts, under the new key, to what it was — nothing lost, nothing encrypted twice. On SQLite, or on
PostgreSQL when the suite runs there."""

from __future__ import annotations

import json
import secrets
import signal
import time
from datetime import date

import pytest
from conftest import OTHER_VILLAGE, VILLAGE
from django.db import connection
from instance_support import decrypt, new_instance
from registry_factory import make_household

from fangfan.core import crypto
from fangfan.core.keyrotation import count_stale, encrypted_tables, rotate_keys
from fangfan.core.models import AuditEvent
from fangfan.registry.models import Household, Member

OLD, NEW = "aa" * 32, "bb" * 32


@pytest.fixture
def fresh_key_cache():
    crypto._key.cache_clear()
    yield
    crypto._key.cache_clear()


def _raw(table: str, column: str) -> dict:
    with connection.cursor() as cur:
        cur.execute(f"SELECT id, {column} FROM {table} ORDER BY id")
        return dict(cur.fetchall())


def test_rotation_re_encrypts_every_field_in_batches_and_is_idempotent(db, users, settings, fresh_key_cache):
    settings.FIELD_ENCRYPTION_KEYS, settings.FIELD_ENCRYPTION_ACTIVE_KEY = {"k1": OLD}, "k1"
    for i in range(4):
        make_household(
            f"H-ROT-{i}",
            VILLAGE if i % 2 else OTHER_VILLAGE,
            phone=f"1390000000{i}",
            members=[
                ("张三", date(1970, 5, 1), "户主"),
                ("李四", date(1972, 3, 9), "配偶", {"phone": "13812345678"}),
            ],
        )
    before = {m.pk: (m.id_number, m.phone, m.id_index) for m in Member.objects.unscoped()}
    phones = {h.pk: h.phone for h in Household.objects.unscoped()}
    assert all(v.startswith("aesgcm:k1:") for v in _raw("registry_member", "id_number").values())

    settings.FIELD_ENCRYPTION_KEYS, settings.FIELD_ENCRYPTION_ACTIVE_KEY = {"k1": OLD, "k2": NEW}, "k2"
    seen = []
    summary = rotate_keys(actor=users["sys_admin"], batch_size=3, report=lambda *a: seen.append(a))
    assert summary.tables["registry.Member"] == 8 and summary.tables["registry.Household"] == 4
    assert ("registry.Member", 3, 8) in seen and ("registry.Member", 8, 8) in seen  # progress, batch by batch
    for column in ("id_number", "phone"):
        assert all(v == "" or v.startswith("aesgcm:k2:") for v in _raw("registry_member", column).values())
    assert all(v.startswith("aesgcm:k2:") for v in _raw("registry_household", "phone").values())
    # the same plaintexts; the blind indexes (their own key) untouched
    assert {m.pk: (m.id_number, m.phone, m.id_index) for m in Member.objects.unscoped()} == before
    assert {h.pk: h.phone for h in Household.objects.unscoped()} == phones
    assert all(count_stale(t) == 0 for t in encrypted_tables())
    event = AuditEvent.objects.get(action="crypto.keys_rotated")
    assert event.after["rows"] == 12 and event.after["key"] == "k2"

    again = rotate_keys(actor=users["sys_admin"], batch_size=3)
    assert again.rows == 0 and "无需轮换" in again.describe()
    assert AuditEvent.objects.filter(action="crypto.keys_rotated").count() == 1


def test_a_value_no_configured_key_decrypts_stops_the_rotation_with_a_clear_message(
    db, users, settings, fresh_key_cache
):
    settings.FIELD_ENCRYPTION_KEYS, settings.FIELD_ENCRYPTION_ACTIVE_KEY = {"k1": OLD}, "k1"
    make_household("H-ROT-X", VILLAGE)
    settings.FIELD_ENCRYPTION_KEYS, settings.FIELD_ENCRYPTION_ACTIVE_KEY = {"k2": NEW}, "k2"  # k1 forgotten
    crypto._key.cache_clear()
    from fangfan.core.errors import DomainError

    with pytest.raises(DomainError, match="registry.Member 第 .* 行的加密字段无法解密.*所有旧密钥"):
        rotate_keys(actor=users["sys_admin"])


def _prefixed(instance, key_id: str) -> int:
    return instance.query(f"SELECT COUNT(*) FROM registry_member WHERE id_number LIKE 'aesgcm:{key_id}:%'")[
        0
    ][0]


def test_a_rotation_killed_after_a_batch_resumes_and_loses_nothing(tmp_path):
    instance = new_instance(tmp_path)
    old_keys = instance.secrets()["field_keys"]
    keys = {**old_keys, "k2": secrets.token_hex(32)}
    env = instance.env(FANGFAN_FIELD_KEYS=json.dumps(keys))
    members = dict(instance.query("SELECT id, id_number FROM registry_member"))
    households = dict(instance.query("SELECT id, phone FROM registry_household"))
    plain = {pk: decrypt(v, old_keys) for pk, v in members.items()}
    assert len(plain) > 60

    batch = 20
    proc = instance.popen("rotate-keys", "--batch-size", str(batch), "--pause", "2", env=env)
    deadline = time.monotonic() + 300
    try:
        while _prefixed(instance, "k2") == 0 and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    rotated = _prefixed(instance, "k2")
    assert 0 < rotated < len(plain) and rotated % batch == 0  # whole batches only

    check = instance.run("rotate-keys", "--check", env=env)
    assert f"{len(plain) - rotated} 行待重新加密" in check.stdout
    done = instance.run("rotate-keys", "--batch-size", str(batch), env=env)
    assert "改用密钥 k2 重新加密" in done.stdout

    after = dict(instance.query("SELECT id, id_number FROM registry_member"))
    assert after.keys() == plain.keys()
    assert all(v.startswith("aesgcm:k2:") for v in after.values())
    assert {pk: decrypt(v, {"k2": keys["k2"]}) for pk, v in after.items()} == plain
    phones = dict(instance.query("SELECT id, phone FROM registry_household"))
    assert phones.keys() == households.keys()
    assert {pk: decrypt(v, {"k2": keys["k2"]}) for pk, v in phones.items() if v} == {
        pk: decrypt(v, old_keys) for pk, v in households.items() if v
    }
    assert "无需轮换" in instance.run("rotate-keys", env=env).stdout
    assert instance.run("verify-audit", env=env).returncode == 0
    assert (
        instance.query("SELECT COUNT(*) FROM core_auditevent WHERE action = 'crypto.keys_rotated'")[0][0] == 1
    )
