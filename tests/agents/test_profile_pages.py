"""The stewards' agent profile pages: every save is a new version; runs keep theirs."""

from __future__ import annotations

from typing import Any

import pytest

from portal.models import AuditEntry
from sandboxes.agents.models import Profile, ProfileVersion, Run
from sandboxes.agents.services import profile_version_create
from tests.agents.conftest import start

pytestmark = pytest.mark.django_db

STEPS = [{"tool": "list_files", "args": {}}, {"finish": "listed"}]


@pytest.fixture(autouse=True)
def _no_totp_gate(settings: Any) -> None:
    settings.AGORA_STEWARD_REQUIRES_2FA = False  # the 2FA gate has its own tests


def form_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "purpose": "Reads and reports",
        "system_prompt": "You read files and write a short report.",
        "tools": ["read_file", "list_files", "finish"],
        "model": "qwen2.5:7b",
        "max_steps": "12",
        "max_wall_seconds": "600",
        "max_tokens": "50000",
        "risky_policy": "refuse",
        "shell_allowlist": "",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("role", ["member", "maintainer"])
def test_profile_pages_are_refused_to_members_and_maintainers(
    client: Any, profiles: None, role: str, request: pytest.FixtureRequest
) -> None:
    client.force_login(request.getfixturevalue(role))
    assert client.get("/runs/profiles/").status_code == 403
    assert client.get("/runs/profiles/new/").status_code == 403
    assert client.get("/runs/profiles/fixer/").status_code == 403
    response = client.post("/runs/profiles/fixer/", form_data(base_version="1"))
    assert response.status_code == 403
    assert ProfileVersion.objects.filter(profile__name="fixer").count() == 1


def test_anonymous_visitors_are_sent_to_log_in(client: Any, profiles: None) -> None:
    response = client.get("/runs/profiles/fixer/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_steward_sees_every_profile_with_its_latest_version(
    client: Any, steward: Any, profiles: None
) -> None:
    client.force_login(steward)
    body = client.get("/runs/profiles/").content.decode()
    for name in ("fixer", "researcher", "promoter"):
        assert f'data-profile="{name}"' in body
    assert "Agent profiles" in client.get("/runs/").content.decode()


def test_editing_a_profile_creates_a_new_version_and_records_who(
    client: Any, steward: Any, profiles: None
) -> None:
    client.force_login(steward)
    page = client.get("/runs/profiles/researcher/")
    assert page.status_code == 200
    assert "Save as v2" in page.content.decode()

    response = client.post(
        "/runs/profiles/researcher/",
        form_data(base_version="1", shell_allowlist="", tools=["read_file", "finish", "search"]),
    )
    assert response.status_code == 302
    assert response["Location"] == "/runs/profiles/researcher/"
    v1, v2 = ProfileVersion.objects.filter(profile__name="researcher").order_by("number")
    assert (v2.number, v2.created_by, v2.model, v2.max_steps) == (2, steward, "qwen2.5:7b", 12)
    assert v2.tools == ["read_file", "search", "finish"]  # the catalogue's order
    assert (v2.risky_policy, v2.max_wall_seconds, v2.max_tokens) == ("refuse", 600, 50000)
    assert v1.purpose != v2.purpose  # the old version is untouched
    assert AuditEntry.objects.filter(action="agent_profile.version").count() == 1
    history = client.get("/runs/profiles/researcher/").content.decode()
    assert 'data-version="2"' in history and 'data-version="1"' in history


def test_runs_keep_the_version_they_started_with(
    client: Any, steward: Any, maintainer: Any, recipe: Any
) -> None:
    run = start(maintainer, recipe, STEPS, profile="researcher")
    client.force_login(steward)
    client.post("/runs/profiles/researcher/", form_data(base_version="1", max_steps="3"))
    run.refresh_from_db()
    assert run.profile_version.number == 1
    assert run.profile_version.runtime().max_steps != 3
    later = start(maintainer, recipe, STEPS, profile="researcher")
    assert (later.profile_version.number, later.profile_version.runtime().max_steps) == (2, 3)
    assert Run.objects.filter(profile_version__number=1).count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"tools": ["read_file"]}, "tools", "Allow &#x27;finish&#x27;"),
        ({"max_steps": "0"}, "max_steps", "greater than or equal to 1"),
        ({"max_tokens": "lots"}, "max_tokens", "Enter a whole number"),
        ({"system_prompt": ""}, "system_prompt", "This field is required"),
        ({"risky_policy": "sometimes"}, "risky_policy", "Select a valid choice"),
        ({"shell_allowlist": "ls; rm -rf /"}, "shell_allowlist", "without shell operators"),
        ({"shell_allowlist": "ls"}, "shell_allowlist", "needs the &#x27;shell&#x27; tool"),
    ],
)
def test_invalid_input_shows_the_field_error_and_keeps_what_was_typed(
    client: Any, steward: Any, profiles: None, overrides: dict[str, Any], field: str, message: str
) -> None:
    client.force_login(steward)
    response = client.post("/runs/profiles/researcher/", form_data(base_version="1", **overrides))
    assert response.status_code == 400
    body = response.content.decode()
    row = body.split(f'id="row-{field}"', 1)[1].split('<div class="form-row', 1)[0]
    assert message in row
    assert "You read files and write a short report." in body or field == "system_prompt"
    assert ProfileVersion.objects.filter(profile__name="researcher").count() == 1


def test_a_version_saved_meanwhile_is_not_overwritten(
    client: Any, steward: Any, profiles: None
) -> None:
    profile_version_create(actor=steward, name="researcher", max_steps=7)  # someone else: v2
    client.force_login(steward)
    response = client.post("/runs/profiles/researcher/", form_data(base_version="1"))
    assert response.status_code == 400
    assert "changed while you were editing: v2" in response.content.decode()
    assert ProfileVersion.objects.filter(profile__name="researcher").count() == 2


def test_steward_creates_a_new_profile_and_cannot_reuse_a_name(
    client: Any, steward: Any, profiles: None
) -> None:
    client.force_login(steward)
    assert client.get("/runs/profiles/new/").status_code == 200
    response = client.post("/runs/profiles/new/", form_data(name="triager"))
    assert response.status_code == 302
    version = ProfileVersion.objects.get(profile__name="triager")
    assert (version.number, version.created_by) == (1, steward)

    again = client.post("/runs/profiles/new/", form_data(name="fixer"))
    assert again.status_code == 400
    assert "a profile named &#x27;fixer&#x27; already exists" in again.content.decode()
    assert ProfileVersion.objects.filter(profile__name="fixer").count() == 1
    bad = client.post("/runs/profiles/new/", form_data(name="Not a slug!"))
    assert bad.status_code == 400
    assert not Profile.objects.filter(name="Not a slug!").exists()


def test_unknown_profile_is_not_found(client: Any, steward: Any, profiles: None) -> None:
    client.force_login(steward)
    assert client.get("/runs/profiles/nobody/").status_code == 404
