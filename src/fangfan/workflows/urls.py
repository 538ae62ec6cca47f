from django.urls import path

from . import views

app_name = "workflows"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("all/", views.case_list, name="case_list"),
    path("batch/", views.batch, name="batch"),
    path("notice/", views.notice_pdf, name="notice"),
    path("decisions/", views.decisions_export, name="decisions_export"),
    path("<int:pk>/", views.case_detail, name="case_detail"),
    path("<int:pk>/act/", views.case_act, name="case_act"),
    path("<int:pk>/files/", views.case_attach, name="case_attach"),
    path("files/<int:pk>/", views.attachment_file, name="attachment_file"),
    path("households/<int:pk>/new/", views.case_start, name="case_start"),
]
