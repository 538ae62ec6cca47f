from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "fangfan.workflows"
    label = "workflows"
    verbose_name = "审批流程"
