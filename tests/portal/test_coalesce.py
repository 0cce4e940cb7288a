"""The coalescer: a key sends at once when it has been quiet, and a burst ends with exactly
one trailing send of the latest state."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from portal.realtime.coalesce import Coalescer


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[Any, Any, str]] = []
        self.done = threading.Event()

    def send(self, key: Any, value: Any) -> Any:
        def run() -> None:
            self.sent.append((key, value, threading.current_thread().name))
            self.done.set()

        return run

    def wait_for(self, count: int, timeout: float = 3.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.sent) < count and time.monotonic() < deadline:
            time.sleep(0.005)


def test_without_an_interval_every_poke_sends_at_once() -> None:
    rec = Recorder()
    coalescer = Coalescer(lambda: 0, "test")
    for i in range(5):
        coalescer.poke("k", rec.send("k", i))
    assert [v for _, v, _ in rec.sent] == [0, 1, 2, 3, 4]


def test_a_burst_sends_its_first_poke_at_once_and_its_latest_once_afterwards() -> None:
    rec = Recorder()
    coalescer = Coalescer(lambda: 0.2, "test")
    started = time.monotonic()
    for i in range(50):
        coalescer.poke("k", rec.send("k", i))
    assert [v for _, v, _ in rec.sent] == [0]  # the leading send ran in the caller
    assert rec.sent[0][2] == threading.current_thread().name
    rec.wait_for(2)
    elapsed = time.monotonic() - started
    assert [v for _, v, _ in rec.sent] == [0, 49]  # one trailing send, of the latest state
    assert elapsed >= 0.19
    assert rec.sent[1][2] == "coalesce-test"
    time.sleep(0.3)
    assert len(rec.sent) == 2  # nothing more without new pokes


def test_a_quiet_key_sends_at_once_again_and_keys_are_independent() -> None:
    rec = Recorder()
    coalescer = Coalescer(lambda: 0.1, "test")
    coalescer.poke("a", rec.send("a", 1))
    coalescer.poke("b", rec.send("b", 1))
    assert [(k, v) for k, v, _ in rec.sent] == [("a", 1), ("b", 1)]
    time.sleep(0.15)
    coalescer.poke("a", rec.send("a", 2))
    assert [(k, v) for k, v, _ in rec.sent][-1] == ("a", 2)
    assert len(rec.sent) == 3


def test_every_poke_is_covered_by_a_send_that_runs_after_it() -> None:
    """Pokes racing the flusher: the last poke's state is always sent."""
    rec = Recorder()
    coalescer = Coalescer(lambda: 0.02, "test")
    last = 0
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        last += 1
        coalescer.poke("k", rec.send("k", last))
        time.sleep(0.001)
    time.sleep(0.1)
    values = [v for _, v, _ in rec.sent]
    assert values[-1] == last
    assert values == sorted(values)
    assert len(values) < last / 3  # coalesced


def test_a_failing_send_is_logged_and_the_flusher_keeps_going(caplog) -> None:
    rec = Recorder()
    coalescer = Coalescer(lambda: 0.05, "test")

    def boom() -> None:
        raise RuntimeError("layer down")

    coalescer.poke("k", rec.send("k", 0))
    coalescer.poke("k", boom)
    time.sleep(0.3)
    coalescer.poke("k", rec.send("k", 1))
    coalescer.poke("k", rec.send("k", 2))
    rec.wait_for(3)
    assert [v for _, v, _ in rec.sent] == [0, 1, 2]
    assert "coalesced send failed" in caplog.text


@pytest.mark.parametrize("interval", [0.0, -1.0])
def test_a_non_positive_interval_never_starts_a_thread(interval: float) -> None:
    before = {t.name for t in threading.enumerate()}
    coalescer = Coalescer(lambda: interval, "never-started")
    rec = Recorder()
    for i in range(3):
        coalescer.poke("k", rec.send("k", i))
    assert len(rec.sent) == 3
    assert "coalesce-never-started" not in {t.name for t in threading.enumerate()} - before


def test_a_deferred_send_runs_on_the_flusher_thread_even_for_a_quiet_key() -> None:
    rec = Recorder()
    coalescer = Coalescer(lambda: 0.5, "deferred")
    started = time.monotonic()
    coalescer.poke("k", rec.send("k", 1), defer=True)
    assert rec.sent == []  # not in the caller
    rec.wait_for(1)
    assert [(v, name) for _, v, name in rec.sent] == [(1, "coalesce-deferred")]
    assert time.monotonic() - started < 0.4  # due at once, not after the interval
    coalescer.poke("k", rec.send("k", 2), defer=True)
    coalescer.poke("k", rec.send("k", 3), defer=True)
    rec.wait_for(2)
    assert [v for _, v, _ in rec.sent] == [1, 3]  # the burst's latest, one interval later
