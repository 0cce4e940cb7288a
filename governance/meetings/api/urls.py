from django.urls import URLPattern

app_name = "meetings-api"
urlpatterns: list[URLPattern] = []
