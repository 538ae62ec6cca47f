"""User administration (系统管理员), account security (安全管理员: unlocking, password resets) and each person's own
password. Thin: parse, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from fangfan.core.errors import DomainError
from fangfan.core.permissions import requires, signed_in
from fangfan.core.scoping import get_for_user_or_404

from . import second_factor, selectors, services
from .forms import (
    PasswordChangeForm,
    PasswordResetForm,
    SecondFactorResetForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
)
from .models import User

PAGE_SIZE = 50


@requires("user.manage")
@require_http_methods(["GET", "HEAD"])
def user_list(request):
    filters = UserFilterForm(request.GET or None, admin=request.user)
    values = filters.cleaned_data if filters.is_valid() else {}
    users = selectors.users_for_admin(
        request.user,
        role=values.get("role", ""),
        region=values.get("region", ""),
        q=values.get("q", ""),
        active=values.get("active", ""),
    )
    page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/user_list.html",
        {"filters": filters, "page": page, "query": query.urlencode()},
    )


@requires("user.manage")
@require_http_methods(["GET", "HEAD", "POST"])
def user_create(request):
    form = UserCreateForm(request.POST or None, admin=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_create(
                actor=request.user,
                username=data["username"],
                password=data["password1"],
                role=data["role"],
                department=data["department"],
                region=data["region"],
                full_name=data["full_name"],
                phone=data["phone"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已创建账号“{user.username}”。")
            return redirect("accounts:user_edit", pk=user.pk)
    return render(request, "accounts/user_form.html", {"form": form})


@requires("user.manage")
@require_http_methods(["GET", "HEAD", "POST"])
def user_edit(request, pk: int):
    user = get_for_user_or_404(User.objects.select_related("region"), request.user, "user.manage", pk=pk)
    initial = {
        "full_name": user.full_name,
        "phone": user.phone,
        "role": user.role,
        "department": user.department,
        "region": user.region_id,
        "is_active": user.is_active,
    }
    form = UserEditForm(
        request.POST if request.method == "POST" else None, initial=initial, admin=request.user
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.user_update(
                actor=request.user,
                user=user,
                role=data["role"],
                department=data["department"],
                region=data["region"],
                is_active=data["is_active"],
                full_name=data["full_name"],
                phone=data["phone"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
            user.refresh_from_db()
        else:
            messages.success(request, f"已保存“{user.username}”的修改。")
            return redirect("accounts:user_edit", pk=user.pk)
    return render(
        request,
        "accounts/user_edit.html",
        {
            "account": user,
            "form": form,
            "is_self": user.pk == request.user.pk,
        },
    )


@requires("security.manage")
@require_http_methods(["GET", "HEAD", "POST"])
def security(request):
    password_form = PasswordResetForm(request.POST if request.POST.get("form") == "password" else None)
    otp_form = SecondFactorResetForm(request.POST if request.POST.get("form") == "otp" else None)
    if request.method == "POST" and otp_form.is_bound:
        if otp_form.is_valid():
            username = otp_form.cleaned_data["username"]
            target = (
                selectors.users_for_admin(request.user, action="user.reset_second_factor")
                .filter(username=username)
                .first()
            )
            try:
                if target is None:
                    raise DomainError(f"账号“{username}”不存在或不在您的管辖范围内")
                second_factor.reset(actor=request.user, user=target)
            except DomainError as exc:
                otp_form.add_error(None, exc.message)
            else:
                messages.success(request, f"已重置“{target.username}”的动态口令：其下次登录时重新绑定。")
                return redirect("accounts:security")
    elif request.method == "POST" and password_form.is_bound:
        if password_form.is_valid():
            data = password_form.cleaned_data
            target = (
                selectors.users_for_admin(request.user, action="user.reset_password")
                .filter(username=data["username"])
                .first()
            )
            try:
                if target is None:
                    raise DomainError(f"账号“{data['username']}”不存在或不在您的管辖范围内")
                services.user_reset_password(actor=request.user, user=target, password=data["password1"])
            except DomainError as exc:
                password_form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    f"已重置“{target.username}”的密码：请当面或电话告知本人，其下次登录时须设置新密码。",
                )
                return redirect("accounts:security")
    elif request.method == "POST":
        username = request.POST.get("username", "")
        try:
            cleared = services.user_unlock(actor=request.user, username=username)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已解锁账号“{username}”（清除 {cleared} 条失败记录）。")
        return redirect("accounts:security")
    return render(
        request,
        "accounts/security.html",
        {
            "locked": selectors.locked_accounts(request.user),
            "failures": selectors.recent_login_failures(request.user),
            "failure_limit": selectors.failure_limit(),
            "password_form": password_form,
            "can_reset": request.user.can("user.reset_password"),
            "otp_form": otp_form,
            "can_reset_otp": request.user.can("user.reset_second_factor"),
        },
    )


@signed_in
@require_http_methods(["GET", "HEAD", "POST"])
def password_change(request):
    """修改密码: every signed-in person, with the old password; required after a reset or a new account."""
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_change_password(
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["password1"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            update_session_auth_hash(request, user)  # stay signed in on this device, out on the others
            messages.success(request, "密码已修改。")
            return redirect("home")
    return render(
        request,
        "accounts/password_change.html",
        {"form": form, "required": request.user.must_change_password},
    )
