from django.apps import AppConfig


class AssistanceConfig(AppConfig):
    name = "fangfan.assistance"
    label = "assistance"
    verbose_name = "帮扶措施"
