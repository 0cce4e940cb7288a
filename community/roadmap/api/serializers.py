"""Roadmap API serializers (output shapes and input validation)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from community.roadmap.models import Milestone, MilestoneStatus, Priority, Task, TaskStatus


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = ["id", "name", "description", "start_date", "target_date", "status"]


class MilestoneInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    start_date = serializers.DateField(required=False, allow_null=True)
    target_date = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=MilestoneStatus.choices, required=False)


class TaskSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="code", read_only=True)
    owner = serializers.SerializerMethodField()
    milestone = serializers.IntegerField(source="milestone_id", allow_null=True)
    depends_on = serializers.SerializerMethodField()
    action_item = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = [
            "id",
            "title",
            "description",
            "status",
            "priority",
            "owner",
            "estimate_days",
            "labels",
            "milestone",
            "depends_on",
            "due_date",
            "proposal",
            "action_item",
            "position",
            "created_at",
            "updated_at",
            "done_at",
        ]

    def get_owner(self, task: Task) -> str | None:
        return task.owner.username if task.owner_id and task.owner else None

    def get_depends_on(self, task: Task) -> list[str]:
        return sorted(t.code for t in task.depends_on.all())

    def get_action_item(self, task: Task) -> int | None:
        ids: dict[int, int] = self.context.get("action_items", {})
        return ids.get(task.pk)


class TaskInputSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=10)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    owner = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    estimate_days = serializers.DecimalField(
        max_digits=7, decimal_places=2, required=False, allow_null=True, min_value=0
    )
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    labels = serializers.ListField(child=serializers.CharField(), required=False)
    status = serializers.ChoiceField(choices=TaskStatus.choices, required=False)
    milestone = serializers.PrimaryKeyRelatedField(
        queryset=Milestone.objects.all(), required=False, allow_null=True
    )
    depends_on = serializers.ListField(child=serializers.CharField(), required=False)
    due_date = serializers.DateField(required=False, allow_null=True)


class TaskUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    owner = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    estimate_days = serializers.DecimalField(
        max_digits=7, decimal_places=2, required=False, allow_null=True, min_value=0
    )
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    labels = serializers.ListField(child=serializers.CharField(), required=False)
    milestone = serializers.PrimaryKeyRelatedField(
        queryset=Milestone.objects.all(), required=False, allow_null=True
    )
    due_date = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=TaskStatus.choices, required=False)
    position = serializers.IntegerField(required=False, min_value=0)
    depends_on = serializers.ListField(child=serializers.CharField(), required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError("nothing to change")
        return attrs


class WipLimitSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=TaskStatus.choices)
    limit = serializers.IntegerField(min_value=1, allow_null=True)
    enforce = serializers.BooleanField(default=False)
