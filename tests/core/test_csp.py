"""The Content-Security-Policy without 'unsafe-inline' (issue 21.8): the policy itself, the checker the permission
matrix runs on every page it opens (tests/csp_support.py), and the pieces that used to need inline styles — the
progress bar, htmx's indicator. The browser's own verdict: tests/test_browser_csp.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import VILLAGE
from csp_support import csp_problems
from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.urls import reverse
from django.utils.csp import CSP

from fangfan.core.models import Job


def _directive(policy: str, name: str) -> str:
    return next(part.strip() for part in policy.split(";") if part.strip().startswith(name + " "))


def test_the_policy_allows_styles_and_scripts_from_our_origin_only():
    assert settings.SECURE_CSP["style-src"] == [CSP.SELF]
    assert CSP.UNSAFE_INLINE not in settings.SECURE_CSP["script-src"]
    assert not any("unsafe" in str(v) for values in settings.SECURE_CSP.values() for v in values)


@pytest.mark.django_db
def test_the_header_says_so(client, users):
    for url in (reverse("accounts:login"), reverse("home")):
        policy = client.get(url)["Content-Security-Policy"]
        assert _directive(policy, "style-src") == "style-src 'self'"
        assert "unsafe" not in policy
        client.force_login(users["town_station"])


def test_the_checker_finds_inline_styles_and_scripts():
    def page(body: str) -> HttpResponse:
        response = HttpResponse(f"<html><body>{body}</body></html>", content_type="text/html; charset=utf-8")
        response["Content-Security-Policy"] = "default-src 'self'"
        return response

    assert csp_problems(page('<div class="x">style="not an attribute"</div>')) == []
    assert csp_problems(page('<script id="d" type="application/json">{"a": 1}</script>')) == []
    assert csp_problems(page('<script src="/static/x.js" defer></script>')) == []
    assert csp_problems(page('<div\n  class="x" style="width: 5%">')) != []
    assert csp_problems(page("<style>p { color: red }</style>")) != []
    assert csp_problems(page('<input type="checkbox" onclick="tick(this)">')) != []
    assert csp_problems(page('<input type="checkbox" data-check-all="f" aria-label="全选">')) == []
    assert csp_problems(page("<script>alert(1)</script>")) != []
    unsafe = page("")
    unsafe["Content-Security-Policy"] = "style-src 'self' 'unsafe-inline'"
    assert csp_problems(unsafe) != []


@pytest.mark.django_db
def test_a_job_progress_bar_is_drawn_by_a_class(client, users):
    job = Job.objects.create(
        kind="screening",
        title="东风村测试任务",
        region_code=VILLAGE,
        created_by=users["town_station"],
        state="running",
        progress=37,
        total=100,
    )
    client.force_login(users["town_station"])
    response = client.get(reverse("core:job_detail", args=[job.pk]))
    assert response.status_code == 200
    assert "pct-37" in response.content.decode()
    assert csp_problems(response) == []
    css = Path(finders.find("fangfan/app.css")).read_text(encoding="utf-8")
    assert ".pct-37 { width: 37%; }" in css and ".pct-100 { width: 100%; }" in css


@pytest.mark.django_db
def test_htmx_is_told_not_to_inject_its_indicator_style(client, users):
    client.force_login(users["village_clerk"])
    html = client.get(reverse("home")).content.decode()
    assert '"includeIndicatorStyles": false' in html
    css = Path(finders.find("fangfan/app.css")).read_text(encoding="utf-8")
    assert ".htmx-indicator" in css
