from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest

from governance.meetings.models import AgendaTemplate
from governance.meetings.services import agenda_templates_ensure, series_create


@pytest.fixture
def template(db: Any) -> AgendaTemplate:
    agenda_templates_ensure()
    return AgendaTemplate.objects.get(slug="weekly-security-infra")


@pytest.fixture
def make_series(maintainer: Any, template: AgendaTemplate):
    def make(**overrides: Any) -> Any:
        values: dict[str, Any] = {
            "actor": maintainer,
            "title": "Security & infra",
            "cadence": "weekly",
            "time_zone": "Europe/Berlin",
            "first_date": date(2026, 3, 16),
            "local_time": time(10, 0),
            "template": template,
        }
        values.update(overrides)
        return series_create(**values)

    return make
