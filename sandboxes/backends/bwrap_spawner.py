"""A small helper process that forks bubblewrap supervisors for one portal process.

Forking the portal itself for every sandbox copies a large address space (tens of ms
under load); this helper is started once per portal process, stays small, and forks a
supervisor in about a millisecond. It reads one JSON request per line on its control
socket and answers ``{"pid": …}`` or ``{"error": …}``. It and every supervisor it forked
watch the portal's lifeline pipe: when the portal process dies, they all end, and each
supervisor kills its sandbox (bwrap's ``--die-with-parent`` takes the rest).

    python -m sandboxes.backends.bwrap_spawner CONTROL_FD LIFELINE_FD
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import sys
from pathlib import Path

from sandboxes.backends.bwrap_supervisor import supervise
from sandboxes.backends.cgroups import CgroupSet


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _spawn(request: dict[str, object], control: socket.socket, lifeline: int) -> int:
    state = Path(str(request["state"]))
    sock_path = state / "pty.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(sock_path))
    os.chmod(sock_path, 0o600)
    listener.listen(16)
    cgroup = CgroupSet(str(request["cgroup_name"]))
    if not request.get("cgroup"):
        cgroup.dirs = {}
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the supervisor
        try:
            control.close()
            supervise(
                state=state,
                argv=[str(a) for a in request["argv"]],  # type: ignore[attr-defined]
                env={str(k): str(v) for k, v in request["env"].items()},  # type: ignore[attr-defined]
                cgroup=cgroup,
                lifeline_fd=lifeline,
                listener=listener,
                cpu_seconds=float(request["cpu_seconds"]),  # type: ignore[arg-type]
                max_age=float(request["max_age"]),  # type: ignore[arg-type]
            )
        finally:
            os._exit(1)
    listener.close()
    return pid


def main(control_fd: int, lifeline: int) -> None:
    control = socket.socket(fileno=control_fd)
    # Inherited on purpose from the portal; keep both out of every sandbox process.
    os.set_inheritable(control_fd, False)
    os.set_inheritable(lifeline, False)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    buffer = b""
    while True:
        ready, _, _ = select.select([control, lifeline], [], [], 1.0)
        _reap()
        if lifeline in ready:
            return  # the portal process is gone
        if control not in ready:
            continue
        chunk = control.recv(65536)
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            try:
                reply: dict[str, object] = {"pid": _spawn(json.loads(line), control, lifeline)}
            except Exception as exc:
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            with contextlib.suppress(OSError):
                control.sendall(json.dumps(reply).encode() + b"\n")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
