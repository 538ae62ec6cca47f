from django.urls import path

from . import consumption_views, fund_views, views

app_name = "assistance"
urlpatterns = [
    path("", views.measure_list, name="measure_list"),
    path("todo/", views.measure_todo, name="measure_todo"),
    path("doubts/", views.measure_doubts, name="measure_doubts"),
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
    # 资金 (issue 20)
    path("funds/", fund_views.fund_list, name="fund_list"),
    path("funds/new/", fund_views.fund_add, name="fund_add"),
    path("funds/<int:pk>/", fund_views.fund_ledger, name="fund_ledger"),
    path("funds/<int:pk>/export/", fund_views.fund_export, name="fund_export"),
    path("funds/<int:pk>/receive/", fund_views.fund_receive, name="fund_receive"),
    path("funds/requests/", fund_views.fund_requests, name="fund_requests"),
    path("funds/requests/<int:pk>/decide/", fund_views.fund_decide, name="fund_decide"),
    path("funds/requests/<int:pk>/pay/", fund_views.fund_pay, name="fund_pay"),
    path("funds/entries/<int:pk>/reverse/", fund_views.fund_reverse, name="fund_reverse"),
    path("households/<int:pk>/fund-request/", fund_views.fund_request_add, name="fund_request_add"),
    # 消费帮扶
    path("consumption/", consumption_views.consumption_summary, name="consumption"),
    path("consumption/export/", consumption_views.consumption_export, name="consumption_export"),
    path("households/<int:pk>/products/new/", consumption_views.product_add, name="product_add"),
    path("products/<int:pk>/sales/new/", consumption_views.sale_add, name="sale_add"),
]
