from django.urls import include, path

from fangfan.reports import views as report_views

urlpatterns = [
    path("", report_views.home, name="home"),
    path("accounts/", include("fangfan.accounts.urls")),
    path("regions/", include("fangfan.regions.urls")),
    path("system/", include("fangfan.core.urls")),
    path("households/", include("fangfan.registry.urls")),
    path("households/", include("fangfan.assistance.contact_urls")),  # 联系记录, moved out of the registry
    path("transfer/", include("fangfan.registry.transfer_urls")),
    path("policy/", include("fangfan.policy.urls")),
    path("monitoring/", include("fangfan.monitoring.urls")),
    path("department/", include("fangfan.monitoring.department_urls")),
    path("assistance/", include("fangfan.assistance.urls")),
    path("cases/", include("fangfan.workflows.urls")),
    path("report/", include("fangfan.monitoring.public_urls")),
    path("reports/", include("fangfan.reports.urls")),
    path("api/v1/", include("fangfan.api.urls")),
]

handler403 = "fangfan.core.views.forbidden"
handler404 = "fangfan.core.views.not_found"
