"""Region pages. Placeholder until written."""

from django.http import HttpResponse

from fangfan.core.permissions import requires


@requires("region.manage")
def region_list(request):
    return HttpResponse("")
