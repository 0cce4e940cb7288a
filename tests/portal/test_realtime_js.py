"""The browser client ``portal/static/js/realtime.js``, run in Node against a fake WebSocket.

Node is part of the toolchain (``make`` builds the front-end assets with it); only when it
is genuinely missing is this skipped.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

CLIENT = Path(__file__).resolve().parents[2] / "portal" / "static" / "js" / "realtime.js"

HARNESS = r"""
const fs = require("fs");
const vm = require("vm");
const sockets = [];
const timers = [];
class FakeWebSocket {
  constructor(url) { this.url = url; this.readyState = 0; this.sent = []; sockets.push(this); }
  send(data) { this.sent.push(JSON.parse(data)); }
  close(code) { this.readyState = 3; if (this.onclose) this.onclose({ code: code || 1000 }); }
  open() { this.readyState = 1; this.onopen(); }
  receive(message) { this.onmessage({ data: JSON.stringify(message) }); }
  drop(code) { this.readyState = 3; this.onclose({ code: code || 1006 }); }
}
FakeWebSocket.OPEN = 1;
const window = {
  location: { protocol: "https:", host: "agora.example" },
  setTimeout: (fn, ms) => { timers.push({ fn, ms }); return timers.length; },
  clearTimeout: (id) => { timers[id - 1].fn = null; },
  addEventListener: () => {},
};
const context = { window, WebSocket: FakeWebSocket, console, JSON, Math, Map, Set };
vm.createContext(context);
vm.runInContext(fs.readFileSync(process.argv[process.argv.length - 1], "utf8"), context);
const rt = window.AgoraRealtime;
const fireTimer = () => { const t = timers[timers.length - 1]; t.fn(); return t.ms; };
const event = (seq) => ({ topic: "poll.1", seq, type: "poll.tally", data: { n: seq }, ts: "" });
const out = { statuses: [], got: [], errors: [], delays: [] };

rt.onStatus((s) => out.statuses.push(s));
const off = rt.subscribe("poll.1", (e) => out.got.push(e.seq));
rt.subscribe("secret.9", () => {}, { onError: (err) => out.errors.push(err.code) });
let ws = sockets[0];
out.url = ws.url;
ws.open();
out.firstSubscribes = ws.sent.slice();
ws.receive({ type: "subscribed", topic: "poll.1", seq: 5, data: { truncated: false } });
ws.receive({ type: "error", topic: "secret.9", data: { code: "forbidden", message: "no" } });
ws.receive(event(6));
ws.receive(event(6));          // duplicate
ws.receive(event(7));
ws.drop();                     // connection lost
out.delays.push(fireTimer());
ws = sockets[1];
ws.drop();                     // reconnect attempt fails before opening
out.delays.push(fireTimer());
ws = sockets[2];
ws.drop();
out.delays.push(fireTimer());
ws = sockets[3];
ws.open();
out.resubscribes = ws.sent.slice();
ws.receive({ type: "subscribed", topic: "poll.1", seq: 9, data: { truncated: false } });
ws.receive([event(8), event(9)]);  // replayed: one frame holding a page of events
ws.receive(event(8));          // late duplicate from the old stream
ws.receive(event(10));         // live
out.lastSeq = rt.lastSeq("poll.1");
off();
out.afterUnsubscribe = ws.sent.slice(out.resubscribes.length);
out.closed = ws.readyState === 3;
out.socketCount = sockets.length;
console.log(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def run() -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    result = subprocess.run(
        [node, "-e", HARNESS, "--", str(CLIENT)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    parsed: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


def test_client_opens_one_socket_to_the_same_origin_ws_endpoint(run: dict[str, Any]) -> None:
    assert run["url"] == "wss://agora.example/ws/"
    assert run["firstSubscribes"] == [
        {"action": "subscribe", "topic": "poll.1", "batch": True},
        {"action": "subscribe", "topic": "secret.9", "batch": True},
    ]


def test_client_delivers_each_seq_once_in_order_across_reconnects(run: dict[str, Any]) -> None:
    # 8 and 9 arrive together in one replay frame (an array), then 8 again as a late
    # duplicate and 10 live.
    assert run["got"] == [6, 7, 8, 9, 10]
    assert run["lastSeq"] == 10


def test_client_resubscribes_with_its_last_seq_but_not_refused_topics(run: dict[str, Any]) -> None:
    assert run["errors"] == ["forbidden"]
    assert run["resubscribes"] == [
        {"action": "subscribe", "topic": "poll.1", "after_seq": 7, "batch": True}
    ]


def test_client_backs_off_exponentially_with_jitter(run: dict[str, Any]) -> None:
    for attempt, delay in enumerate(run["delays"]):
        base = 500 * 2**attempt
        assert base / 2 <= delay <= base


def test_client_reports_status_changes(run: dict[str, Any]) -> None:
    statuses = run["statuses"]
    assert statuses[:3] == ["closed", "connecting", "live"]
    assert "reconnecting" in statuses
    assert statuses[-2:] == ["live", "closed"]


def test_last_unsubscribe_sends_unsubscribe_and_closes_the_socket(run: dict[str, Any]) -> None:
    assert run["afterUnsubscribe"] == [{"action": "unsubscribe", "topic": "poll.1"}]
    assert run["closed"] is True
    assert run["socketCount"] == 4
