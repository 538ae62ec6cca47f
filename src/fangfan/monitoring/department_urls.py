app_name = "department"
urlpatterns: list = []
