from django.urls import path

from portal import views, views_accounts, views_ops
from portal.hud import views as hud_views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views_ops.healthz, name="healthz"),
    path("readyz", views_ops.readyz, name="readyz"),
    path("metrics", views_ops.metrics, name="metrics"),
    path("audit/", views_ops.audit_list, name="audit"),
    path("hud/", hud_views.hud_page, name="hud"),
    path("hud/api/", hud_views.hud_index, name="hud-index"),
    path("hud/api/<str:widget>/", hud_views.hud_widget, name="hud-widget"),
    path("u/<str:username>/", views_accounts.profile_detail, name="profile"),
    path("settings/profile/", views_accounts.profile_edit, name="profile-edit"),
    path("settings/tokens/", views_accounts.token_page, name="tokens"),
    path(
        "settings/tokens/<int:token_id>/revoke/",
        views_accounts.token_revoke_view,
        name="token-revoke",
    ),
    path("users/", views_accounts.user_directory, name="users"),
    path("users/<int:user_id>/role/", views_accounts.user_role_change, name="user-role"),
]
