from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "fangfan.monitoring"
    label = "monitoring"
    verbose_name = "监测预警"

    def ready(self) -> None:
        # Job handlers and exporters register themselves on import; every process needs them, the task worker too.
        from fangfan.registry.hooks import after_visit

        from . import department_jobs, exporting, screening  # noqa: F401

        # A contact's visit that changed the registry re-screens its household at once (plan M14).
        after_visit(screening.screening_after_visit)
