"""The public self-report page (农户自主申报, no login): it asks only what is needed, answers the same whether or not
the ID belongs to a registered person, keeps robots and floods out (5 per hour per client address, 300 overall,
counted in the database and told honestly with 429), its sum is single-use and cannot be read from the page, and it
never stores the client's IP address."""

from __future__ import annotations

import re
from datetime import date

import pytest
from conftest import OTHER_VILLAGE, VILLAGE
from django.core import signing
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from monitoring_factory import household
from registry_factory import make_id

from fangfan.core.models import AuditEvent, ThrottleHit, UsedChallenge
from fangfan.monitoring.models import Clue, EarlyWarning, VerificationTask

pytestmark = pytest.mark.django_db
URL = "/report/"


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def _form(client, *, ip="10.0.0.1"):
    """GET the page and solve the sum it shows, as a person does; returns the fields they would send back."""
    page = client.get(URL, REMOTE_ADDR=ip)
    assert page.status_code == 200
    body = page.content.decode()
    token = re.search(r'name="challenge" value="([^"]+)"', body).group(1)
    a, b = re.search(r"(\d) \+ (\d) = ？", body).groups()
    return {"challenge": token, "answer": str(int(a) + int(b))}


def _submit(client, *, ip="10.0.0.1", extra=None, **fields):
    data = {
        "village": VILLAGE,
        "name": "张三",
        "id_number": "",
        "phone": "13812345678",
        "description": "老伴住院花了很多钱",
        "website": "",
        **_form(client, ip=ip),
        **fields,
    }
    return client.post(URL, data, REMOTE_ADDR=ip, **(extra or {}))


def _without_csrf(response) -> str:
    """The page as text, less the per-request CSRF token (the only part that differs between any two requests)."""
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", response.content.decode())


def test_the_page_opens_without_login_and_shows_nobody(client, regions):
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "东风村" in body and "341523104201" in body  # villages by name (the code is only the option value)
    assert 'name="csrfmiddlewaretoken"' in body
    for absent in ("户主", "户编号", "预警"):
        assert absent not in body
    assert client.get(reverse("public:thanks")).status_code == 200


def test_registered_and_unregistered_ids_get_the_identical_answer(client, regions):
    """已登记和未登记的身份证号码得到完全相同的回应：页面不泄露谁在系统中。"""
    registered_id = make_id(date(1960, 4, 4))
    hh = household(members=[("张三", date(1960, 4, 4), "户主", {"id_number": registered_id})])
    unknown_id = make_id(date(1961, 5, 5))

    known = _submit(client, id_number=registered_id)
    unknown = _submit(client, id_number=unknown_id, ip="10.0.0.2")
    nothing = _submit(client, ip="10.0.0.3")
    for response in (known, unknown, nothing):
        assert response.status_code == 302 and response["Location"] == reverse("public:thanks")
    thanks = [_without_csrf(client.get(r["Location"])) for r in (known, unknown, nothing)]
    assert thanks[0] == thanks[1] == thanks[2]

    assert Clue.objects.count() == 3
    linked = Clue.objects.get(id_index__isnull=False, household__isnull=False)
    assert linked.household == hh and linked.state == "linked"
    warning = EarlyWarning.objects.get(household=hh)
    assert warning.channel == "self_report" and warning.state == "verifying"
    assert VerificationTask.objects.filter(household=hh, state="open").exists()
    assert Clue.objects.filter(state="new").count() == 2


def test_a_registered_id_in_another_village_raises_no_warning(client, regions):
    person = make_id(date(1962, 6, 6))
    household(OTHER_VILLAGE, members=[("王二", date(1962, 6, 6), "户主", {"id_number": person})])
    assert _submit(client, id_number=person)["Location"] == reverse("public:thanks")
    assert Clue.objects.get().state == "new"
    assert not EarlyWarning.objects.exists()


def test_personal_fields_are_encrypted_and_the_ip_is_never_stored(client, regions):
    from django.db import connection

    _submit(client, ip="203.0.113.77", id_number=make_id(date(1970, 1, 1)))
    clue = Clue.objects.get()
    assert clue.name == "张三" and clue.phone == "13812345678"
    with connection.cursor() as cur:
        cur.execute(f"SELECT name, phone, id_number FROM {Clue._meta.db_table}")
        raw = cur.fetchone()
    assert "张三" not in raw[0] and "13812345678" not in raw[1]
    events = AuditEvent.objects.filter(action="clue.created")
    assert events.count() == 1 and events.get().ip == ""
    assert not AuditEvent.objects.filter(ip="203.0.113.77").exists()
    assert all("203.0.113.77" not in str(key) for key in getattr(cache, "_cache", {}))
    assert ThrottleHit.objects.exists()
    assert not ThrottleHit.objects.filter(key__contains="203.0.113").exists()


