from django.urls import path

from . import views

app_name = "assistance"
urlpatterns = [
    path("", views.measure_list, name="measure_list"),
    path("todo/", views.measure_todo, name="measure_todo"),
    path("export/", views.measure_export, name="measure_export"),
    path("measures/<int:pk>/", views.measure_detail, name="measure_detail"),
    path("measures/<int:pk>/progress/", views.measure_progress, name="measure_progress"),
    path("measures/<int:pk>/evidence/", views.measure_evidence, name="measure_evidence"),
    path("evidence/<int:pk>/", views.evidence_file, name="evidence_file"),
    path("households/<int:pk>/measures/new/", views.measure_add, name="measure_add"),
    path("households/<int:pk>/risks/new/", views.risk_add, name="risk_add"),
    path("households/<int:pk>/exceptions/new/", views.exception_add, name="exception_add"),
    path("risks/<int:pk>/close/", views.risk_close, name="risk_close"),
    path("risks/<int:pk>/decide/", views.risk_decide, name="risk_decide"),
    path("exceptions/<int:pk>/decide/", views.exception_decide, name="exception_decide"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("catalogue/new/", views.catalogue_add, name="catalogue_add"),
    path("catalogue/<int:pk>/toggle/", views.catalogue_toggle, name="catalogue_toggle"),
]
