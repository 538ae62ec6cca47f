"""``core.client_ip``: X-Forwarded-For is believed only from a trusted proxy, and then only the entry the proxy
itself appended (the right-most one that is not another trusted proxy)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings
from django.urls import reverse

from fangfan.core import client_ip
from fangfan.core.models import AuditEvent


def _request(remote, forwarded=None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


def test_without_trusted_proxies_the_header_is_ignored():
    assert client_ip(_request("198.51.100.7", "1.2.3.4")) == "198.51.100.7"


@override_settings(FANGFAN_TRUSTED_PROXIES=["10.0.0.5", "10.1.0.0/16"])
def test_from_a_trusted_proxy_the_right_most_untrusted_entry_is_the_client():
    assert client_ip(_request("10.0.0.5", "203.0.113.9")) == "203.0.113.9"
    assert client_ip(_request("10.0.0.5", "6.6.6.6, 203.0.113.9")) == "203.0.113.9"  # left part is a claim
    assert client_ip(_request("10.0.0.5", "203.0.113.9, 10.1.2.3")) == "203.0.113.9"  # two proxies
    assert client_ip(_request("10.0.0.5")) == "10.0.0.5"
    assert client_ip(_request("10.0.0.5", "not-an-ip")) == "10.0.0.5"
    assert client_ip(_request("198.51.100.7", "203.0.113.9")) == "198.51.100.7"  # not a proxy of ours


@pytest.mark.django_db
@override_settings(FANGFAN_TRUSTED_PROXIES=["10.0.0.5"])
def test_audit_events_carry_the_address_from_client_ip(client, users):
    client.post(
        reverse("accounts:login"),
        {"username": users["town_station"].username, "password": "Wrong-Password-1"},
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert AuditEvent.objects.filter(action="auth.login_failed").latest("id").ip == "203.0.113.9"
    client.post(
        reverse("accounts:login"),
        {"username": users["town_station"].username, "password": "Wrong-Password-1"},
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert AuditEvent.objects.filter(action="auth.login_failed").latest("id").ip == "198.51.100.7"
