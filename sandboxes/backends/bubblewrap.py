"""The bubblewrap backend: the embedded default, sandboxes on this machine.

Each sandbox is a directory ``SANDBOX_ROOT/<id>/`` (root-only, traversable) holding its
spec, a private workspace owned by a uid of its own (a size-limited tmpfs: the disk
quota), the terminal socket and log. The payload runs as that unprivileged uid inside new
user, mount, pid, net, ipc and uts namespaces with every capability dropped, ``/usr``
read-only and a handful of ``/etc`` files; limits come from rlimits and a cgroup (v1 or
v2). The terminal's process is started by a standby supervisor (``bwrap_spawner``) that
sets the rlimits and drops privileges itself; one-off commands (``exec``) go through a
small shell and ``setpriv``, which do the same.

Workspace bytes live in memory (tmpfs) and are charged to the writer's memory cgroup, so
a sandbox's files count against its memory limit as well as its disk quota.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import json
import os
import re
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path
from typing import Any

from portal.procs import pid_alive
from sandboxes.backends.base import (
    WORKDIR,
    BackendError,
    ExecResult,
    FileEntry,
    FileRefused,
    Handle,
    LaunchSpec,
    Limits,
    ProgressFn,
    SandboxBackend,
    SandboxGone,
    Status,
    TerminalStream,
    Usage,
    killed_by_signal,
)
from sandboxes.backends.cgroups import CgroupSet
from sandboxes.backends.paths import workspace_relpath
from sandboxes.backends.ptyproto import SocketTerminal

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# Host /etc files a shell and common tools need; everything else of /etc stays hidden.
ETC_FILES = (
    "nsswitch.conf",
    "ld.so.cache",
    "ld.so.conf",
    "localtime",
    "bash.bashrc",
    "profile",
    "inputrc",
    "mime.types",
)
ETC_DIRS = ("alternatives", "ssl", "ld.so.conf.d", "profile.d")
TMP_BYTES = 64 << 20  # the sandbox's /tmp (a tmpfs of its own), as on Docker
_LIFELINE: tuple[int, int] | None = None
_SPAWNER: _Spawner | None = None
_SPAWNER_LOCK = threading.Lock()


class _Spawner:
    """Client of this process's ``bwrap_spawner`` helper (started on first use)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        lifeline = _lifeline()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-S",  # no site-packages: the spawner needs the standard library only
                "-E",
                "-m",
                "sandboxes.backends.bwrap_spawner",
                str(theirs.fileno()),
                str(lifeline),
            ],
            pass_fds=(theirs.fileno(), lifeline),
            cwd=str(Path(__file__).resolve().parents[2]),
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self.sock = ours
        self.sock.settimeout(30)
        self.buffer = b""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def request(self, request: dict[str, Any]) -> dict[str, Any]:
        with _SPAWNER_LOCK:
            self.sock.sendall(json.dumps(request).encode() + b"\n")
            while b"\n" not in self.buffer:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise BackendError("the sandbox spawner exited")
                self.buffer += chunk
            line, self.buffer = self.buffer.split(b"\n", 1)
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise BackendError(f"could not start the sandbox supervisor: {reply['error']}")
        return reply


def _spawner() -> _Spawner:
    global _SPAWNER
    with _SPAWNER_LOCK:
        if _SPAWNER is None or not _SPAWNER.alive():
            _SPAWNER = _Spawner()
        return _SPAWNER


_MS_NOSUID, _MS_NODEV = 0x2, 0x4
_MNT_DETACH = 0x2


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _workspace_mount(path: Path, *, size_mb: int, uid: int) -> None:
    """A size-limited tmpfs as the workspace: every byte written from inside counts
    against the sandbox's disk limit (the kernel answers ENOSPC past it)."""
    options = f"size={size_mb}m,nr_inodes={max(size_mb, 1) * 256},mode=0700,uid={uid},gid={uid}"
    if _libc().mount(b"agora-workspace", bytes(path), b"tmpfs", _MS_NOSUID | _MS_NODEV,
                     options.encode()) != 0:  # fmt: skip
        errno_ = ctypes.get_errno()
        raise BackendError(f"could not mount the workspace: {os.strerror(errno_)}")


