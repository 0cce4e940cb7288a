"""The supervisor of one bubblewrap sandbox.

It runs in a process forked from the spawner (no exec: starting a fresh interpreter would
cost more than bwrap itself), and it is forked *before* it is needed: a supervisor on
standby has already forked the sandbox's first process, which has already joined its
cgroup. Joining a cgroup waits for an RCU grace period (5 to 15 ms here, more than
bwrap itself), so that wait happens between launches instead of inside one. It owns the
sandbox's PTY, serves the terminal socket, keeps the output log and a bounded
scrollback, enforces the CPU-time and wall-clock budgets the kernel cannot, and kills
everything when the portal process goes away
(the lifeline pipe reaches EOF) — bwrap's ``--die-with-parent`` then takes the rest.
Only ``os``-level calls are used here and it always leaves with ``os._exit``.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import resource
import select
import selectors
import signal
import socket
import struct
import termios
import time
import traceback
from pathlib import Path
from typing import TypedDict

from sandboxes.backends.cgroups import CgroupSet
from sandboxes.backends.ptyframe import HEADER, MAX_FRAME, frame

SCROLLBACK_BYTES = 64 * 1024
LOG_MAX_BYTES = 4 * 1024 * 1024
TICK = 0.25
_CHILDREN: list[int] = []  # what to kill if the supervisor itself fails
PR_SET_NO_NEW_PRIVS = 38
_LIBC = ctypes.CDLL(None, use_errno=True)


class PayloadSetup(TypedDict):
    """What the sandbox's first process does to itself before it execs bwrap."""

    rlimits: dict[str, int]  # RLIMIT_<name> → soft and hard limit
    uid: int | None  # drop to this uid/gid with no groups (None: stay as we are)


def _no_new_privs() -> None:
    if _LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")


def standby(
    *,
    control: socket.socket,
    child_sock: socket.socket,
    lifeline_fd: int,
    cgroup_procs: list[str],
) -> None:
    """A supervisor waiting for its sandbox (forked by the spawner). Never returns.

    It forks the sandbox's first process at once; that process joins the cgroup and waits
    on ``child_sock`` for its PTY and command, which the spawner sends it directly (so the
    sandbox starts while this supervisor is still waking up). The spawner sends us one
    request: JSON with the terminal socket's listener and the PTY's master end as fds.
    EOF on ``control`` or on the lifeline means the sandbox is not wanted: both end.
    """
    try:
        child = os.fork()
        if child == 0:  # pragma: no cover - the sandbox's first process
            try:
                control.close()
                _payload_wait(child_sock, cgroup_procs)
            finally:
                os._exit(125)
        child_sock.close()
        _CHILDREN.append(child)
        ready, _, _ = select.select([control, lifeline_fd], [], [])
        message, fds = b"", list[int]()
        if control in ready:
            message, fds, _, _ = socket.recv_fds(control, 1 << 20, 2)
        if not message or len(fds) != 2:
            raise SystemExit(0)  # not wanted: the child sees EOF and leaves
        control.close()
        request = json.loads(message)
        cgroup = CgroupSet(request["cgroup_name"])
        if not request["cgroup_name"]:
            cgroup.dirs = {}
        supervise(
            state=Path(request["state"]),
            cgroup=cgroup,
            lifeline_fd=lifeline_fd,
            listener=socket.socket(fileno=fds[0]),
            master=fds[1],
            cpu_seconds=float(request["cpu_seconds"]),
            max_age=float(request["max_age"]),
            child=child,
        )
    finally:
        for pid in _CHILDREN:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        os._exit(0)


def _payload_wait(setup_sock: socket.socket, cgroup_procs: list[str]) -> None:
    """The sandbox's first process: join the cgroup now, run once told how."""
    me = str(os.getpid()).encode()
    for procs in cgroup_procs:
        cg = os.open(procs, os.O_WRONLY)
        try:
            os.write(cg, me)
        finally:
            os.close(cg)
    message, fds, _, _ = socket.recv_fds(setup_sock, 1 << 20, 1)
    if not message or not fds:
        return  # the supervisor went away without a sandbox to start
    setup_sock.close()
    request = json.loads(message)
    _exec_payload(request["argv"], request["env"], fds[0], request)


def _exec_payload(argv: list[str], env: dict[str, str], tty: int, setup: PayloadSetup) -> None:
    """In the waiting child: take the PTY as controlling terminal, set the rlimits, drop
    to the sandbox uid with no new privileges, then exec bwrap.

    This replaces a ``sh -c 'ulimit …' → setpriv → bwrap`` chain (two execs on every
    launch) with system calls in a process that already exists. Any failure ends the
    child with status 125 before bwrap runs: fail closed.
    """
    try:
        for signo in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGQUIT):
            signal.signal(signo, signal.SIG_DFL)
        os.setsid()
        fcntl.ioctl(tty, termios.TIOCSCTTY, 0)  # Ctrl-C reaches the foreground job
        for target in (0, 1, 2):
            os.dup2(tty, target)
        if tty > 2:
            os.close(tty)
        for name, value in setup["rlimits"].items():
            resource.setrlimit(getattr(resource, f"RLIMIT_{name}"), (value, value))
        uid = setup["uid"]
        if uid is not None:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
        _no_new_privs()
        os.execve(argv[0], argv, env)  # noqa: S606 - bwrap, argv built by the backend
    except BaseException as exc:
        with contextlib.suppress(Exception):
            os.write(2, f"the sandbox could not start: {exc}\r\n".encode())
    finally:
        os._exit(125)


class _Client:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""


def pty_open() -> tuple[int, int]:
    """A new PTY (master, slave) with the terminal's initial size."""
    master, slave = os.openpty()
    _set_winsize(master, 24, 80)
    return master, slave


def payload_send(child_sock: socket.socket, slave: int, message: dict[str, object]) -> None:
    """Hand the waiting first process its command, limits and PTY slave (the slave
    travels with the message, so the PTY never loses its last slave, which would hang up
    the master, between our close and the child's use)."""
    socket.send_fds(child_sock, [json.dumps(message).encode()], [slave])


def _set_winsize(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def supervise(
    *,
    state: Path,
    cgroup: CgroupSet,
    lifeline_fd: int,
    listener: socket.socket,
    master: int,
    cpu_seconds: float,
    max_age: float,
    child: int,
) -> None:
    """Serve the sandbox's PTY (``master``; ``child`` runs on its other end) until it
    ends. Never returns."""
    code = 1
    _CHILDREN.append(child)
    try:
        code = _run(state, cgroup, lifeline_fd, listener, master, cpu_seconds, max_age, child)
    except BaseException:
        # Never leave a sandbox without its supervisor: kill what was started, then leave
        # the reason where status() and an operator will find it.
        for pid in _CHILDREN:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            cgroup.kill_all()
        with contextlib.suppress(Exception):
            (state / "supervisor.error").write_text(traceback.format_exc())
    finally:
        os._exit(code)


def _run(
    state: Path,
    cgroup: CgroupSet,
    lifeline_fd: int,
    listener: socket.socket,
    master: int,
    cpu_budget: float,
    max_age: float,
    pid: int,
) -> int:
    os.setsid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop_reason: list[str] = []
    signal.signal(signal.SIGTERM, lambda *_: stop_reason.append("stopped"))
    # A stop request wakes the loop at once instead of at the next tick.
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
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
    sel.register(wake_r, selectors.EVENT_READ, "wake")
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
            elif tag == "wake":
                with contextlib.suppress(OSError):
                    os.read(wake_r, 512)
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
