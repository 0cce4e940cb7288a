"""Recipe setup commands run at launch, in order, on every backend; a failing one stops it."""

from __future__ import annotations

from typing import Any

import pytest

from sandboxes.backends.base import BackendError


def test_setup_commands_run_in_order_before_the_shell(launch: Any, any_backend: Any) -> None:
    handle = launch(setup=("echo one > order.txt", "echo two >> order.txt"))
    result = any_backend.exec(handle, "cat order.txt")
    assert result.exit_code == 0
    assert result.output.split() == [b"one", b"two"]


def test_failing_setup_command_stops_the_launch_with_its_output(launch: Any) -> None:
    with pytest.raises(BackendError) as exc:
        launch(setup=("echo fine", "echo broken-step >&2; exit 3", "echo never"))
    message = str(exc.value)
    assert "exited with 3" in message
    assert "broken-step" in message
