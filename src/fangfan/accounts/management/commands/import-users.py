"""fangfan import-users FILE: create or update accounts from ``账号, 姓名, 角色, 区划代码[, 手机号][, 部门]``
(spec/API.md); all or nothing."""

from fangfan.accounts.importing import users_import
from fangfan.core.commands import DomainCommand


class Command(DomainCommand):
    help = "批量创建或更新账号（账号表 .xlsx/.csv：账号、姓名、角色、区划代码，可选手机号、部门）"

    def add_arguments(self, parser):
        parser.add_argument("file", help="账号表文件（.xlsx 或 .csv）")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        self.add_user_argument(parser)

    def run(self, *args, **options):
        path = self.existing_file(options["file"])
        summary = users_import(path=path, actor=self.actor(options), dry_run=options["dry_run"])
        prefix = "检查通过（未写入）" if options["dry_run"] else "导入完成"
        self.stdout.write(
            f"{prefix}：读取 {summary.read} 个账号，新增 {summary.created}，更新 {summary.updated}，"
            f"未变 {summary.unchanged}。"
        )
        if summary.created and not options["dry_run"]:
            self.stdout.write("新账号尚无密码，须由系统管理员在“用户管理”中设置初始密码后才能登录网页。")
