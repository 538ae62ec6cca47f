from django.urls import path

from . import transfer_views as views

app_name = "transfer"
urlpatterns = [
    path("import/", views.import_page, name="import"),
    path("template/", views.template_download, name="template"),
    path("export/", views.export, name="export"),
    path("jobs/<int:pk>/", views.job_status, name="job"),
    path("jobs/<int:pk>/import/", views.import_checked, name="import_checked"),
    path("jobs/<int:pk>/problems/", views.job_problems, name="job_problems"),
    path("jobs/<int:pk>/download/", views.job_download, name="job_download"),
]
