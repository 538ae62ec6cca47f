"""The second factor's pages: the code after the password, enrolment (QR code, key, recovery codes), new recovery
codes. Thin: the rules are in ``second_factor``. The security administrator's reset is on the 账号安全 page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from fangfan.core.errors import DomainError
from fangfan.core.permissions import signed_in

from . import second_factor
from .forms import EnrolForm, SecondFactorForm


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return ""


def _continue(request):
    return redirect(_next(request) or "home")


@signed_in
@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def otp_verify(request):
    """两步验证: the code after the password, for a person who has a device."""
    user = request.user
    if not second_factor.is_pending(request):
        return _continue(request)
    if not second_factor.has_device(user):
        query = f"?{urlencode({'next': _next(request)})}" if _next(request) else ""
        return redirect(reverse("accounts:otp_enrol") + query)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = second_factor.verify(request, user=user, token=form.cleaned_data["token"])
        if result.locked:
            return render(request, "accounts/locked.html", {"second_factor": True}, status=429)
        if result.ok:
            if result.recovery_left is not None:
                level = messages.warning if result.recovery_left <= 3 else messages.info
                level(
                    request,
                    f"已用恢复码登录，还剩 {result.recovery_left} 个。请尽快在“我的账号”中重新生成恢复码。"
                    if result.recovery_left <= 3
                    else f"已用恢复码登录，还剩 {result.recovery_left} 个恢复码。",
                )
            return _continue(request)
        form.add_error("token", "验证码不正确。连续输错多次后账号将被暂时锁定。")
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _next(request)})


@signed_in
@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def otp_enrol(request):
    """绑定动态口令: a QR code and the key; confirmed with a code, then the recovery codes are shown once."""
    user = request.user
    if second_factor.has_device(user):
        messages.info(request, "您已绑定动态口令。如需更换手机，请联系安全管理员重置。")
        return redirect("accounts:account")
    device = second_factor.pending_device(user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = second_factor.enrol_confirm(request, user=user, token=form.cleaned_data["token"])
        except DomainError as exc:
            form.add_error("token", exc.message)
        else:
            return render(
                request,
                "accounts/otp_recovery_codes.html",
                {"codes": codes, "next": _next(request), "enrolled": True},
            )
    return render(
        request,
        "accounts/otp_enrol.html",
        {
            "form": form,
            "key": second_factor.manual_key(device),
            "required": second_factor.required_for(user),
            "next": _next(request),
        },
    )


@signed_in
@require_http_methods(["GET", "HEAD"])
@never_cache
def otp_qr(request):
    """The enrolment QR code of the person's own pending device, as SVG."""
    if second_factor.has_device(request.user):
        return redirect("accounts:account")
    device = second_factor.pending_device(request.user)
    response = HttpResponse(second_factor.qr_svg(device), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response


@signed_in
@require_POST
@never_cache
def otp_recovery(request):
    """New recovery codes (the old ones stop working), shown once."""
    try:
        codes = second_factor.recovery_codes_regenerate(user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:account")
    return render(request, "accounts/otp_recovery_codes.html", {"codes": codes, "enrolled": False})
