"""The one interface every sandbox backend implements.

Callers (services, the terminal consumer, agent runs) only ever see these types, so a new
backend (Kubernetes) is added by writing one class and naming it in ``SANDBOX_BACKENDS``.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

WORKDIR = "/workspace"
LABEL_PREFIX = "org.agora.sandbox"

# progress(step, percent): "creating", "running setup", … published by the service layer.
ProgressFn = Callable[[str, int], None]


class BackendError(Exception):
    """The backend could not do what was asked (launch failed, sandbox gone, bad path)."""


class SandboxGone(BackendError):
    """The sandbox no longer exists on the backend."""


class FileRefused(BackendError):
    """A file operation was refused: path outside the workspace, too large, not a file."""


@dataclass(frozen=True)
class Limits:
    """Resource limits, enforced by every backend."""

    cpus: float = 1.0  # CPU cores (quota)
    memory_mb: int = 512
    pids: int = 128
    disk_mb: int = 1024  # the workspace's quota (total bytes), and the largest single file
    cpu_seconds: int = 3600  # total CPU time before the sandbox is killed
    max_age_seconds: int = 4 * 3600  # wall clock backstop


@dataclass(frozen=True)
class LaunchSpec:
    """Everything a backend needs to start one sandbox."""

    sandbox_id: str
    limits: Limits = field(default_factory=Limits)
    image: str = ""  # Docker image / rootfs directory; "" means the host /usr (bubblewrap)
    shell: tuple[str, ...] = ("/bin/bash", "--norc", "-i")
    env: dict[str, str] = field(default_factory=dict)
    setup: tuple[str, ...] = ()  # shell commands run once, before the shell starts
    setup_timeout: float = 300.0
    network: str = "none"
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Handle:
    """Where a launched sandbox lives: enough to find it again after a restart."""

    backend: str
    sandbox_id: str
    ref: str  # container id, state directory …
    host: str = ""


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    output: bytes
    truncated: bool = False
    timed_out: bool = False
    duration: float = 0.0
    killed_by: str = ""  # "timeout", "cancelled", "cpu_time", "killed" (SIGKILL: memory or a stop)


def killed_by_signal(code: int) -> str:
    """Name what ended a command from its exit status (-N or 128+N for signal N)."""
    signo = -code if code < 0 else (code - 128 if 128 < code < 160 else 0)
    if signo == 24:  # SIGXCPU: the CPU-time rlimit
        return "cpu_time"
    if signo == 9:
        return "killed"
    return ""


SandboxState = Literal["running", "exited", "missing"]


@dataclass(frozen=True)
class Status:
    state: SandboxState
    exit_code: int | None = None
    reason: str = ""  # "memory", "cpu_time", "max_age", "exited", "stopped" …
    last_input_at: float | None = None  # epoch seconds of the last terminal keystroke


@dataclass(frozen=True)
class Usage:
    cpu_seconds: float = 0.0
    memory_peak_bytes: int | None = None
    pids: int | None = None
    disk_bytes: int | None = None  # bytes used in the workspace, where it has a quota
    disk_limit_bytes: int | None = None

    @property
    def disk_full(self) -> bool:
        """The workspace quota is used up: writes from inside fail (ENOSPC)."""
        if self.disk_bytes is None or not self.disk_limit_bytes:
            return False
        # Filesystems keep a little back; within 1% (or 1 MiB) counts as full.
        return self.disk_bytes >= self.disk_limit_bytes - max(self.disk_limit_bytes // 100, 1 << 20)


@dataclass(frozen=True)
class FileEntry:
    name: str
    path: str  # relative to the workspace
    is_dir: bool
    size: int
    mtime: float


class TerminalStream(abc.ABC):
    """A live connection to the sandbox's interactive terminal (async, for consumers)."""

    @abc.abstractmethod
    async def recv(self) -> bytes | None:
        """Next chunk of output; ``None`` once the terminal has closed."""

    @abc.abstractmethod
    async def send(self, data: bytes) -> None:
        """Keystrokes / pasted text."""

    @abc.abstractmethod
    async def resize(self, rows: int, cols: int) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...


class SandboxBackend(abc.ABC):
    """One kind of isolated environment (bubblewrap, Docker, later Kubernetes)."""

    name: str = ""

    @abc.abstractmethod
    def available(self) -> tuple[bool, str]:
        """(usable, reason if not)."""

    @abc.abstractmethod
    def launch(self, spec: LaunchSpec, *, progress: ProgressFn | None = None) -> Handle:
        """Create the sandbox, run setup, start the interactive shell; return when ready."""

    @abc.abstractmethod
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
        """Run ``sh -c command`` in the sandbox's workspace; stdout and stderr merged.

        Setting ``cancel`` kills the command (its whole process group) within a fraction
        of a second and returns what it printed, ``killed_by="cancelled"``; the sandbox and
        anything else running in it stay up.
        """

    def run_setup(self, handle: Handle, spec: LaunchSpec, report: ProgressFn) -> None:
        """Run the recipe's setup commands in order (progress 30 to 70 %); the first that
        fails stops the launch with its exit code and the tail of its output."""
        for index, command in enumerate(spec.setup):
            report(
                f"running setup ({index + 1}/{len(spec.setup)})",
                30 + 40 * index // max(len(spec.setup), 1),
            )
            result = self.exec(handle, command, timeout=spec.setup_timeout)
            if result.exit_code != 0:
                tail = result.output[-500:].decode(errors="replace")
                raise BackendError(
                    f"setup command {command!r} exited with {result.exit_code}: {tail}"
                )

    @abc.abstractmethod
    def list_files(self, handle: Handle, path: str = "") -> list[FileEntry]: ...

    @abc.abstractmethod
    def read_file(self, handle: Handle, path: str, *, max_bytes: int) -> bytes: ...

    @abc.abstractmethod
    def write_file(self, handle: Handle, path: str, data: bytes) -> None: ...

    @abc.abstractmethod
    async def attach(self, handle: Handle) -> TerminalStream:
        """Connect to the interactive terminal; recent output is replayed first."""

    @abc.abstractmethod
    def terminal_log(self, handle: Handle, *, tail: int | None = None) -> bytes:
        """Everything the terminal printed (bounded), also after the sandbox stopped."""

    @abc.abstractmethod
    def stop(self, handle: Handle, *, reason: str = "stopped") -> None:
        """Kill every process of the sandbox; the workspace stays until ``remove``."""

    @abc.abstractmethod
    def remove(self, handle: Handle) -> None:
        """Delete the sandbox and its workspace (after stop)."""

    @abc.abstractmethod
    def status(self, handle: Handle) -> Status: ...

    @abc.abstractmethod
    def usage(self, handle: Handle) -> Usage: ...

    @abc.abstractmethod
    def list_by_label(self) -> list[Handle]:
        """Every sandbox this backend holds for this portal, running or not."""

    def load(self) -> int:
        """Number of running sandboxes (for least-loaded scheduling)."""
        return sum(1 for h in self.list_by_label() if self.status(h).state == "running")
