from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "fangfan.reports"
    label = "reports"
    verbose_name = "统计报表"

    def ready(self) -> None:
        # The ledger export job's handler and rule, in every process (the task worker never loads the URLs).
        from .ledgers import jobs  # noqa: F401
