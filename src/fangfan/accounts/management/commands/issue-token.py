"""fangfan issue-token USERNAME [--days N] [--name TEXT]: issue a personal API token (spec/API.md). The token is
printed alone on the last line of stdout, once; only its hash is kept."""

from django.core.management.base import CommandError

from fangfan.accounts.models import User
from fangfan.accounts.tokens import DEFAULT_DAYS, personal_token_issue
from fangfan.core.commands import DomainCommand


class Command(DomainCommand):
    help = "为一个账号签发个人接口令牌（令牌单独输出在最后一行，只显示这一次）"

    def add_arguments(self, parser):
        parser.add_argument("username", help="持有令牌的账号")
        parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help=f"有效天数（默认 {DEFAULT_DAYS}）")
        parser.add_argument("--name", default="", help="令牌名称，如：县数据平台同步脚本")
        self.add_user_argument(parser)

    def run(self, *args, **options):
        user = User.objects.select_related("region").filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"账号“{options['username']}”不存在")
        token, raw = personal_token_issue(
            actor=self.actor(options), user=user, name=options["name"], days=options["days"]
        )
        expires = token.expires_at.astimezone().strftime("%Y-%m-%d %H:%M")
        self.stdout.write(
            f"已为账号“{user.username}”签发接口令牌，有效期至 {expires}。令牌只显示这一次，请妥善保存："
        )
        self.stdout.write(raw)
