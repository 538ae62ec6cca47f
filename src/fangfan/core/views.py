"""Platform pages: the audit log (read-only, for the audit administrator), background jobs, error pages."""

from django.http import HttpResponse
from django.shortcuts import render

from .permissions import requires


@requires("audit.view")
def audit_list(request):
    return HttpResponse("")


@requires("audit.export")
def audit_export(request):
    return HttpResponse("")


@requires("job.view")
def job_list(request):
    return HttpResponse("")


@requires("job.view")
def job_detail(request, pk):
    return HttpResponse("")


def forbidden(request, exception=None):
    return render(request, "403.html", status=403)


def not_found(request, exception=None):
    return render(request, "404.html", status=404)
