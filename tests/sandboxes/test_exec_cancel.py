"""Cancelling one command: its whole process group is killed, the sandbox stays up."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sandboxes.backends.base import Handle, SandboxBackend


def test_cancel_kills_the_command_and_its_children_not_the_sandbox(
    any_backend: SandboxBackend, launch: Callable[..., Handle]
) -> None:
    handle = launch()
    cancel = threading.Event()
    # A child in the background and one in the foreground: both must go.
    command = "echo started; (sleep 30; echo child-survived > survived.txt) & sleep 31; echo end"
    timer = threading.Timer(1.0, cancel.set)
    timer.start()
    started = time.monotonic()
    try:
        result = any_backend.exec(handle, command, timeout=60, cancel=cancel)
    finally:
        timer.cancel()
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"the command ran {elapsed:.1f} s after the cancel"
    assert result.killed_by == "cancelled", result
    assert not result.timed_out
    assert b"started" in result.output and b"end" not in result.output
    # The sandbox is still usable, and the background child did not outlive the cancel.
    count_sleeps = (
        "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done"
        " | grep -c '^sleep 3'"
    )
    after = any_backend.exec(handle, f"echo still-here; {count_sleeps}")
    lines = after.output.decode().split()
    assert lines[0] == "still-here", after
    assert lines[-1] == "0", after


def test_an_unset_cancel_changes_nothing(
    any_backend: SandboxBackend, launch: Callable[..., Handle]
) -> None:
    handle = launch()
    result = any_backend.exec(
        handle, "echo out; echo err >&2; exit 3", timeout=30, cancel=threading.Event()
    )
    assert result.exit_code == 3
    assert result.killed_by == "", result
    assert b"out" in result.output and b"err" in result.output
