"""The HUD: widgets per viewer, JSON endpoints, degradation, and the throttled topic."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from portal.hud import publishing, selectors
from portal.hud.widgets import WIDGETS
from portal.models import RealtimeEvent
from sandboxes.agents.models import Profile, ProfileVersion, Run, RunState
from tests.agents.conftest import in_thread

PUBLIC = {"agents", "sandboxes", "polls", "contributions", "content"}
PRIVATE = {"ledger", "jobs", "api"}


@pytest.fixture
def fixer(db: Any) -> ProfileVersion:
    profile = Profile.objects.create(name="fixer-hud")
    return ProfileVersion.objects.create(
        profile=profile, number=1, purpose="p", system_prompt="s", tools=["finish"]
    )


def make_run(owner: Any, version: ProfileVersion, state: str, *, ended: bool = True) -> Run:
    return Run.objects.create(
        owner=owner,
        profile_version=version,
        task="t",
        provider="scripted",
        state=state,
        ended_at=timezone.now() if ended else None,
    )


@pytest.mark.django_db
def test_anonymous_visitors_see_only_public_widgets(client: Any) -> None:
    page = client.get("/hud/")
    assert page.status_code == 200
    shown = {w.name for w in page.context["widgets"]}
    assert shown == PUBLIC
    assert b"chart.umd.min.js" in page.content
    for name in PRIVATE:
        response = client.get(f"/hud/api/{name}/")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"
    assert set(client.get("/hud/api/").json()["widgets"]) == PUBLIC


@pytest.mark.django_db
def test_members_see_every_widget_and_each_endpoint_answers(client: Any, member: Any) -> None:
    client.force_login(member)
    assert {w.name for w in client.get("/hud/").context["widgets"]} == PUBLIC | PRIVATE
    for name in WIDGETS:
        body = client.get(f"/hud/api/{name}/").json()
        assert body["widget"] == name
        assert body["available"] is True, name
    assert client.get("/hud/api/nope/").status_code == 404


@pytest.mark.django_db
def test_agent_widget_counts_states_and_success_rate_per_profile(
    client: Any, maintainer: Any, fixer: ProfileVersion
) -> None:
    make_run(maintainer, fixer, RunState.SUCCEEDED)
    make_run(maintainer, fixer, RunState.SUCCEEDED)
    make_run(maintainer, fixer, RunState.FAILED)
    make_run(maintainer, fixer, RunState.RUNNING, ended=False)
    old = make_run(maintainer, fixer, RunState.FAILED)
    Run.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    data = client.get("/hud/api/agents/").json()["data"]
    assert data["by_state"]["running"] == 1
    assert data["by_state"]["succeeded"] == 2
    today = data["rates"]["today"]["fixer-hud"]
    assert (today["ended"], today["succeeded"], today["failed"]) == (3, 2, 1)
    assert today["success_rate"] == pytest.approx(0.667, abs=0.001)
    assert data["rates"]["30d"]["fixer-hud"]["ended"] == 4


@pytest.mark.django_db
def test_a_failing_source_degrades_the_widget_not_the_page(client: Any, monkeypatch: Any) -> None:
    def broken(user: Any) -> dict[str, Any]:
        raise RuntimeError("table missing")

    monkeypatch.setitem(WIDGETS, "polls", replace(WIDGETS["polls"], compute=broken))
    assert client.get("/hud/").status_code == 200
    body = client.get("/hud/api/polls/").json()
    assert (body["available"], body["data"]) == (False, None)


def test_p95_is_interpolated_from_histogram_buckets() -> None:
    buckets = [(0.01, 50.0), (0.1, 90.0), (1.0, 100.0), (float("inf"), 100.0)]
    assert selectors._quantile(buckets, 0.95) == pytest.approx(0.55)
    assert selectors._quantile([], 0.95) is None


def _quiet(monkeypatch: Any) -> None:
    """Let updates scheduled by earlier tests fire, then start with a clean slate."""
    for timer in list(publishing._pending.values()):
        timer.join(5)
    monkeypatch.setattr(publishing, "_last", {})
    monkeypatch.setattr(publishing, "_pending", {})
    RealtimeEvent.objects.filter(topic="hud").delete()


@pytest.mark.django_db(transaction=True)
def test_updates_are_pushed_at_most_once_per_second_per_widget(monkeypatch: Any) -> None:
    _quiet(monkeypatch)
    sent_at: list[float] = []
    send = publishing._send

    def recording_send(name: str) -> None:
        sent_at.append(time.monotonic())
        send(name)

    monkeypatch.setattr(publishing, "_send", recording_send)
    started = time.monotonic()

    def burst() -> None:  # ~1.5 s of changes
        for _ in range(30):
            publishing.hud_notify("agents")
            time.sleep(0.05)

    in_thread(burst)
    last_change = timezone.now()
    elapsed = time.monotonic() - started
    deadline = time.monotonic() + 10
    while publishing._pending and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    rows = list(RealtimeEvent.objects.filter(topic="hud").order_by("seq"))
    assert all(r.data["widget"] == "agents" and "data" in r.data for r in rows)
    assert 2 <= len(rows) <= int(elapsed) + 2, (len(rows), elapsed)
    assert len(sent_at) == len(rows)
    gaps = [b - a for a, b in itertools.pairwise(sent_at)]
    assert min(gaps) >= 0.99, gaps
    # The trailing update carries the state after the last change.
    assert rows[-1].ts >= last_change


@pytest.mark.django_db(transaction=True)
def test_private_widgets_push_only_a_changed_ping(monkeypatch: Any) -> None:
    _quiet(monkeypatch)
    in_thread(publishing.hud_notify, "jobs")
    row = RealtimeEvent.objects.get(topic="hud")
    assert row.data == {"widget": "jobs", "changed": True}


RELTIME = Path(__file__).resolve().parents[2] / "portal" / "static" / "portal" / "reltime.js"
RELTIME_HARNESS = r"""
const fs = require("fs");
const vm = require("vm");
const window = {};
const context = vm.createContext({ window, Date, Math, isNaN, String, Infinity });
vm.runInContext(fs.readFileSync(process.argv[process.argv.length - 1], "utf8"), context);
const now = Date.parse("2026-11-21T12:00:00+00:00");
const ago = (s) => new Date(now - s * 1000).toISOString();
const f = (iso) => window.AgoraRelTime.format(iso, now);
console.log(JSON.stringify({
  now: f(ago(3)), secs: f(ago(42)), min: f(ago(3 * 60 + 20)), hours: f(ago(5 * 3600)),
  days: f(ago(2 * 86400 + 60)), future: f(ago(-2 * 3600)), never: f(null),
  offset: f("2026-11-21T13:57:00+02:00"), garbage: f("soon"),
}));
"""


def test_hud_times_read_as_human_durations() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    result = subprocess.run(
        [node, "-e", RELTIME_HARNESS, "--", str(RELTIME)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    got = json.loads(result.stdout.strip().splitlines()[-1])
    assert got == {
        "now": "just now",
        "secs": "42 s ago",
        "min": "3 min ago",
        "hours": "5 h ago",
        "days": "2 d ago",
        "future": "in 2 h",
        "never": "never",
        "offset": "3 min ago",  # 11:57 UTC written with a +02:00 offset
        "garbage": "soon",
    }


@pytest.mark.django_db
def test_hud_page_loads_the_human_time_script_before_the_widgets(client: Any) -> None:
    body = client.get("/hud/").content.decode()
    assert body.index("portal/reltime.js") < body.index("portal/hud.js")
