from django.urls import path

from . import department_views as views

app_name = "department"
urlpatterns = [
    path("", views.batch_list, name="batch_list"),
    path("upload/", views.batch_upload, name="batch_upload"),
    path("jobs/<int:pk>/", views.batch_job, name="batch_job"),
    path("template/", views.batch_template, name="batch_template"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/unmatched/", views.batch_unmatched, name="batch_unmatched"),
    path("screening/", views.screening_list, name="screening_list"),
    path("screening/start/", views.screening_start_view, name="screening_start"),
    path("tokens/", views.token_list, name="token_list"),
    path("tokens/<int:pk>/revoke/", views.token_revoke_view, name="token_revoke"),
]
