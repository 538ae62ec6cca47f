from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "fangfan.monitoring"
    label = "monitoring"
    verbose_name = "监测预警"
