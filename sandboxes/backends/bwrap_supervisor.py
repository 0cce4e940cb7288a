"""The supervisor of one bubblewrap sandbox.

It runs in a process forked from the portal (no exec: starting a fresh interpreter would
cost more than bwrap itself). It owns the sandbox's PTY, serves the terminal socket,
keeps the output log and a bounded scrollback, enforces the CPU-time and wall-clock
budgets the kernel cannot, and kills everything when the portal process goes away
(the lifeline pipe reaches EOF) — bwrap's ``--die-with-parent`` then takes the rest.
Only ``os``-level calls are used here and it always leaves with ``os._exit``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import selectors
import signal
import socket
import struct
import termios
import time
import traceback
from pathlib import Path

from sandboxes.backends.cgroups import CgroupSet
from sandboxes.backends.ptyproto import HEADER, MAX_FRAME, frame

SCROLLBACK_BYTES = 64 * 1024
LOG_MAX_BYTES = 4 * 1024 * 1024
TICK = 0.25
_CHILDREN: list[int] = []  # what to kill if the supervisor itself fails


class _Client:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""


def _set_winsize(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def supervise(
    *,
    state: Path,
    argv: list[str],
    env: dict[str, str],
    cgroup: CgroupSet,
    lifeline_fd: int,
    listener: socket.socket,
    cpu_seconds: float,
    max_age: float,
) -> None:
    """Start the shell under a new PTY and serve it until it ends. Never returns."""
    code = 1
    try:
        code = _run(state, argv, env, cgroup, lifeline_fd, listener, cpu_seconds, max_age)
    except BaseException:
        # Never leave a sandbox without its supervisor: kill what was started, then leave
        # the reason where status() and an operator will find it.
        for child in _CHILDREN:
            with contextlib.suppress(OSError):
                os.kill(child, signal.SIGKILL)
        with contextlib.suppress(Exception):
            cgroup.kill_all()
        with contextlib.suppress(Exception):
            (state / "supervisor.error").write_text(traceback.format_exc())
    finally:
        os._exit(code)


def _run(
    state: Path,
    argv: list[str],
    env: dict[str, str],
    cgroup: CgroupSet,
    lifeline_fd: int,
    listener: socket.socket,
    cpu_budget: float,
    max_age: float,
) -> int:
    os.setsid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop_reason: list[str] = []
    signal.signal(signal.SIGTERM, lambda *_: stop_reason.append("stopped"))
    master, slave = os.openpty()
    _set_winsize(master, 24, 80)
    # posix_spawn (vfork-fast) with a new session; opening the PTY slave by name as the
    # session leader makes it the controlling terminal, so Ctrl-C reaches the foreground
    # job, not the sandbox.
    slave_path = os.ttyname(slave)
    pid = os.posix_spawn(
        argv[0],
        argv,
        env,
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, slave_path, os.O_RDWR, 0),
            (os.POSIX_SPAWN_DUP2, 0, 1),
            (os.POSIX_SPAWN_DUP2, 0, 2),
        ],
        setsid=True,
        setsigdef=(signal.SIGINT, signal.SIGTERM, signal.SIGPIPE),
    )
    _CHILDREN.append(pid)
    os.close(slave)
    started = time.monotonic()
    (state / "supervisor.pid").write_text(str(os.getpid()))
    log = open(state / "terminal.log", "ab", buffering=0)  # noqa: SIM115
    log_size = log.tell()
    scrollback = bytearray()
    clients: list[_Client] = []
    sel = selectors.DefaultSelector()
    os.set_blocking(master, False)
    sel.register(master, selectors.EVENT_READ, "pty")
    sel.register(listener, selectors.EVENT_READ, "listen")
    sel.register(lifeline_fd, selectors.EVENT_READ, "lifeline")
    last_activity_touch = 0.0
    exit_status: int | None = None
    exited_at = 0.0
    pty_open = True

    def broadcast(data: bytes) -> None:
        nonlocal log_size
        scrollback.extend(data)
        if len(scrollback) > SCROLLBACK_BYTES:
            del scrollback[: len(scrollback) - SCROLLBACK_BYTES]
        if log_size < LOG_MAX_BYTES:
            log.write(data[: LOG_MAX_BYTES - log_size])
            log_size += len(data)
        payload = frame(b"o", data)
        for client in list(clients):
            try:
                client.sock.sendall(payload)
            except OSError:
                drop(client)

    def drop(client: _Client) -> None:
        with contextlib.suppress(Exception):
            sel.unregister(client.sock)
        with contextlib.suppress(OSError):
            client.sock.close()
        if client in clients:
            clients.remove(client)

    def kill_tree() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        cgroup.kill_all()

    while True:
        for key, _ in sel.select(TICK):
            tag = key.data
            if tag == "pty":
                try:
                    data = os.read(master, 65536)
                except OSError as exc:  # EIO: the shell and everything on the PTY exited
                    if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
                        sel.unregister(master)
                        pty_open = False
                    continue
                if not data:
                    sel.unregister(master)
                    pty_open = False
                    continue
                broadcast(data)
            elif tag == "listen":
                with contextlib.suppress(OSError):
                    conn, _ = listener.accept()
                    conn.setblocking(True)
                    conn.settimeout(5)
                    client = _Client(conn)
                    clients.append(client)
                    sel.register(conn, selectors.EVENT_READ, client)
                    with contextlib.suppress(OSError):
                        conn.sendall(frame(b"o", bytes(scrollback)))
            elif tag == "lifeline":
                stop_reason.append("portal_exited")
            elif isinstance(tag, _Client):
                client = tag
                try:
                    chunk = client.sock.recv(65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    drop(client)
                    continue
                client.buf += chunk
                while len(client.buf) >= HEADER.size:
                    kind, length = HEADER.unpack_from(client.buf)
                    if length > MAX_FRAME:
                        drop(client)
                        break
                    if len(client.buf) < HEADER.size + length:
                        break
                    payload = client.buf[HEADER.size : HEADER.size + length]
                    client.buf = client.buf[HEADER.size + length :]
                    if kind == b"i" and pty_open:
                        with contextlib.suppress(OSError):
                            os.write(master, payload)
                        now = time.time()
                        if now - last_activity_touch > 1:
                            last_activity_touch = now
                            (state / "activity").touch()
                    elif kind == b"r" and pty_open:
                        with contextlib.suppress(ValueError, OSError):
                            rows, cols = (int(x) for x in payload.split(b","))
                            _set_winsize(master, max(rows, 2), max(cols, 2))
                            with contextlib.suppress(ProcessLookupError):
                                os.killpg(os.getpgid(pid), signal.SIGWINCH)

        if exit_status is None:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                exit_status = status
                exited_at = time.monotonic()
        if stop_reason:
            kill_tree()
            break
        if cpu_budget and cgroup.cpu_seconds() > cpu_budget:
            stop_reason.append("cpu_time")
            kill_tree()
            break
        if max_age and time.monotonic() - started > max_age:
            stop_reason.append("max_age")
            kill_tree()
            break
        # Shell gone: finish once the PTY has drained (EIO) or after a short grace.
        if exit_status is not None and (not pty_open or time.monotonic() - exited_at > 1.0):
            break

    if exit_status is None:
        with contextlib.suppress(ChildProcessError):
            _, exit_status = os.waitpid(pid, 0)
    reason = stop_reason[0] if stop_reason else "exited"
    if reason in ("exited", "stopped") and cgroup.oom_kills():
        reason = "memory"
    code: int | None = None
    if exit_status is not None:
        code = os.waitstatus_to_exitcode(exit_status)
    if reason == "exited" and code is not None and code < 0 and cgroup.oom_kills():
        reason = "memory"
    info = {
        "exit_code": code,
        "reason": reason,
        "ended_at": time.time(),
        "cpu_seconds": cgroup.cpu_seconds(),
        "memory_peak": cgroup.memory_peak(),
    }
    tmp = state / "exit.json.tmp"
    tmp.write_text(json.dumps(info))
    tmp.rename(state / "exit.json")
    payload = frame(b"x", json.dumps(info).encode())
    for client in list(clients):
        with contextlib.suppress(OSError):
            client.sock.sendall(payload)
        drop(client)
    cgroup.destroy()
    with contextlib.suppress(OSError):
        (state / "pty.sock").unlink()
    log.close()
    return 0
