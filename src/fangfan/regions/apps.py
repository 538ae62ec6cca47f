from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "fangfan.regions"
    label = "regions"
    verbose_name = "行政区划"
