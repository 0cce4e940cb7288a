"""Serializers for the portal's own API: the current user, the user directory, tokens."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.accounts.roles import user_role
from portal.models import ApiToken, Role, User


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable error code, e.g. `not_found`.")
    message = serializers.CharField(help_text="What went wrong, for people.")


# ``fields`` clashes with ``Serializer.fields``, so it is declared after the class exists.
# This serializer only documents the shape (it is never used to validate data).
ErrorDetailSerializer._declared_fields["fields"] = serializers.DictField(
    child=serializers.ListField(child=serializers.CharField()),
    required=False,
    help_text="Per-field messages (validation errors only).",
)


class ErrorSerializer(serializers.Serializer):
    """The one error shape every API 4xx uses."""

    error = ErrorDetailSerializer()


class UserSerializer(serializers.ModelSerializer):
    """A person in the directory. ``email`` is shown to the person and to stewards only."""

    name = serializers.CharField(read_only=True)
    initials = serializers.CharField(read_only=True)
    avatar_hue = serializers.IntegerField(read_only=True)
    role = serializers.SerializerMethodField()
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices), read_only=True
    )
    email = serializers.SerializerMethodField()
    profile_url = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "name",
            "display_name",
            "initials",
            "avatar_hue",
            "github_handle",
            "bio",
            "role",
            "roles",
            "email",
            "date_joined",
            "profile_url",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices))
    def get_role(self, obj: User) -> str | None:
        return user_role(obj)

    @extend_schema_field(serializers.EmailField(allow_null=True))
    def get_email(self, obj: User) -> str | None:
        viewer = getattr(self.context.get("request"), "user", None)
        if viewer is not None and (viewer.pk == obj.pk or getattr(viewer, "is_steward", False)):
            return obj.email
        return None

    def get_profile_url(self, obj: User) -> str:
        return f"/u/{obj.username}/"


class MeSerializer(UserSerializer):
    """The signed-in user, with the flags clients use to decide what to show."""

    is_steward = serializers.BooleanField(read_only=True)
    is_maintainer = serializers.BooleanField(read_only=True)

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "is_steward", "is_maintainer"]
        read_only_fields = fields


_DATETIME = serializers.DateTimeField()


def me_payload(user: User) -> dict[str, Any]:
    """``MeSerializer(user).data``, built directly: /me/ is the hottest endpoint.

    (DRF builds a serializer's fields anew for every instance; a test keeps the two equal.)
    """
    roles = user.roles
    top = roles[-1] if roles else None
    return {
        "id": user.pk,
        "username": user.username,
        "name": user.name,
        "display_name": user.display_name,
        "initials": user.initials,
        "avatar_hue": user.avatar_hue,
        "github_handle": user.github_handle,
        "bio": user.bio,
        "role": top,
        "roles": roles,
        "email": user.email,
        "date_joined": _DATETIME.to_representation(user.date_joined),
        "profile_url": f"/u/{user.username}/",
        "is_steward": top == Role.STEWARD,
        "is_maintainer": Role.MAINTAINER in roles,
    }


class ProfileUpdateSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    github_handle = serializers.CharField(max_length=200, required=False, allow_blank=True)
    bio = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class RoleUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class TokenSerializer(serializers.ModelSerializer):
    """A personal API token as listed: never the secret."""

    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "is_active",
        ]
        read_only_fields = fields


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Omit or null for a token that never expires."
    )


class TokenCreatedSerializer(TokenSerializer):
    """Returned once, on creation: the only time the secret is ever shown."""

    token = serializers.SerializerMethodField()

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]
        read_only_fields = fields

    def get_token(self, obj: Any) -> str:
        return str(self.context["secret"])
