from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "fangfan.registry"
    label = "registry"
    verbose_name = "农户档案"

    def ready(self) -> None:
        # Job handlers must be registered in every process, the task worker included (it never loads the URLs);
        # ``jobs`` registers all of the registry's and imports the heavy modules only when a job runs.
        # A saved policy value recomputes the region's households (policy, below us, calls the hook).
        from . import (
            jobs,  # noqa: F401
            policy_changes,  # noqa: F401
        )
