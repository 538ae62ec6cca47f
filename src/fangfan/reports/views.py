"""The start page: what a person of this role should look at first."""

from __future__ import annotations

from django.shortcuts import render

from fangfan.core.permissions import requires


@requires("region.view")
def home(request):
    return render(request, "reports/home.html", {})
