"""The 联系记录 pages keep their addresses under ``/households/`` (included there by ``fangfan.urls``) after their
move from ``registry`` (issue 17); their names are ``contacts:…``."""

from django.urls import path

from . import contact_views

app_name = "contacts"
urlpatterns = [
    path("contacts/", contact_views.contact_ledger, name="contact_ledger"),
    path("contacts/export/", contact_views.contact_ledger_export, name="contact_ledger_export"),
    path("<int:pk>/contact/", contact_views.household_contact, name="household_contact"),
]
