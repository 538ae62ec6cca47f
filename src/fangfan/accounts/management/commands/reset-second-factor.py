"""fangfan reset-second-factor USERNAME: remove an account's second factor (动态口令 and recovery codes), as the
command-line operator — for a security administrator's own account, which no web user may reset. Audited."""

from django.core.management.base import CommandError

from fangfan.accounts import second_factor
from fangfan.accounts.models import User
from fangfan.core.commands import DomainCommand


class Command(DomainCommand):
    help = "重置一个账号的动态口令（两步验证），其下次登录时重新绑定"

    def add_arguments(self, parser):
        parser.add_argument("username", help="账号")
        self.add_user_argument(parser)

    def run(self, *args, **options):
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"账号“{options['username']}”不存在")
        removed = second_factor.reset(actor=self.actor(options), user=user)
        self.stdout.write(f"已重置账号“{user.username}”的动态口令（删除 {removed} 个）。")
