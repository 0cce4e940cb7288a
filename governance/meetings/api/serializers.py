"""Meetings API: input validation and output shapes."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from governance.meetings.models import (
    ActionItem,
    AgendaItem,
    AgendaTemplate,
    AttendanceStatus,
    Cadence,
    Meeting,
    MeetingSeries,
    MeetingType,
)


class TemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgendaTemplate
        fields = ["slug", "name", "meeting_type", "cadence", "items", "updated_at"]


class TemplateUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    items = serializers.JSONField(required=False)


class SeriesSerializer(serializers.ModelSerializer):
    owners: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", many=True, read_only=True
    )
    default_attendees: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", many=True, read_only=True
    )
    template: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )

    class Meta:
        model = MeetingSeries
        fields = [
            "id",
            "title",
            "meeting_type",
            "cadence",
            "time_zone",
            "first_date",
            "local_time",
            "duration_minutes",
            "owners",
            "default_attendees",
            "template",
            "quorum",
            "active",
        ]


class SeriesInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120)
    cadence = serializers.ChoiceField(choices=Cadence.choices)
    time_zone = serializers.CharField(max_length=64)
    first_date = serializers.DateField()
    local_time = serializers.TimeField()
    meeting_type = serializers.ChoiceField(choices=MeetingType.choices, required=False)
    template: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", queryset=AgendaTemplate.objects.all(), required=False, allow_null=True
    )
    duration_minutes = serializers.IntegerField(min_value=5, max_value=1440, required=False)
    owners = serializers.ListField(child=serializers.CharField(), required=False)
    default_attendees = serializers.ListField(child=serializers.CharField(), required=False)
    quorum = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class MeetingSerializer(serializers.ModelSerializer):
    chair: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Meeting
        fields = [
            "id",
            "series",
            "title",
            "meeting_type",
            "starts_at",
            "ends_at",
            "status",
            "chair",
            "quorum",
            "minutes_status",
            "approved_hash",
            "approved_at",
            "published_at",
        ]


class MeetingInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=160)
    starts_at = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField(min_value=5, max_value=1440, required=False)
    template: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", queryset=AgendaTemplate.objects.all(), required=False, allow_null=True
    )
    series = serializers.PrimaryKeyRelatedField(
        queryset=MeetingSeries.objects.all(), required=False, allow_null=True
    )


class AgendaItemSerializer(serializers.ModelSerializer):
    presenter: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    notes_updated_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = AgendaItem
        fields = [
            "id",
            "position",
            "title",
            "presenter",
            "planned_minutes",
            "proposal",
            "poll",
            "notes",
            "notes_version",
            "notes_updated_by",
            "notes_updated_at",
        ]


class AgendaItemInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    presenter = serializers.CharField(required=False, allow_blank=True)
    planned_minutes = serializers.IntegerField(min_value=1, max_value=240, required=False)
    proposal = serializers.IntegerField(required=False, allow_null=True)
    poll = serializers.IntegerField(required=False, allow_null=True)


class NoteInputSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, max_length=100_000, trim_whitespace=False)
    version = serializers.IntegerField(min_value=0)


class OrderSerializer(serializers.Serializer):
    order = serializers.ListField(child=serializers.IntegerField())


class AttendanceInputSerializer(serializers.Serializer):
    user = serializers.CharField()
    status = serializers.ChoiceField(choices=AttendanceStatus.choices)


class DecisionInputSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    poll = serializers.IntegerField(required=False, allow_null=True)
    agenda_item = serializers.IntegerField(required=False, allow_null=True)


class ActionItemSerializer(serializers.ModelSerializer):
    assignee: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    task: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    task_status = serializers.CharField(source="task.status", read_only=True)

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "meeting",
            "current_meeting",
            "assignee",
            "what",
            "due_date",
            "task",
            "task_status",
            "carried_over",
            "created_at",
        ]


class ActionItemInputSerializer(serializers.Serializer):
    assignee = serializers.CharField()
    what = serializers.CharField(max_length=300)
    due_date = serializers.DateField()
    milestone = serializers.IntegerField(required=False, allow_null=True)


class AmendmentInputSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    text = serializers.CharField(max_length=100_000)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class AmendmentDecisionSerializer(serializers.Serializer):
    accept = serializers.BooleanField()


class MinutesActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["submit", "approve", "publish"])


def meeting_full(meeting: Meeting, actions: Any, quorum: Any) -> dict[str, Any]:
    body: dict[str, Any] = dict(MeetingSerializer(meeting).data)
    body["agenda_items"] = AgendaItemSerializer(meeting.agenda_items.all(), many=True).data
    body["attendance"] = [
        {"user": a.user.username, "status": a.status} for a in meeting.attendance.all()
    ]
    body["quorum_present"] = quorum.present
    body["quorum_met"] = quorum.met
    body["decisions"] = [
        {
            "id": d.pk,
            "text": d.text,
            "poll": d.poll_id,
            "poll_result": d.poll_result,
            "poll_result_text": d.poll_result_text,
            "agenda_item": d.agenda_item_id,
        }
        for d in meeting.decisions.all()
    ]
    body["action_items"] = ActionItemSerializer(actions, many=True).data
    body["amendments"] = [
        {
            "id": a.pk,
            "item": a.agenda_item_id,
            "text": a.text,
            "reason": a.reason,
            "status": a.status,
            "proposed_by": a.proposed_by.username,
        }
        for a in meeting.amendments.all()
    ]
    return body