def _disk_usage(workspace: Path) -> dict[str, int]:
    """Bytes used and allowed in a quota'd workspace ({} where it has no quota)."""
    if not os.path.ismount(workspace):
        return {}
    try:
        st = os.statvfs(workspace)
    except OSError:
        return {}
    return {
        "disk_bytes": (st.f_blocks - st.f_bfree) * st.f_frsize,
        "disk_limit_bytes": st.f_blocks * st.f_frsize,
    }


def _workspace_unmount(path: Path) -> None:
    if os.path.ismount(path):
        _libc().umount2(bytes(path), _MNT_DETACH)


@functools.cache
def _which(tool: str) -> str:
    return shutil.which(tool) or tool


_LIFELINE_LOCK = threading.Lock()


def _lifeline() -> int:
    """Read end of a pipe whose write end only this process holds (EOF = we died)."""
    global _LIFELINE
    with _LIFELINE_LOCK:  # request threads may launch sandboxes at the same time
        if _LIFELINE is None:
            read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
            _LIFELINE = (read_fd, write_fd)
        return _LIFELINE[0]


# RLIMIT name → (the `ulimit` flag of /bin/sh, the unit it counts in)
_ULIMIT_FLAGS = {
    "NPROC": ("p", 1),
    "CPU": ("t", 1),
    "FSIZE": ("f", 512),
    "NOFILE": ("n", 1),
    "CORE": ("c", 1),
    "AS": ("v", 1024),
}


def _rlimits(spec: dict[str, Any]) -> dict[str, int]:
    """The rlimits of every process of a sandbox (the terminal's and each exec's)."""
    limits = spec["limits"]
    out = {
        "NPROC": limits["pids"] + 8,  # RLIMIT_NPROC counts per uid: ours alone
        "CPU": limits["cpu_seconds"] + 5,
        "FSIZE": limits["disk_mb"] << 20,
        "NOFILE": 1024,
        "CORE": 0,
    }
    if not spec["cgroup"]:
        # Without a memory cgroup, the address space limit is the fallback.
        out["AS"] = limits["memory_mb"] << 22
    return out


