"""fangfan rotate-keys: re-encrypt every encrypted field under the active field key, in batches, resumably."""

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from fangfan.core.commands import DomainCommand
from fangfan.core.keyrotation import DEFAULT_BATCH, count_stale, encrypted_tables, rotate_keys


class Command(DomainCommand):
    help = (
        "把所有加密字段改用当前字段密钥（FANGFAN_FIELD_KEYS 中最新的一个）重新加密；分批提交，中断后重新运行即可"
        "从断点继续"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH,
            help=f"每个事务处理的行数（默认 {DEFAULT_BATCH}）",
        )
        parser.add_argument(
            "--pause", type=float, default=0.0, help="每批之后暂停的秒数（业务时间运行时减轻数据库负担）"
        )
        parser.add_argument("--check", action="store_true", help="只统计还有多少行需要重新加密，不做改动")
        self.add_user_argument(parser)

    def run(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size 必须是正整数")
        if options["pause"] < 0:
            raise CommandError("--pause 不能为负数")
        key = settings.FIELD_ENCRYPTION_ACTIVE_KEY
        if options["check"]:
            left = {t.label: count_stale(t) for t in encrypted_tables()}
            for label, n in left.items():
                self.stdout.write(f"  {label}：{n} 行待重新加密")
            total = sum(left.values())
            self.stdout.write(
                f"共 {total} 行的加密字段不是当前密钥 {key}。" if total else f"全部已使用密钥 {key}。"
            )
            return
        progress = self.show_progress()

        def report(label: str, done: int, todo: int) -> None:
            if progress:
                self.stderr.write(f"\r{label}：{done}/{todo}", ending="")
                self.stderr.flush()

        summary = rotate_keys(
            actor=self.actor(options), batch_size=options["batch_size"], report=report, pause=options["pause"]
        )
        if progress and summary.rows:
            self.stderr.write("")
        self.stdout.write(summary.describe())