def test_rate_limit_five_per_hour_then_an_honest_429_and_nothing_stored(client, regions):
    """同一来源每小时最多 5 次；第 6 次如实告知“提交过于频繁，请 N 分钟后再试”（429），不保存，也不假装感谢。"""
    for _ in range(5):
        assert _submit(client)["Location"] == reverse("public:thanks")
    assert Clue.objects.count() == 5
    sixth = _submit(client, description="第六次")
    assert sixth.status_code == 429
    body = sixth.content.decode()
    assert re.search(r"提交过于频繁，请 \d+ 分钟后再试", body)
    assert "第六次" in body  # what was typed is kept for later
    assert 0 < int(sixth["Retry-After"]) <= 3600
    assert Clue.objects.count() == 5
    # The limit is in the database, not in one process's memory: a cleared cache (another worker) changes nothing.
    cache.clear()
    assert _submit(client).status_code == 429
    # Another client is not affected.
    assert _submit(client, ip="10.9.9.9")["Location"] == reverse("public:thanks")
    assert Clue.objects.count() == 6
    # Only keyed hashes of addresses are stored.
    assert not ThrottleHit.objects.filter(key__contains="10.0.0.1").exists()


def test_the_overall_limit_holds_against_many_addresses(client, regions, monkeypatch):
    from fangfan.core import throttle
    from fangfan.monitoring import public_views

    monkeypatch.setattr(
        public_views, "OVERALL", throttle.Limit("self-report-all", 3, public_views.OVERALL.window)
    )
    for n in range(3):
        assert _submit(client, ip=f"10.1.0.{n}").status_code == 302
    refused = _submit(client, ip="10.1.0.99")
    assert refused.status_code == 429 and "提交过于频繁" in refused.content.decode()
    assert Clue.objects.count() == 3


def test_x_forwarded_for_from_an_untrusted_address_is_ignored(client, regions):
    """伪造 X-Forwarded-For 不能绕过限制：只有来自受信代理的该请求头才被采信。"""
    for n in range(5):
        assert _submit(client, extra={"HTTP_X_FORWARDED_FOR": f"198.51.100.{n}"}).status_code == 302
    assert _submit(client, extra={"HTTP_X_FORWARDED_FOR": "198.51.100.200"}).status_code == 429


@override_settings(FANGFAN_TRUSTED_PROXIES=["10.0.0.1"])
def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(client, regions):
    for _ in range(5):
        assert _submit(client, extra={"HTTP_X_FORWARDED_FOR": "203.0.113.5"}).status_code == 302
    assert _submit(client, extra={"HTTP_X_FORWARDED_FOR": "203.0.113.5"}).status_code == 429
    # Another client behind the same proxy; a spoofed left-most entry does not count, the proxy's own does.
    other = _submit(client, extra={"HTTP_X_FORWARDED_FOR": "203.0.113.5, 203.0.113.6"})
    assert other.status_code == 302


def test_a_used_challenge_cannot_be_replayed(client, regions):
    """验证题只能用一次：重放已用过的题目和答案被拒绝。"""
    fields = _form(client)
    data = {"village": VILLAGE, "name": "张三", "phone": "13812345678", "description": "困难", **fields}
    assert client.post(URL, data, REMOTE_ADDR="10.0.0.1").status_code == 302
    replay = client.post(URL, data, REMOTE_ADDR="10.0.0.2")
    assert replay.status_code == 200 and "计算结果不对" in replay.content.decode()
    assert Clue.objects.count() == 1
    assert UsedChallenge.objects.count() == 1
    # A wrong answer spends the challenge too: no second guess with the same token.
    fields = _form(client)
    data["challenge"], data["answer"] = fields["challenge"], str(int(fields["answer"]) + 1)
    assert client.post(URL, data, REMOTE_ADDR="10.0.0.3").status_code == 200
    data["answer"] = fields["answer"]
    assert client.post(URL, data, REMOTE_ADDR="10.0.0.3").status_code == 200
    assert Clue.objects.count() == 1


def test_the_answer_cannot_be_read_from_the_page(client, regions):
    page = client.get(URL).content.decode()
    token = re.search(r'name="challenge" value="([^"]+)"', page).group(1)
    with pytest.raises(signing.BadSignature):
        signing.loads(token, salt="fangfan.public-report.captcha")
    import base64

    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    # Encrypted, not merely signed: none of a JSON payload's keys is there in clear (3-byte patterns: a chance match
    # in random ciphertext is about one in a hundred thousand, where a lone '{' turned up every few hundred runs).
    assert not any(key in raw for key in (b'"s"', b'"a"', b'"answer"', b'"sum"'))


def test_robots_filling_the_trap_field_are_thanked_and_forgotten(client, regions):
    response = _submit(client, website="http://spam.example")
    assert response["Location"] == reverse("public:thanks")
    assert not Clue.objects.exists()


def test_a_wrong_sum_or_missing_fields_show_the_form_again(client, regions):
    wrong = _submit(client, answer="999")
    assert wrong.status_code == 200 and "计算结果不对" in wrong.content.decode()
    missing = _submit(client, name="", description="")
    assert missing.status_code == 200 and "必填" in missing.content.decode()
    bad_id = _submit(client, id_number="123456")
    assert bad_id.status_code == 200 and "身份证号码格式不正确" in bad_id.content.decode()
    forged = _submit(client, challenge="forged", answer="2")
    assert forged.status_code == 200
    assert not Clue.objects.exists()


def test_csrf_is_enforced(regions):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(URL, {"village": VILLAGE, "name": "x", "phone": "13800000000", "description": "x"})
    assert response.status_code == 403
    assert not Clue.objects.exists()
