"""fangfan demo-code: the demo accounts' current second-factor code (README: the demo's administrators and county
accounts share one TOTP key, printed by ``fangfan demo``), for a newcomer without an authenticator app."""

import time

from django.core.management.base import BaseCommand

from fangfan.demo.accounts import DEMO_TOTP_KEY, totp_code


class Command(BaseCommand):
    help = "显示演示账号当前的动态验证码（仅用于演示）"

    def handle(self, *args, **options):
        left = 30 - int(time.time()) % 30
        self.stdout.write(f"{totp_code(DEMO_TOTP_KEY)}  （{left} 秒后更新）")
