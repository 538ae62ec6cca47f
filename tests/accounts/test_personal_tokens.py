"""Personal API tokens (``accounts.tokens``): who may hold one, only the hash stored, issuing and revoking audited
(never the token), ``fangfan issue-token`` printing the token alone on its last line, and the 接口令牌 section of
the user's own account page (the new token shown once, revoking one's own tokens only)."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from fangfan.accounts.models import PersonalToken, User
from fangfan.accounts.tokens import (
    personal_token_authenticate,
    personal_token_issue,
    personal_token_revoke,
)
from fangfan.core.errors import DomainError
from fangfan.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_数据库只存令牌的哈希_审计不含令牌(users):
    clerk = users["village_clerk"]
    token, raw = personal_token_issue(actor=clerk, user=clerk, name="同步脚本")
    assert raw.startswith("ffp_") and len(raw) >= 40
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {PersonalToken._meta.db_table}")  # noqa: S608 - our own table name
        rows = cursor.fetchall()
    assert rows and not any(raw in str(value) for row in rows for value in row)
    personal_token_revoke(actor=clerk, token=token)
    events = AuditEvent.objects.filter(action__startswith="personal_token.")
    assert [e.action for e in events.order_by("id")] == ["personal_token.issued", "personal_token.revoked"]
    for event in events:
        dumped = json.dumps([event.before, event.after, event.note, event.object_label], ensure_ascii=False)
        assert raw not in dumped and token.token_hash not in dumped
        assert event.actor_username == clerk.username


def test_默认90天到期_可指定天数(users):
    clerk = users["village_clerk"]
    token, _raw = personal_token_issue(actor=clerk, user=clerk)
    assert abs(token.expires_at - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)
    token, _raw = personal_token_issue(actor=clerk, user=clerk, days=7)
    assert abs(token.expires_at - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    for days in (0, 366, -1):
        with pytest.raises(DomainError, match="有效期"):
            personal_token_issue(actor=clerk, user=clerk, days=days)


@pytest.mark.parametrize("who", ["sys_admin", "sec_admin", "audit_admin"])
def test_三员不能持有令牌(users, who):
    admin = users[who]
    with pytest.raises(DomainError, match="不能持有接口令牌"):
        personal_token_issue(actor=admin, user=admin)
    assert not PersonalToken.objects.exists()


def test_命令行账号与停用账号不能持有令牌(users):
    cli = User.objects.cli_account("ops")
    with pytest.raises(DomainError, match="不能持有接口令牌"):
        personal_token_issue(actor=cli, user=cli)
    clerk = users["village_clerk"]
    clerk.is_active = False
    clerk.save(update_fields=["is_active"])
    with pytest.raises(DomainError, match="已停用"):
        personal_token_issue(actor=cli, user=clerk)


def test_只能为自己签发和吊销(users):
    clerk, station = users["village_clerk"], users["town_station"]
    with pytest.raises(DomainError, match="自己"):
        personal_token_issue(actor=station, user=clerk)
    token, _raw = personal_token_issue(actor=clerk, user=clerk)
    with pytest.raises(DomainError, match="自己"):
        personal_token_revoke(actor=station, token=token)


def test_认证_有效过期吊销(users):
    clerk = users["village_clerk"]
    token, raw = personal_token_issue(actor=clerk, user=clerk)
    assert personal_token_authenticate(raw) == (clerk, token)
    assert personal_token_authenticate(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    assert personal_token_authenticate("ffd_" + raw[4:]) is None
    PersonalToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
    assert personal_token_authenticate(raw) is None


# --- fangfan issue-token ----------------------------------------------------------------------------------------


def test_issue_token命令_最后一行只有令牌(users):
    out = io.StringIO()
    call_command(
        "issue-token", users["town_station"].username, "--days", "30", "--name", "县平台", stdout=out
    )
    last = out.getvalue().rstrip("\n").splitlines()[-1]
    token = PersonalToken.objects.get()
    assert last.startswith("ffp_") and " " not in last
    assert token.token_hash == hashlib.sha256(last.encode()).hexdigest()
    assert token.name == "县平台" and token.user == users["town_station"]
    assert abs(token.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    event = AuditEvent.objects.get(action="personal_token.issued")
    assert event.actor_username.startswith("cli-")


def test_issue_token命令_中文错误(users):
    with pytest.raises(CommandError, match="账号“nobody”不存在"):
        call_command("issue-token", "nobody", stdout=io.StringIO())
    with pytest.raises(CommandError, match="不能持有接口令牌"):
        call_command("issue-token", users["sys_admin"].username, stdout=io.StringIO())
    with pytest.raises(CommandError, match="有效期"):
        call_command("issue-token", users["village_clerk"].username, "--days", "0", stdout=io.StringIO())
    assert not PersonalToken.objects.exists()


# --- 我的账号 → 接口令牌 ---------------------------------------------------------------------------------------


def test_我的账号页_签发令牌只显示一次(client, users):
    clerk = users["village_clerk"]
    client.force_login(clerk)
    page = client.get(reverse("accounts:account"))
    assert page.status_code == 200 and "接口令牌" in page.content.decode()
    response = client.post(reverse("accounts:token_issue"), {"name": "我的脚本", "days": "30"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    token = PersonalToken.objects.get(user=clerk)
    raw = body.split('class="user-select-all d-block text-break">')[1].split("<")[0]
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    again = client.get(reverse("accounts:account")).content.decode()
    assert raw not in again and "我的脚本" in again and "有效" in again


def test_我的账号页_名称过长或天数不对不签发(client, users):
    client.force_login(users["village_clerk"])
    response = client.post(reverse("accounts:token_issue"), {"name": "x", "days": "400"})
    assert response.status_code == 400
    assert not PersonalToken.objects.exists()


def test_我的账号页_吊销自己的令牌_别人的404(client, users):
    clerk, helper = users["village_clerk"], users["helper"]
    mine, _raw = personal_token_issue(actor=clerk, user=clerk)
    theirs, _raw = personal_token_issue(actor=helper, user=helper)
    client.force_login(clerk)
    assert client.post(reverse("accounts:token_revoke", args=[theirs.pk])).status_code == 404
    response = client.post(reverse("accounts:token_revoke", args=[mine.pk]))
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None
    assert "已吊销" in client.get(reverse("accounts:account")).content.decode()


def test_管理员的账号页没有接口令牌(client, users):
    admin = users["sys_admin"]
    client.force_login(admin)
    page = client.get(reverse("accounts:account"))
    assert page.status_code == 200 and 'data-testid="api-tokens"' not in page.content.decode()
    assert client.post(reverse("accounts:token_issue"), {"days": "30"}).status_code == 403
