from django.urls import path

from portal import views, views_ops

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views_ops.healthz, name="healthz"),
    path("readyz", views_ops.readyz, name="readyz"),
    path("metrics", views_ops.metrics, name="metrics"),
    path("audit/", views_ops.audit_list, name="audit"),
]
