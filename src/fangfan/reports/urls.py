from django.urls import path

from . import ledger_views, monthly_views

app_name = "reports"
urlpatterns = [
    path("ledgers/", ledger_views.ledger_index, name="ledger_index"),
    path("ledgers/jobs/<int:pk>/", ledger_views.ledger_job, name="ledger_job"),
    path("ledgers/jobs/<int:pk>/download/", ledger_views.ledger_job_download, name="ledger_job_download"),
    path("ledgers/<slug:code>/", ledger_views.ledger_page, name="ledger"),
    path("ledgers/<slug:code>/export/", ledger_views.ledger_export, name="ledger_export"),
    path("monthly/", monthly_views.monthly_report, name="monthly"),
    path("monthly/export/", monthly_views.monthly_export, name="monthly_export"),
]
