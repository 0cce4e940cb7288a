"""Meetings: series on a cadence, agenda templates, meetings with agenda items and live
notes, attendance, decisions, action items (each a roadmap task) and minutes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class MeetingType(models.TextChoices):
    SECURITY_INFRA = "security-infra", "Security & infrastructure"
    PRODUCT = "product", "Product & expansion"
    STRATEGY = "strategy", "Strategy"
    COMMUNITY = "community", "Community"
    OTHER = "other", "Other"


class Cadence(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    BIWEEKLY = "biweekly", "Every two weeks"
    MONTHLY = "monthly", "Monthly"
    ADHOC = "adhoc", "Ad hoc"


class AgendaTemplate(models.Model):
    """A reusable agenda: items of ``{"title", "minutes", "action_items"}`` (stewards edit)."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    meeting_type = models.CharField(max_length=20, choices=MeetingType.choices)
    cadence = models.CharField(max_length=10, choices=Cadence.choices, default=Cadence.WEEKLY)
    items = models.JSONField(default=list)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MeetingSeries(models.Model):
    """Meetings that recur on a cadence at a local time in one time zone."""

    title = models.CharField(max_length=120)
    meeting_type = models.CharField(max_length=20, choices=MeetingType.choices)
    cadence = models.CharField(max_length=10, choices=Cadence.choices)
    time_zone = models.CharField(max_length=64, default="UTC")
    first_date = models.DateField()
    local_time = models.TimeField()
    duration_minutes = models.PositiveIntegerField(default=60)
    owners = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="owned_series")
    default_attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="attended_series", blank=True
    )
    template = models.ForeignKey(
        AgendaTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="series"
    )
    quorum = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "meeting series"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=5, duration_minutes__lte=24 * 60),
                name="meetings_series_duration_range",
            )
        ]

    def __str__(self) -> str:
        return self.title


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    ENDED = "ended", "Ended"
    CANCELLED = "cancelled", "Cancelled"


class MinutesStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    PUBLISHED = "published", "Published"


LOCKED_MINUTES = (MinutesStatus.APPROVED, MinutesStatus.PUBLISHED)


class Meeting(models.Model):
    """One meeting (of a series, or ad hoc) with its minutes lifecycle."""

    series = models.ForeignKey(
        MeetingSeries, null=True, blank=True, on_delete=models.PROTECT, related_name="meetings"
    )
    title = models.CharField(max_length=160)
    meeting_type = models.CharField(
        max_length=20, choices=MeetingType.choices, default=MeetingType.OTHER
    )
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=20, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED
    )
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    quorum = models.PositiveIntegerField(null=True, blank=True)
    minutes_status = models.CharField(
        max_length=20, choices=MinutesStatus.choices, default=MinutesStatus.DRAFT
    )
    approved_text = models.TextField(blank=True)
    approved_hash = models.CharField(max_length=64, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["series", "starts_at"], name="meetings_one_per_slot"),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="meetings_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d})"

    @property
    def minutes_locked(self) -> bool:
        return self.minutes_status in LOCKED_MINUTES


class AgendaItem(models.Model):
    """An agenda entry with its live Markdown notes (``notes_version`` guards saves)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    presenter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    planned_minutes = models.PositiveIntegerField(default=10)
    proposal = models.ForeignKey(
        "governance.Proposal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    poll = models.ForeignKey(
        "governance.Poll", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = models.TextField(blank=True, max_length=100_000)
    notes_version = models.PositiveIntegerField(default=0)
    notes_updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["meeting", "position", "id"]

    def __str__(self) -> str:
        return self.title


class AttendanceStatus(models.TextChoices):
    EXPECTED = "expected", "Expected"
    PRESENT = "present", "Present"
    ABSENT = "absent", "Absent"
    EXCUSED = "excused", "Excused"


class Attendance(models.Model):
    """Who was expected at, present at, absent from or excused from a meeting."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=10, choices=AttendanceStatus.choices, default=AttendanceStatus.EXPECTED
    )

    class Meta:
        ordering = ["meeting", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "user"], name="meetings_attendance_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.status}"


class Decision(models.Model):
    """A recorded decision: text, or a linked poll whose final result is filled in on close."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    agenda_item = models.ForeignKey(
        AgendaItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    text = models.TextField(blank=True, max_length=10_000)
    poll = models.ForeignKey(
        "governance.Poll", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    poll_result = models.JSONField(null=True, blank=True)
    poll_result_text = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(text="") | models.Q(poll__isnull=False),
                name="meetings_decision_text_or_poll",
            )
        ]

    def __str__(self) -> str:
        return self.text[:60] or f"poll {self.poll_id}"


class ActionItem(models.Model):
    """Who does what by when; backed by a roadmap task (its status is the task's).
    ``current_meeting`` moves forward to the next meeting of the series while open."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="action_items")
    current_meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="carried_action_items"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="action_items"
    )
    what = models.CharField(max_length=300)
    due_date = models.DateField()
    task = models.OneToOneField(
        "roadmap.Task", on_delete=models.PROTECT, related_name="action_item"
    )
    carried_over = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.what


class AmendmentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class Amendment(models.Model):
    """An attendee's proposed replacement for an agenda item's notes during review."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="amendments")
    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="+")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    text = models.TextField(max_length=100_000)
    reason = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=10, choices=AmendmentStatus.choices, default=AmendmentStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"amendment {self.pk} ({self.status})"
