"""The stop-marker wrapper for commands in sandboxes a run does not own (plain ``sh``)."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

from sandboxes.agents.sandbox_workspace import stoppable_command


def run(command: str, cwd: Path, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/sh", "-c", command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def test_output_and_exit_status_are_the_commands_own(tmp_path: Path) -> None:
    done = run(stoppable_command('echo "it\'s"; echo err >&2; cd /; exit 3', ".stop-a"), tmp_path)
    assert done.returncode == 3
    assert done.stdout == "it's\n"
    assert list(tmp_path.iterdir()) == []


def test_the_marker_kills_the_command_and_its_children(tmp_path: Path) -> None:
    command = stoppable_command("sleep 30 & sleep 31; echo not reached", ".stop-b")

    def stop_soon() -> None:
        time.sleep(0.5)
        (tmp_path / ".stop-b").touch()

    threading.Thread(target=stop_soon).start()
    started = time.monotonic()
    done = run(command, tmp_path)
    assert time.monotonic() - started < 5
    assert done.returncode == 137  # SIGKILL
    assert "not reached" not in done.stdout
    assert not (tmp_path / ".stop-b").exists()
