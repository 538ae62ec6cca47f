from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "fangfan.monitoring"
    label = "monitoring"
    verbose_name = "监测预警"

    def ready(self) -> None:
        # Job handlers and exporters register themselves on import; every process needs them, the task worker too.
        from . import department_jobs, exporting, screening  # noqa: F401
