"""User administration (系统管理员) and account security (安全管理员). Placeholder until written."""

from django.http import HttpResponse

from fangfan.core.permissions import requires


@requires("user.manage")
def user_list(request):
    return HttpResponse("")


user_create = user_edit = user_list


@requires("security.manage")
def security(request):
    return HttpResponse("")
