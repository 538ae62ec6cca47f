"""fangfan verify-audit: walk the audit chain and report the first broken link."""

from django.core.management.base import BaseCommand, CommandError

from fangfan.core.audit import verify_chain


class Command(BaseCommand):
    help = "校验审计日志哈希链，报告第一处断裂"

    def handle(self, *args, **options):
        checked, broken = verify_chain()
        if broken is not None:
            raise CommandError(
                f"审计日志在第 {broken.event_id} 号记录处断裂：{broken.reason}（此前 {checked} 条完好）"
            )
        self.stdout.write(f"审计日志完好：共 {checked} 条，哈希链连续。")
