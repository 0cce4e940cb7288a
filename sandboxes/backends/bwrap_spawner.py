"""A small helper process that forks bubblewrap supervisors for one portal process.

Forking the portal itself for every sandbox copies a large address space (tens of ms
under load); this helper is started once per portal process, imports only the standard
library and this package's Django-free modules (so it is up in tens of milliseconds and
cheap to fork), and keeps one supervisor on standby (see ``bwrap_supervisor.standby``)
so a launch does not wait for a fork or a cgroup migration.

It reads one JSON request per line on its control socket and answers one JSON line:

- ``{"op": "claim", "limits": {memory_mb, cpus, pids}}`` → ``{"token", "cgroup"}``: take
  the standby supervisor, set the cgroup's limits (``cgroup`` is "" without cgroups);
- ``{"op": "start", "token", "state", "argv", "env", "rlimits", "uid", "cpu_seconds",
  "max_age"}`` → ``{"pid"}``: bind the terminal socket and let the supervisor go;
- ``{"op": "release", "token"}`` → ``{}``: a claimed supervisor that is not needed.

Errors answer ``{"error": …}``. It and every supervisor watch the portal's lifeline pipe:
when the portal process dies they all end, and each supervisor kills its sandbox (bwrap's
``--die-with-parent`` takes the rest).

    python -S -E -m sandboxes.backends.bwrap_spawner CONTROL_FD LIFELINE_FD
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import select
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandboxes.backends.bwrap_supervisor import payload_send, pty_open, standby
from sandboxes.backends.cgroups import CgroupSet, standby_groups_prune, standby_name

_COUNTER = itertools.count(1)
STANDBY = 2  # supervisors kept waiting: a burst of two launches finds both ready
# Standbys are forked once the spawner has been idle this long, not while the sandbox
# just started competes for the CPU (forking and joining a cgroup take milliseconds).
REFILL_AFTER = 0.025


@dataclass
class _Standby:
    pid: int
    sock: socket.socket  # to the standby supervisor
    child: socket.socket  # to its waiting first process
    cgroup: CgroupSet | None

    def discard(self) -> None:
        """Close its sockets (it and its waiting child then leave), drop its cgroup."""
        for sock in (self.sock, self.child):
            with contextlib.suppress(OSError):
                sock.close()
        if self.cgroup is not None:
            self.cgroup.destroy()


class Spawner:
    def __init__(self, control: socket.socket, lifeline: int) -> None:
        self.control = control
        self.lifeline = lifeline
        self.ready: list[_Standby] = []
        self.claimed: dict[int, _Standby] = {}

    def _fork_standby(self) -> _Standby:
        cgroup: CgroupSet | None = None
        if os.geteuid() == 0:
            candidate = CgroupSet(standby_name(os.getpid(), next(_COUNTER)))
            if candidate.available:
                candidate.make()
                cgroup = candidate
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        to_child, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the standby supervisor
            try:
                ours.close()
                to_child.close()
                self.control.close()
                for other in [*self.ready, *self.claimed.values()]:
                    other.sock.close()
                    other.child.close()
                standby(
                    control=theirs,
                    child_sock=child_end,
                    lifeline_fd=self.lifeline,
                    cgroup_procs=cgroup.procs_files() if cgroup else [],
                )
            finally:
                os._exit(1)
        theirs.close()
        child_end.close()
        return _Standby(pid=pid, sock=ours, child=to_child, cgroup=cgroup)

    def refill(self) -> None:
        """Fork one more standby if fewer than ``STANDBY`` are waiting."""
        if len(self.ready) < STANDBY:
            self.ready.append(self._fork_standby())

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "launch":  # claim and start in one round trip (no setup commands to run)
            claim = self.handle({**request, "op": "claim"})
            started = self.handle({**request, "op": "start", "token": claim["token"]})
            return {**claim, **started}
        if op == "claim":
            entry = self.ready.pop(0) if self.ready else self._fork_standby()
            token = next(_COUNTER)
            self.claimed[token] = entry
            if entry.cgroup is not None:
                limits = request["limits"]
                entry.cgroup.set_limits(
                    memory_mb=int(limits["memory_mb"]),
                    cpus=float(limits["cpus"]),
                    pids=int(limits["pids"]),
                )
            return {"token": token, "cgroup": entry.cgroup.name if entry.cgroup else ""}
        if op == "release":
            released = self.claimed.pop(int(request["token"]), None)
            if released is not None:
                released.discard()
            return {}
        if op == "start":
            entry = self.claimed.pop(int(request["token"]))
            sock_path = Path(str(request["state"])) / "pty.sock"
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            master, slave = pty_open()
            try:
                # The sandbox's first process goes at once; its supervisor wakes meanwhile.
                payload_send(
                    entry.child,
                    slave,
                    {key: request[key] for key in ("argv", "env", "rlimits", "uid")},
                )
                listener.bind(str(sock_path))
                os.chmod(sock_path, 0o600)
                listener.listen(16)
                message = {key: request[key] for key in ("state", "cpu_seconds", "max_age")}
                message["cgroup_name"] = entry.cgroup.name if entry.cgroup else ""
                socket.send_fds(
                    entry.sock, [json.dumps(message).encode()], [listener.fileno(), master]
                )
            except BaseException:
                entry.discard()
                raise
            finally:
                listener.close()
                os.close(master)
                os.close(slave)
            entry.child.close()
            entry.sock.close()
            return {"pid": entry.pid}
        raise ValueError(f"unknown request {op!r}")

    def shutdown(self) -> None:
        for entry in [*self.ready, *self.claimed.values()]:
            if entry is not None:
                with contextlib.suppress(OSError):
                    os.kill(entry.pid, signal.SIGKILL)
                entry.discard()


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main(control_fd: int, lifeline: int) -> None:
    control = socket.socket(fileno=control_fd)
    # Inherited on purpose from the portal; keep both out of every sandbox process.
    os.set_inheritable(control_fd, False)
    os.set_inheritable(lifeline, False)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    spawner = Spawner(control, lifeline)
    spawner.refill()
    if os.geteuid() == 0:
        with contextlib.suppress(OSError):
            standby_groups_prune()
    buffer = b""
    refill_at = time.monotonic()
    try:
        while True:
            wait = max(0.0, refill_at - time.monotonic()) if refill_at else 1.0
            ready, _, _ = select.select([control, lifeline], [], [], wait)
            _reap()
            if lifeline in ready:
                return  # the portal process is gone
            if control not in ready:
                if refill_at and time.monotonic() >= refill_at:
                    spawner.refill()
                    full = len(spawner.ready) >= STANDBY
                    refill_at = 0.0 if full else time.monotonic()
                continue
            chunk = control.recv(65536)
            if not chunk:
                return
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                try:
                    reply: dict[str, Any] = spawner.handle(json.loads(line))
                except Exception as exc:
                    reply = {"error": f"{type(exc).__name__}: {exc}"}
                with contextlib.suppress(OSError):
                    control.sendall(json.dumps(reply).encode() + b"\n")
            refill_at = time.monotonic() + REFILL_AFTER
    finally:
        spawner.shutdown()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
