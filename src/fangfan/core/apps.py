from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "fangfan.core"
    label = "core"
    verbose_name = "平台"

    def ready(self) -> None:
        from . import lookups

        lookups.register()
