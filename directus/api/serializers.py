from __future__ import annotations

from rest_framework import serializers

from directus.models import ContentItem


class ContentItemSerializer(serializers.ModelSerializer[ContentItem]):
    url = serializers.CharField(read_only=True)

    class Meta:
        model = ContentItem
        fields = [
            "key",
            "slug",
            "language",
            "title",
            "section",
            "sort",
            "url",
            "html",
            "toc",
            "date_updated",
        ]
        read_only_fields = fields


class PageSerializer(ContentItemSerializer):
    seo_description = serializers.SerializerMethodField()
    parent = serializers.SerializerMethodField()  # type: ignore[assignment]

    class Meta(ContentItemSerializer.Meta):
        fields = [*ContentItemSerializer.Meta.fields, "seo_description", "parent"]
        read_only_fields = fields

    def get_seo_description(self, obj: ContentItem) -> str:
        return str(obj.fields.get("seo_description") or "")

    def get_parent(self, obj: ContentItem) -> str | None:
        parent = obj.fields.get("parent")
        return str(parent) if parent not in (None, "") else None


class DocSerializer(ContentItemSerializer):
    version = serializers.SerializerMethodField()

    class Meta(ContentItemSerializer.Meta):
        fields = [*ContentItemSerializer.Meta.fields, "version"]
        read_only_fields = fields

    def get_version(self, obj: ContentItem) -> str:
        return str(obj.fields.get("version") or "")


class AnnouncementSerializer(serializers.ModelSerializer[ContentItem]):
    class Meta:
        model = ContentItem
        fields = ["key", "title", "html", "pinned", "publish_at", "expires_at", "date_updated"]
        read_only_fields = fields


class SearchHitSerializer(serializers.Serializer[dict]):
    kind = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField()
    snippet = serializers.CharField(help_text="HTML; matches wrapped in <mark>")
    rank = serializers.FloatField()
    updated = serializers.DateTimeField(allow_null=True)
