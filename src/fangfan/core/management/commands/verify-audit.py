"""fangfan verify-audit: walk the audit chain and report the first broken link."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fangfan.core.anchor import anchor_head, anchor_path
from fangfan.core.audit import verify_chain


class Command(BaseCommand):
    help = "校验审计日志哈希链，报告第一处断裂"

    def handle(self, *args: Any, **options: Any) -> None:
        checked, broken = verify_chain()
        if broken is not None:
            where = f"在第 {broken.event_id} 号记录处" if broken.event_id else ""
            raise CommandError(f"审计日志{where}断裂：{broken.reason}（此前 {checked} 条完好）")
        self.stdout.write(f"审计日志完好：共 {checked} 条，哈希链连续。")
        head = anchor_head()
        if head is not None:
            self.stdout.write(f"与审计锚点一致（锚点记到第 {head.event_id} 号）。")
        elif checked:
            self.stdout.write(f"未找到审计锚点（{anchor_path()}）：无法确认末尾的记录没有被删除。")
