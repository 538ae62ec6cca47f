from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "fangfan.accounts"
    label = "accounts"
    verbose_name = "账号与权限"

    def ready(self) -> None:
        from django.contrib.auth import signals

        from . import services

        # Sign-ins, sign-outs and failed sign-ins go to the audit chain (等保 2.0: 安全审计).
        signals.user_logged_in.connect(services.record_login, dispatch_uid="fangfan.audit.login")
        # Then the idle-timeout clocks and the second factor owed (accounts.middleware, accounts.second_factor).
        signals.user_logged_in.connect(services.session_started, dispatch_uid="fangfan.session_started")
        signals.user_logged_out.connect(services.record_logout, dispatch_uid="fangfan.audit.logout")
        signals.user_login_failed.connect(
            services.record_login_failed, dispatch_uid="fangfan.audit.login_failed"
        )
