"""From inside a sandbox, on every backend: each attempt to escape must fail."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Callable

import pytest

from sandboxes.backends.base import FileRefused, Handle, SandboxBackend


def wait_exited(backend: SandboxBackend, handle: Handle, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = backend.status(handle)
        if status.state != "running":
            return status.reason
        time.sleep(0.1)
    raise AssertionError("sandbox still running")


def test_no_network_connect_to_host_loopback_is_refused(
    any_backend: SandboxBackend, launch: Callable[..., Handle]
) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    handle = launch()
    try:
        result = any_backend.exec(
            handle,
            f"echo ALIVE; bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}' && echo CONNECTED",
            timeout=10,
        )
        assert b"ALIVE" in result.output
        assert b"CONNECTED" not in result.output
        with pytest.raises(BlockingIOError):
            listener.accept()
        interfaces = any_backend.exec(handle, "ls /sys/class/net 2>/dev/null || cat /proc/net/dev")
        assert b"eth" not in interfaces.output
    finally:
        listener.close()


def test_cannot_write_outside_the_workspace(
    any_backend: SandboxBackend, launch: Callable[..., Handle]
) -> None:
    handle = launch()
    result = any_backend.exec(
        handle,
        "for p in /usr/escape /etc/escape /escape /bin/escape /var/escape; do "
        "touch $p 2>/dev/null && echo WROTE $p; done; touch /workspace/ok && echo WS_OK",
    )
    assert b"WROTE" not in result.output
    assert b"WS_OK" in result.output
    assert not os.path.exists("/usr/escape")
    assert not os.path.exists("/etc/escape")


def test_cannot_see_host_processes(
    any_backend: SandboxBackend, launch: Callable[..., Handle]
) -> None:
    marker = f"agora-host-marker-{os.getpid()}"
    host = subprocess.Popen(["/bin/sh", "-c", f"exec -a {marker} sleep 30"])
    try:
        handle = launch()
        result = any_backend.exec(
            handle,
            "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '; echo; ls -d /proc/[0-9]* | wc -l",
        )
        assert result.exit_code == 0, result
        assert marker.encode() not in result.output
        count = int(result.output.strip().splitlines()[-1])
        assert count < 15, result.output
    finally:
        host.kill()
        host.wait()


def test_memory_limit_kills_and_records_the_reason(
    any_backend: SandboxBackend, launch: Callable[..., Handle]
) -> None:
    handle = launch(  # noqa: S604 - the sandbox shell, not a host shell
        shell=("/bin/sh", "-c", "python3 -c 'a = b\"x\" * (400 << 20); print(len(a))'"),
        memory_mb=64,
    )
    assert wait_exited(any_backend, handle) == "memory"
    assert b"419430400" not in any_backend.terminal_log(handle)


def test_process_limit_stops_a_fork_bomb(
    any_backend: SandboxBackend, launch: Callable[..., Handle]
) -> None:
    handle = launch(pids=24)
    script = (
        "import os, time\n"
        "n = 0\n"
        "for _ in range(60):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError:\n"
        "        continue\n"
        "    if pid == 0:\n"
        "        time.sleep(2)\n"
        "        os._exit(0)\n"
        "    n += 1\n"
        "print('FORKED', n, flush=True)\n"
    )
    any_backend.write_file(handle, "bomb.py", script.encode())
    result = any_backend.exec(handle, "python3 bomb.py", timeout=30)
    assert b"FORKED" in result.output, result
    forked = int(result.output.split(b"FORKED")[1].split()[0])
    assert 0 < forked < 24, result.output


def test_cpu_time_limit_kills_a_busy_loop(
    any_backend: SandboxBackend, launch: Callable[..., Handle], backend_kind: str
) -> None:
    handle = launch(cpu_seconds=2, cpus=1.0)
    started = time.monotonic()
    result = any_backend.exec(handle, "while :; do :; done", timeout=30)
    assert not result.timed_out
    assert time.monotonic() - started < 20
    assert result.exit_code != 0
    if backend_kind == "bubblewrap":
        # The supervisor ends the whole sandbox once its cgroup has used the budget.
        assert wait_exited(any_backend, handle) == "cpu_time"
    else:
        assert result.killed_by in ("cpu_time", "killed")


def test_cannot_read_another_sandboxs_workspace(
    any_backend: SandboxBackend, launch: Callable[..., Handle]
) -> None:
    first = launch()
    second = launch()
    any_backend.write_file(first, "secret-file.txt", b"top secret")
    path = getattr(first, "ref", "")
    result = any_backend.exec(
        second,
        f"cat {path}/workspace/secret-file.txt 2>&1; find / -name secret-file.txt 2>/dev/null; "
        "cat /workspace/secret-file.txt 2>&1; echo ALIVE",
        timeout=30,
    )
    assert b"ALIVE" in result.output
    assert b"top secret" not in result.output
    assert b"secret-file.txt\n" not in result.output.replace(b"No such file", b"")


def test_cannot_gain_capabilities(
    any_backend: SandboxBackend, launch: Callable[..., Handle]
) -> None:
    handle = launch()
    result = any_backend.exec(
        handle,
        "grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status; id -u; "
        "unshare -U -r id 2>&1 && echo USERNS_OK; "
        "grep NoNewPrivs /proc/self/status",
    )
    text = result.output.decode()
    for line in text.splitlines():
        if line.startswith("Cap"):
            assert line.split()[1] == "0000000000000000", text
    assert "USERNS_OK" not in text
    uid = int(next(ln for ln in text.splitlines() if ln.strip().isdigit()))
    assert uid != 0
    assert "NoNewPrivs:\t1" in text


def test_files_api_refuses_traversal_and_symlinks(
    any_backend: SandboxBackend, launch: Callable[..., Handle]
) -> None:
    handle = launch()
    any_backend.exec(handle, "ln -s /etc/passwd link; mkdir d; ln -s / d/root")
    with pytest.raises(FileRefused):
        any_backend.read_file(handle, "../../etc/passwd", max_bytes=10_000)
    with pytest.raises(FileRefused):
        any_backend.read_file(handle, "link", max_bytes=10_000)
    with contextlib.suppress(FileRefused):
        any_backend.write_file(handle, "d/root/etc/evil", b"x")
    assert not os.path.exists("/etc/evil")
    # Docker replaces the link with a directory inside the workspace: still contained.
    assert b"ESCAPED" not in any_backend.exec(handle, "test -e /etc/evil && echo ESCAPED").output
    any_backend.write_file(handle, "sub/dir/hello.txt", b"hello")
    assert any_backend.read_file(handle, "sub/dir/hello.txt", max_bytes=100) == b"hello"
    names = [e.name for e in any_backend.list_files(handle, "sub/dir")]
    assert names == ["hello.txt"]
    owner = any_backend.exec(handle, "cat sub/dir/hello.txt && echo more >> sub/dir/hello.txt")
    assert owner.output.startswith(b"hello") and owner.exit_code == 0
