"""A refused request (403) is logged as one line naming the path and the missing action, never a traceback."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_403_logs_one_line_without_a_traceback(client, users, caplog):
    client.force_login(users["helper"])
    url = reverse("accounts:user_list")
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(url)
    assert response.status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 1
    record = records[0]
    assert record.getMessage() == f"Forbidden (403): {url} action=user.manage"
    assert record.exc_info is None and not record.exc_text
    assert "Traceback" not in caplog.text