class BubblewrapBackend(SandboxBackend):
    """Sandboxes as bubblewrap process trees, each watched by a supervisor process."""

    name = "bubblewrap"

    def __init__(self, *, root: Path, uid_base: int = 200000, uid_count: int = 60000) -> None:
        self.root = Path(root)
        self.uid_base = uid_base
        self.uid_count = uid_count
        self.privileged = os.geteuid() == 0

    # --- helpers ------------------------------------------------------------------------
    def available(self) -> tuple[bool, str]:
        for tool in ("bwrap", "setpriv"):
            if not shutil.which(tool):
                return False, f"{tool} is not installed"
        return True, ""

    def _state(self, handle: Handle | str) -> Path:
        sandbox_id = handle.sandbox_id if isinstance(handle, Handle) else handle
        if not _ID_RE.match(sandbox_id):
            raise BackendError(f"invalid sandbox id {sandbox_id!r}")
        # A handle remembers where its sandbox was created, so processes configured with
        # another SANDBOX_ROOT still find it.
        if isinstance(handle, Handle) and handle.ref and Path(handle.ref).name == sandbox_id:
            return Path(handle.ref)
        return self.root / sandbox_id

    def _spec(self, handle: Handle) -> dict[str, Any]:
        try:
            return json.loads((self._state(handle) / "spec.json").read_text())
        except FileNotFoundError as exc:
            raise SandboxGone(f"sandbox {handle.sandbox_id} does not exist") from exc

    def _claim_uid(self, sandbox_id: str) -> int:
        uids = self.root / ".uids"
        uids.mkdir(mode=0o700, parents=True, exist_ok=True)
        start = zlib.crc32(sandbox_id.encode()) % self.uid_count
        for step in range(self.uid_count):
            uid = self.uid_base + (start + step) % self.uid_count
            try:
                fd = os.open(uids / str(uid), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileExistsError:
                continue
            os.write(fd, sandbox_id.encode())
            os.close(fd)
            return uid
        raise BackendError("no free sandbox uid")

    def _cgroup(self, handle: Handle | str, spec: dict[str, Any] | None = None) -> CgroupSet:
        """The sandbox's cgroup: named by the spawner (recorded in its spec)."""
        sandbox_id = handle.sandbox_id if isinstance(handle, Handle) else handle
        if spec is None:
            with contextlib.suppress(OSError, ValueError):
                spec = json.loads((self._state(handle) / "spec.json").read_text())
        name = (spec or {}).get("cgroup_name") or f"sbx-{sandbox_id}"
        cgroup = CgroupSet(name)
        if not self.privileged or (spec is not None and not spec.get("cgroup")):
            cgroup.dirs = {}
        return cgroup

    def _bwrap_argv(
        self, spec: dict[str, Any], command: list[str], *, setpriv: bool = True
    ) -> list[str]:
        state = Path(spec["state"])
        uid = spec["uid"]
        argv: list[str] = []
        if self.privileged and setpriv:
            argv += [
                "setpriv",
                f"--reuid={uid}",
                f"--regid={uid}",
                "--clear-groups",
                "--no-new-privs",
                "--",
            ]
        argv += [
            "bwrap",
            "--unshare-all",
            "--unshare-user",
            "--disable-userns",
            "--die-with-parent",
            "--cap-drop",
            "ALL",
        ]
        if spec.get("network") and spec["network"] != "none":
            argv.append("--share-net")
        image = spec.get("image") or ""
        if image and Path(image).is_dir():
            argv += ["--ro-bind", image, "/"]
        else:
            argv += [
                "--ro-bind",
                "/usr",
                "/usr",
                "--symlink",
                "usr/bin",
                "/bin",
                "--symlink",
                "usr/sbin",
                "/sbin",
                "--symlink",
                "usr/lib",
                "/lib",
            ]
            if Path("/usr/lib64").is_dir():
                argv += ["--symlink", "usr/lib64", "/lib64"]
            for name in ETC_FILES:
                argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
            for name in ETC_DIRS:
                argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        for name in ("passwd", "group", "hosts", "hostname"):
            argv += ["--ro-bind", str(state / "etc" / name), f"/etc/{name}"]
        argv += [
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--size",
            str(TMP_BYTES),
            "--tmpfs",
            "/tmp",  # noqa: S108 - the sandbox's own tmpfs
            "--bind",
            str(state / "workspace"),
            WORKDIR,
            "--chdir",
            WORKDIR,
            "--remount-ro",
            "/",
            "--hostname",
            "sandbox",
            "--clearenv",
        ]
        env = {
            "HOME": WORKDIR,
            "USER": "sandbox",
            "LOGNAME": "sandbox",
            "SHELL": "/bin/bash",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TERM": "xterm-256color",
            "PS1": r"sandbox:\w$ ",
            **spec.get("env", {}),
        }
        for key, value in env.items():
            argv += ["--setenv", key, value]
        return [*argv, "--", *command]

    def _wrapped(self, spec: dict[str, Any], command: list[str]) -> list[str]:
        """The bwrap command line behind a tiny shell that joins the sandbox's cgroup and
        sets its rlimits before exec (``preexec_fn`` is not safe in the threaded portal,
        and the shell's builtins spare a ``prlimit`` exec). Any failure aborts: fail closed.
        """
        steps = []
        procs = self._cgroup(spec["id"], spec).procs_files()
        if procs:
            steps.append("for f in " + " ".join(procs) + '; do echo $$ > "$f" || exit 125; done')
        for name, value in _rlimits(spec).items():
            flag, unit = _ULIMIT_FLAGS[name]
            steps.append(f"ulimit -{flag} {value // unit}")
        script = " && ".join(steps) + ' && exec "$@"'
        return ["/bin/sh", "-c", script, "sh", *self._bwrap_argv(spec, command)]

    # --- lifecycle ----------------------------------------------------------------------
    def launch(self, spec: LaunchSpec, *, progress: ProgressFn | None = None) -> Handle:
        report = progress or (lambda step, pct: None)
        state = self._state(spec.sandbox_id)
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o711)  # noqa: S103 - traversable, not listable
        report("creating", 20)
        try:
            state.mkdir(mode=0o711)
        except FileExistsError as exc:
            raise BackendError(f"sandbox {spec.sandbox_id} already exists") from exc
        handle = Handle(backend=self.name, sandbox_id=spec.sandbox_id, ref=str(state))
        token: int | None = None
        try:
            uid = self._claim_uid(spec.sandbox_id) if self.privileged else os.geteuid()
            workspace = state / "workspace"
            workspace.mkdir(mode=0o700)
            etc = state / "etc"
            etc.mkdir(mode=0o755)
            (etc / "passwd").write_text(
                f"root:x:0:0:root:/root:/bin/sh\n"
                f"sandbox:x:{uid}:{uid}:sandbox:{WORKDIR}:/bin/bash\n"
                "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
            )
            (etc / "group").write_text(f"root:x:0:\nsandbox:x:{uid}:\nnogroup:x:65534:\n")
            (etc / "hosts").write_text("127.0.0.1 localhost sandbox\n::1 localhost\n")
            (etc / "hostname").write_text("sandbox\n")
            limits = spec.limits
            if self.privileged:
                _workspace_mount(workspace, size_mb=limits.disk_mb, uid=uid)
            cgroup_limits = {
                "memory_mb": limits.memory_mb,
                "cpus": limits.cpus,
                "pids": limits.pids,
            }
            cgroup_name = ""
            if spec.setup:
                # Setup commands run in the sandbox's cgroup: claim the standby first.
                claim = _spawner().request({"op": "claim", "limits": cgroup_limits})
                token = int(claim["token"])
                cgroup_name = str(claim["cgroup"]) if self.privileged else ""
            data: dict[str, Any] = {
                "id": spec.sandbox_id,
                "state": str(state),
                "uid": uid,
                "image": spec.image,
                "network": spec.network,
                "env": spec.env,
                "labels": spec.labels,
                "limits": limits.__dict__,
                "shell": list(spec.shell),
                "cgroup": bool(cgroup_name) or self._cgroups_expected(),
                "cgroup_name": cgroup_name,
                "created": time.time(),
            }
            (state / "spec.json").write_text(json.dumps(data))
            self.run_setup(handle, spec, report)
            report("starting shell", 80)
            started = self._start_supervisor(data, spec.shell, limits, token, cgroup_limits)
            token = None
            if not cgroup_name:
                # A standby supervisor's cgroup, named by the spawner: record which.
                data["cgroup_name"] = str(started["cgroup"]) if self.privileged else ""
                data["cgroup"] = bool(data["cgroup_name"])
                (state / "spec.json").write_text(json.dumps(data))
        except BaseException:
            if token is not None:
                with contextlib.suppress(BackendError, OSError):
                    _spawner().request({"op": "release", "token": token})
            self.remove(handle)
            raise
        return handle

    def _cgroups_expected(self) -> bool:
        """Whether the spawner (same euid, same host) gives sandboxes a cgroup."""
        return self.privileged and CgroupSet("probe").available

    def _start_supervisor(
        self,
        spec: dict[str, Any],
        shell: tuple[str, ...],
        limits: Limits,
        token: int | None,
        cgroup_limits: dict[str, Any],
    ) -> dict[str, Any]:
        state = Path(spec["state"])
        # The supervisor's child joined its cgroup while on standby; it sets the rlimits
        # and drops to the sandbox uid itself, then execs bwrap (no sh or setpriv exec).
        argv = self._bwrap_argv(spec, list(shell), setpriv=False)
        argv[0] = _which(argv[0])
        request: dict[str, Any] = {
            "op": "start" if token is not None else "launch",
            "token": token,
            "limits": cgroup_limits,
            "state": str(state),
            "argv": argv,
            "env": {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"},
            "rlimits": _rlimits(spec),
            "uid": spec["uid"] if self.privileged else None,
            "cpu_seconds": float(limits.cpu_seconds),
            "max_age": float(limits.max_age_seconds),
        }
        return _spawner().request(request)

    def stop(self, handle: Handle, *, reason: str = "stopped") -> None:
        state = self._state(handle)
        if not state.exists():
            return
        pid_file = state / "supervisor.pid"
        pid = int(pid_file.read_text()) if pid_file.exists() else 0
        if pid and pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not (state / "exit.json").exists():
                time.sleep(0.01)
            if not (state / "exit.json").exists():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        cgroup = self._cgroup(handle)
        cgroup.destroy()
        if not (state / "exit.json").exists():
            (state / "exit.json").write_text(
                json.dumps(
                    {
                        "exit_code": None,
                        "reason": reason,
                        "ended_at": time.time(),
                        "cpu_seconds": cgroup.cpu_seconds() if cgroup.available else 0.0,
                        "memory_peak": None,
                    }
                )
            )
        with contextlib.suppress(OSError):
            (state / "pty.sock").unlink()

    def remove(self, handle: Handle) -> None:
        state = self._state(handle)
        if not state.exists():
            return
        self.stop(handle, reason="removed")
        uid = None
        with contextlib.suppress(OSError, ValueError, KeyError):
            uid = json.loads((state / "spec.json").read_text())["uid"]
        _workspace_unmount(state / "workspace")
        shutil.rmtree(state, ignore_errors=True)
        if uid is not None and self.privileged:
            with contextlib.suppress(OSError):
                (self.root / ".uids" / str(uid)).unlink()

    def status(self, handle: Handle) -> Status:
        state = self._state(handle)
        if not (state / "spec.json").exists():
            return Status(state="missing", reason="sandbox directory is gone")
        activity = state / "activity"
        last_input = activity.stat().st_mtime if activity.exists() else None
        exit_file = state / "exit.json"
        if exit_file.exists():
            with contextlib.suppress(ValueError, OSError):
                info = json.loads(exit_file.read_text())
                return Status(
                    state="exited",
                    exit_code=info.get("exit_code"),
                    reason=info.get("reason", "exited"),
                    last_input_at=last_input,
                )
        pid_file = state / "supervisor.pid"
        if pid_file.exists() and pid_alive(int(pid_file.read_text() or 0)):
            return Status(state="running", last_input_at=last_input)
        if not pid_file.exists() and (state / "pty.sock").exists():
            return Status(state="running", last_input_at=last_input)  # just forked
        return Status(state="exited", reason="lost", last_input_at=last_input)

    def usage(self, handle: Handle) -> Usage:
        state = self._state(handle)
        disk = _disk_usage(state / "workspace")
        exit_file = state / "exit.json"
        if exit_file.exists():
            with contextlib.suppress(ValueError, OSError):
                info = json.loads(exit_file.read_text())
                return Usage(
                    cpu_seconds=info.get("cpu_seconds") or 0.0,
                    memory_peak_bytes=info.get("memory_peak"),
                    **disk,
                )
        cgroup = self._cgroup(handle)
        if not cgroup.available:
            return Usage(**disk)
        return Usage(
            cpu_seconds=cgroup.cpu_seconds(),
            memory_peak_bytes=cgroup.memory_peak(),
            pids=cgroup.pids_current(),
            **disk,
        )

    def list_by_label(self) -> list[Handle]:
        if not self.root.exists():
            return []
        return [
            Handle(backend=self.name, sandbox_id=entry.name, ref=str(entry))
            for entry in sorted(self.root.iterdir())
            if entry.is_dir() and (entry / "spec.json").exists()
        ]

    # --- commands and files -------------------------------------------------------------
    def exec(
        self,
        handle: Handle,
        command: str,
        *,
        timeout: float = 60.0,
        output_limit: int = 1 << 20,
        stdin: bytes | None = None,
        cancel: threading.Event | None = None,
    ) -> ExecResult:
        spec = self._spec(handle)
        argv = self._wrapped(spec, ["/bin/sh", "-c", command])
        started = time.monotonic()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"},
        )
        if stdin is not None and proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.write(stdin)
            proc.stdin.close()
        return _collect(
            proc, started=started, timeout=timeout, output_limit=output_limit, cancel=cancel
        )

    def _open_dir(self, handle: Handle, parts: list[str], *, create: bool = False) -> int:
        """An fd for a workspace directory, refusing symlinks at every step."""
        spec = self._spec(handle)
        fd = os.open(Path(spec["state"]) / "workspace", os.O_RDONLY | os.O_DIRECTORY)
        try:
            for part in parts:
                try:
                    nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise
                    os.mkdir(part, 0o755, dir_fd=fd)
                    if self.privileged:
                        os.chown(part, spec["uid"], spec["uid"], dir_fd=fd, follow_symlinks=False)
                    nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                os.close(fd)
                fd = nxt
        except FileNotFoundError as exc:
            os.close(fd)
            raise FileRefused("no such directory") from exc
        except OSError as exc:
            os.close(fd)
            raise FileRefused("not a directory (symbolic links are not followed)") from exc
        return fd

    def list_files(self, handle: Handle, path: str = "") -> list[FileEntry]:
        rel = workspace_relpath(path)
        fd = self._open_dir(handle, rel.split("/") if rel else [])
        entries: list[FileEntry] = []
        try:
            for name in sorted(os.listdir(fd))[:1000]:
                with contextlib.suppress(OSError):
                    st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                    entries.append(
                        FileEntry(
                            name=name,
                            path=f"{rel}/{name}" if rel else name,
                            is_dir=stat.S_ISDIR(st.st_mode),
                            size=st.st_size,
                            mtime=st.st_mtime,
                        )
                    )
        finally:
            os.close(fd)
        return entries

    def read_file(self, handle: Handle, path: str, *, max_bytes: int) -> bytes:
        rel = workspace_relpath(path)
        if not rel:
            raise FileRefused("a file path is required")
        *dirs, name = rel.split("/")
        dir_fd = self._open_dir(handle, dirs)
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
        except FileNotFoundError as exc:
            raise FileRefused("no such file") from exc
        except OSError as exc:
            raise FileRefused("not a regular file (symbolic links are not followed)") from exc
        finally:
            os.close(dir_fd)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise FileRefused("not a regular file")
            if st.st_size > max_bytes:
                raise FileRefused(f"file is larger than {max_bytes} bytes")
            with os.fdopen(fd, "rb", closefd=False) as fh:
                return fh.read(max_bytes + 1)[:max_bytes]
        finally:
            os.close(fd)

    def write_file(self, handle: Handle, path: str, data: bytes) -> None:
        rel = workspace_relpath(path)
        if not rel:
            raise FileRefused("a file path is required")
        spec = self._spec(handle)
        *dirs, name = rel.split("/")
        dir_fd = self._open_dir(handle, dirs, create=True)
        try:
            fd = os.open(
                name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644, dir_fd=dir_fd
            )
        except OSError as exc:
            raise FileRefused("cannot write there (symbolic links are not followed)") from exc
        finally:
            os.close(dir_fd)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise FileRefused("not a regular file")
            if self.privileged:
                os.fchown(fd, spec["uid"], spec["uid"])
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                limit = spec["limits"]["disk_mb"]
                raise FileRefused(f"workspace quota: the {limit} MB disk limit is reached") from exc
            raise
        finally:
            os.close(fd)

    # --- terminal -----------------------------------------------------------------------
    async def attach(self, handle: Handle) -> TerminalStream:
        sock = self._state(handle) / "pty.sock"
        try:
            return await SocketTerminal.connect(str(sock))
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise SandboxGone("the sandbox's terminal is not running") from exc

    def terminal_log(self, handle: Handle, *, tail: int | None = None) -> bytes:
        log = self._state(handle) / "terminal.log"
        try:
            with open(log, "rb") as fh:
                if tail is not None:
                    fh.seek(max(0, os.fstat(fh.fileno()).st_size - tail))
                return fh.read()
        except FileNotFoundError:
            return b""


