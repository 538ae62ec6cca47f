from django.urls import path

from . import views

app_name = "monitoring"
urlpatterns = [
    path("", views.warning_list, name="warning_list"),
    path("export/", views.warning_export, name="warning_export"),
    path("warnings/<int:pk>/", views.warning_detail, name="warning_detail"),
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path("overdue/", views.overdue, name="overdue"),
    path("risks/", views.risk_list, name="risk_list"),
    path("clues/", views.clue_list, name="clue_list"),
    path("clues/<int:pk>/", views.clue_detail, name="clue_detail"),
    path("households/<int:pk>/report/", views.warning_report, name="warning_report"),
    path("households/<int:pk>/feedback/", views.warning_feedback, name="warning_feedback"),
]
