from django.urls import path

from . import helper_views, views

app_name = "registry"
urlpatterns = [
    path("", views.household_list, name="household_list"),
    path("count/", views.household_count, name="household_count"),
    path("new/", views.household_create, name="household_create"),
    path("helpers/", helper_views.helper_workload, name="helper_workload"),
    path("helpers/assign/", helper_views.helpers_assign, name="helpers_assign"),
    path("<int:pk>/", views.household_detail, name="household_detail"),
    path("<int:pk>/edit/", views.household_edit, name="household_edit"),
    path("<int:pk>/members/add/", views.member_add, name="member_add"),
    path("<int:pk>/members/<int:member_pk>/edit/", views.member_edit, name="member_edit"),
    path("<int:pk>/members/<int:member_pk>/remove/", views.member_remove, name="member_remove"),
    path("<int:pk>/head/", views.head_change, name="head_change"),
    path("<int:pk>/split/", views.household_split, name="household_split"),
    path("<int:pk>/merge/", views.household_merge, name="household_merge"),
    path("<int:pk>/helper/", helper_views.household_helper, name="household_helper"),
    path("members/<int:pk>/reveal-id/", views.member_reveal_id, name="member_reveal_id"),
    path("<int:pk>/reveal-phone/", views.household_reveal_phone, name="household_reveal_phone"),
    path("members/<int:pk>/reveal-phone/", views.member_reveal_phone, name="member_reveal_phone"),
]
