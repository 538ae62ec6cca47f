from django.urls import path

from . import admin_views, otp_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("2fa/", otp_views.otp_verify, name="otp_verify"),
    path("2fa/enrol/", otp_views.otp_enrol, name="otp_enrol"),
    path("2fa/enrol/qr.svg", otp_views.otp_qr, name="otp_qr"),
    path("me/recovery-codes/", otp_views.otp_recovery, name="otp_recovery"),
    path("me/", views.account, name="account"),
    path("me/tokens/", views.token_issue, name="token_issue"),
    path("me/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("users/", admin_views.user_list, name="user_list"),
    path("users/new/", admin_views.user_create, name="user_create"),
    path("users/<int:pk>/", admin_views.user_edit, name="user_edit"),
    path("security/", admin_views.security, name="security"),
    path("password/", admin_views.password_change, name="password_change"),
]
