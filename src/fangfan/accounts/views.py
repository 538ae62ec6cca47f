"""Sign-in and sign-out, and the user's own account page (我的账号: who they are, their personal API tokens).
User and security administration pages live in ``admin_views``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from fangfan.core import throttle
from fangfan.core.errors import DomainError
from fangfan.core.permissions import public, requires

from . import second_factor, services, tokens
from .forms import TokenIssueForm
from .models import PersonalToken
from .roles import TOKEN_ACTION


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "账号或密码不正确。连续输错多次后账号将被暂时锁定。",
        "inactive": "该账号已停用，请联系系统管理员。",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "账号"
        self.fields["password"].label = "密码"
        self.fields["username"].widget.attrs.update({"class": "form-control", "autocomplete": "username"})
        self.fields["password"].widget.attrs.update(
            {"class": "form-control", "autocomplete": "current-password"}
        )


@method_decorator(never_cache, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    EXPIRED = {
        "idle": "您已闲置超过 {minutes} 分钟，为保护数据安全已自动退出，请重新登录。",
        "max": "本次登录已超过 {hours} 小时，为保护数据安全已自动退出，请重新登录。",
    }

    def get_context_data(self, **kwargs):
        from django.conf import settings

        context = super().get_context_data(**kwargs)
        reason = self.EXPIRED.get(self.request.GET.get("expired", ""))
        if reason:
            context["expired"] = reason.format(
                minutes=settings.SESSION_IDLE_MINUTES, hours=settings.SESSION_MAX_HOURS
            )
        context["idle_minutes"] = settings.SESSION_IDLE_MINUTES
        context["failure_limit"] = settings.AXES_FAILURE_LIMIT
        return context

    def post(self, request, *args, **kwargs):
        wait = services.login_address_wait(request)
        if wait:
            form = self.get_form_class()(request)
            context = self.get_context_data(form=form)
            context["throttled"] = f"本地址登录失败次数过多，请 {throttle.minutes(wait)} 分钟后再试。"
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)


login_view = public(LoginView.as_view())
logout_view = public(auth_views.LogoutView.as_view())


def _account_page(request, form: TokenIssueForm | None = None, new_token: str = "", status: int = 200):
    user = request.user
    may_hold = user.can(TOKEN_ACTION)
    context = {
        "may_hold": may_hold,
        "tokens": tokens.tokens_of(user) if may_hold else [],
        "form": form or TokenIssueForm(),
        "new_token": new_token,
        "otp": {
            "enrolled": second_factor.has_device(user),
            "required": second_factor.required_for(user),
            "recovery_left": second_factor.recovery_codes_left(user),
        },
    }
    return render(request, "accounts/account.html", context, status=status)


@requires("region.view")
@require_http_methods(["GET", "HEAD"])
@never_cache
def account(request):
    """我的账号: every signed-in user's own page; the 接口令牌 section for the roles that may hold tokens."""
    return _account_page(request)


@requires(TOKEN_ACTION)
@require_POST
@never_cache
def token_issue(request):
    """Issue a personal token; the page shows it this once (it is not kept in the session or a message)."""
    form = TokenIssueForm(request.POST)
    if not form.is_valid():
        return _account_page(request, form, status=400)
    try:
        _token, raw = tokens.personal_token_issue(
            actor=request.user,
            user=request.user,
            name=form.cleaned_data["name"],
            days=form.cleaned_data["days"],
        )
    except DomainError as exc:
        form.add_error(None, exc.message)
        return _account_page(request, form, status=400)
    return _account_page(request, new_token=raw)


@requires(TOKEN_ACTION)
@require_POST
def token_revoke(request, pk: int):
    """Revoke one of one's own tokens; another's token does not exist here (404)."""
    token = PersonalToken.objects.filter(pk=pk, user=request.user).select_related("user").first()
    if token is None:
        raise Http404("令牌不存在")
    tokens.personal_token_revoke(actor=request.user, token=token)
    messages.success(request, f"已吊销接口令牌“{token}”，使用它的请求将被拒绝。")
    return redirect("accounts:account")
