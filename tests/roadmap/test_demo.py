"""Demo data for meetings and the roadmap can be seeded twice without duplicates."""

from __future__ import annotations

import pytest
from django.apps import apps

from community.roadmap.models import Milestone, Task
from governance.meetings.models import Meeting, MeetingSeries

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent(maintainer):
    for _ in range(2):
        apps.get_app_config("meetings").demo_seed()
        apps.get_app_config("roadmap").demo_seed()
    assert MeetingSeries.objects.count() == 1
    assert Meeting.objects.filter(series__isnull=False).count() == 4
    assert Milestone.objects.count() == 1
    assert Task.objects.count() == 4
    assert Task.objects.get(code="OPS-003").depends_on.get().code == "OPS-001"