def _collect(
    proc: subprocess.Popen[bytes],
    *,
    started: float,
    timeout: float,
    output_limit: int,
    cancel: threading.Event | None = None,
) -> ExecResult:
    """Read merged output with a deadline and a size cap; kill the group on timeout or
    when ``cancel`` is set."""
    assert proc.stdout is not None
    out = bytearray()
    truncated = timed_out = cancelled = False
    fd = proc.stdout.fileno()
    deadline = started + timeout
    tick = 0.5 if cancel is None else 0.05
    while True:
        remaining = deadline - time.monotonic()
        cancelled = cancel is not None and cancel.is_set()
        if remaining <= 0 or cancelled:
            timed_out = not cancelled
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            break
        ready, _, _ = select.select([fd], [], [], min(remaining, tick))
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        room = output_limit - len(out)
        if room > 0:
            out.extend(chunk[:room])
        if len(chunk) > room:
            truncated = True
    proc.stdout.close()
    try:
        code = proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        code = proc.wait()
    return ExecResult(
        exit_code=-9 if timed_out or cancelled else code,
        killed_by="timeout" if timed_out else "cancelled" if cancelled else killed_by_signal(code),
        output=bytes(out),
        truncated=truncated,
        timed_out=timed_out,
        duration=time.monotonic() - started,
    )
