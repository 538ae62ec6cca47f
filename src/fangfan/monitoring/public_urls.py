from django.urls import path

from . import public_views

app_name = "public"
urlpatterns = [
    path("", public_views.self_report, name="self_report"),
    path("thanks/", public_views.thanks, name="thanks"),
]
