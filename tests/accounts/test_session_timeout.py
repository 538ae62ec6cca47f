"""The idle-session timeout (issue 21.8): a session ends after ``SESSION_IDLE_MINUTES`` without a request and
``SESSION_MAX_HOURS`` after the sign-in whatever the activity; the sign-in page says why in Chinese; an htmx request
after expiry is told to load the sign-in page (HX-Redirect) rather than swapping it into a fragment. The clock is
moved by patching ``accounts.middleware.now``."""

from __future__ import annotations

import pytest
from conftest import PASSWORD
from django.urls import reverse

from fangfan.accounts import middleware

pytestmark = pytest.mark.django_db

HOME = "/"


class Clock:
    def __init__(self, start: float = 1_800_000_000.0):
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, minutes: float) -> None:
        self.t += minutes * 60


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(middleware, "now", c)
    return c


def _sign_in(client, user):
    response = client.post(reverse("accounts:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


def test_settings_default_to_thirty_idle_minutes(settings):
    assert settings.SESSION_IDLE_MINUTES == 30
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_MAX_HOURS * 3600


def test_activity_keeps_the_session_and_idleness_ends_it(client, users, clock, settings):
    _sign_in(client, users["town_station"])
    for _ in range(4):  # a request every 20 minutes: 80 minutes signed in, never 30 idle
        clock.advance(20)
        assert client.get(HOME).status_code == 200
    clock.advance(settings.SESSION_IDLE_MINUTES + 1)
    response = client.get(reverse("registry:household_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?expired=idle")
    page = client.get(response["Location"]).content.decode()
    assert "您已闲置超过 30 分钟，为保护数据安全已自动退出" in page
    # Signed out for good: the old session is gone.
    assert client.get(HOME)["Location"].startswith(reverse("accounts:login"))


def test_the_setting_is_honoured(client, users, clock, settings):
    settings.SESSION_IDLE_MINUTES = 5
    _sign_in(client, users["town_station"])
    clock.advance(4)
    assert client.get(HOME).status_code == 200
    clock.advance(6)
    assert "expired=idle" in client.get(HOME)["Location"]


def test_the_absolute_lifetime_ends_even_a_busy_session(client, users, clock, settings):
    settings.SESSION_MAX_HOURS = 2
    _sign_in(client, users["town_station"])
    for _ in range(11):
        clock.advance(10)
        assert client.get(HOME).status_code == 200
    clock.advance(11)
    response = client.get(HOME)
    assert "expired=max" in response["Location"]
    assert "本次登录已超过 2 小时" in client.get(response["Location"]).content.decode()


def test_an_htmx_request_after_expiry_is_sent_to_the_sign_in_page(client, users, clock, settings):
    _sign_in(client, users["town_station"])
    clock.advance(settings.SESSION_IDLE_MINUTES + 1)
    response = client.get(reverse("registry:household_list"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response.content == b""
    assert response["HX-Redirect"] == reverse("accounts:login") + "?expired=idle"


def test_the_api_is_not_concerned(client, users, clock):
    from fangfan.accounts.tokens import personal_token_issue

    _token, raw = personal_token_issue(
        actor=users["town_station"], user=users["town_station"], name="x", days=1
    )
    clock.advance(600)
    response = client.get("/api/v1/households/999999", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 404
