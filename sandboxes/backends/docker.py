"""The Docker backend: one container per sandbox on one of several Docker engines.

Containers run with no network, every capability dropped, ``no-new-privileges``, a
read-only root with a writable workspace volume, a non-root user and memory, CPU and
process limits. Labels identify the sandbox so the portal can reconcile after a restart.
The scheduler puts a new sandbox on the least-loaded engine that has capacity.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import shlex
import socket
import tarfile
import threading
import time
import uuid
from typing import Any

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.types import LogConfig, Ulimit

from sandboxes.backends.base import (
    LABEL_PREFIX,
    WORKDIR,
    BackendError,
    ExecResult,
    FileEntry,
    FileRefused,
    Handle,
    LaunchSpec,
    ProgressFn,
    SandboxBackend,
    SandboxGone,
    Status,
    TerminalStream,
    Usage,
    killed_by_signal,
)
from sandboxes.backends.paths import workspace_relpath

SANDBOX_UID = 1000
SANDBOX_USER = f"{SANDBOX_UID}:{SANDBOX_UID}"
SCROLLBACK_BYTES = 64 * 1024
API_TIMEOUT = 30


class DockerTerminal(TerminalStream):
    """The container's TTY through the engine's attach socket."""

    def __init__(
        self, sock: socket.socket, backend: DockerBackend, handle: Handle, replay: bytes
    ) -> None:
        self.sock = sock
        self.backend = backend
        self.handle = handle
        self.pending: bytes | None = replay or None
        sock.setblocking(False)

    async def recv(self) -> bytes | None:
        if self.pending is not None:
            data, self.pending = self.pending, None
            return data
        loop = asyncio.get_running_loop()
        try:
            data = await loop.sock_recv(self.sock, 65536)
        except OSError:
            return None
        return data or None

    async def send(self, data: bytes) -> None:
        with contextlib.suppress(OSError):
            await asyncio.get_running_loop().sock_sendall(self.sock, data)

    async def resize(self, rows: int, cols: int) -> None:
        client = self.backend.client(self.handle.host)
        with contextlib.suppress(DockerException):
            await asyncio.to_thread(client.api.resize, self.handle.ref, height=rows, width=cols)

    async def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class DockerBackend(SandboxBackend):
    """Sandboxes as containers on the engines listed in ``DOCKER_HOSTS``."""

    name = "docker"

    def __init__(self, *, hosts: list[str], capacity_per_host: int = 50) -> None:
        self.hosts = list(hosts)
        self.capacity_per_host = capacity_per_host
        self._clients: dict[str, docker.DockerClient] = {}

    def client(self, host: str) -> docker.DockerClient:
        if host not in self._clients:
            try:
                self._clients[host] = docker.DockerClient(base_url=host, timeout=API_TIMEOUT)
            except DockerException as exc:
                raise BackendError(f"cannot reach Docker at {host}: {exc}") from exc
        return self._clients[host]

    def available(self) -> tuple[bool, str]:
        if not self.hosts:
            return False, "no Docker hosts configured (DOCKER_HOSTS)"
        for host in self.hosts:
            with contextlib.suppress(DockerException, BackendError):
                self.client(host).ping()
                return True, ""
        return False, "no configured Docker host answers"

    def _container(self, handle: Handle) -> Any:
        try:
            return self.client(handle.host).containers.get(handle.ref)
        except NotFound as exc:
            raise SandboxGone(f"container of sandbox {handle.sandbox_id} is gone") from exc
        except DockerException as exc:
            raise BackendError(f"Docker error: {exc}") from exc

    def _running_on(self, host: str) -> int:
        return len(self.client(host).containers.list(filters={"label": LABEL_PREFIX}))

    def pick_host(self) -> str:
        """The least-loaded reachable engine with room for one more sandbox."""
        best: tuple[int, str] | None = None
        for host in self.hosts:
            try:
                load = self._running_on(host)
            except (DockerException, BackendError):
                continue
            if load < self.capacity_per_host and (best is None or load < best[0]):
                best = (load, host)
        if best is None:
            raise BackendError("every Docker host is full or unreachable")
        return best[1]

    # --- lifecycle ----------------------------------------------------------------------
    def launch(self, spec: LaunchSpec, *, progress: ProgressFn | None = None) -> Handle:
        report = progress or (lambda step, pct: None)
        if not spec.image:
            raise BackendError("the recipe names no Docker image")
        host = self.pick_host()
        client = self.client(host)
        try:
            client.images.get(spec.image)
        except ImageNotFound as exc:
            raise BackendError(
                f"image {spec.image} is not on {host}; build it with "
                f"`manage.py sandbox_images build`"
            ) from exc
        report("creating", 20)
        limits = spec.limits
        labels = {
            LABEL_PREFIX: "1",
            f"{LABEL_PREFIX}.id": spec.sandbox_id,
            f"{LABEL_PREFIX}.cpu_seconds": str(limits.cpu_seconds),
            **spec.labels,
        }
        name = f"agora-sbx-{spec.sandbox_id}"
        try:
            # The workspace is a size-limited tmpfs volume: without --storage-opt (overlay2
            # on xfs with pquota) Docker has no disk quota, and a tmpfs answers ENOSPC past
            # its size to every writer, the sandbox user included.
            volume = client.volumes.create(
                name=name,
                labels=labels,
                driver="local",
                driver_opts={
                    "type": "tmpfs",
                    "device": "tmpfs",
                    "o": f"size={limits.disk_mb}m,uid={SANDBOX_UID},gid={SANDBOX_UID},mode=0755",
                },
            )
            container = client.containers.create(
                spec.image,
                command=list(spec.shell),
                name=name,
                hostname="sandbox",
                detach=True,
                tty=True,
                stdin_open=True,
                user=SANDBOX_USER,
                working_dir=WORKDIR,
                environment={
                    "HOME": WORKDIR,
                    "TERM": "xterm-256color",
                    "LANG": "C.UTF-8",
                    "PS1": r"sandbox:\w$ ",
                    **spec.env,
                },
                network_mode="none" if spec.network == "none" else spec.network,
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                read_only=True,
                volumes={volume.name: {"bind": WORKDIR, "mode": "rw"}},
                tmpfs={"/tmp": "rw,nosuid,nodev,size=64m"},  # noqa: S108
                mem_limit=f"{limits.memory_mb}m",
                memswap_limit=f"{limits.memory_mb}m",
                nano_cpus=int(limits.cpus * 1e9),
                pids_limit=limits.pids,
                ulimits=[
                    Ulimit(name="cpu", soft=limits.cpu_seconds, hard=limits.cpu_seconds + 1),
                    Ulimit(name="fsize", soft=limits.disk_mb << 20, hard=limits.disk_mb << 20),
                    Ulimit(name="core", soft=0, hard=0),
                ],
                labels=labels,
                log_config=LogConfig(type="json-file", config={"max-size": "4m", "max-file": "1"}),
            )
            container.start()
        except DockerException as exc:
            with contextlib.suppress(DockerException):
                client.containers.get(name).remove(force=True)
            with contextlib.suppress(DockerException):
                client.volumes.get(name).remove(force=True)
            raise BackendError(f"Docker could not start the sandbox: {exc}") from exc
        handle = Handle(backend=self.name, sandbox_id=spec.sandbox_id, ref=container.id, host=host)
        try:
            self.run_setup(handle, spec, report)
        except BaseException:
            self.remove(handle)
            raise
        report("starting shell", 80)
        return handle

    def stop(self, handle: Handle, *, reason: str = "stopped") -> None:
        try:
            container = self._container(handle)
        except SandboxGone:
            return
        with contextlib.suppress(APIError):
            container.kill()

    def remove(self, handle: Handle) -> None:
        client = self.client(handle.host)
        with contextlib.suppress(NotFound):
            client.containers.get(handle.ref).remove(force=True)
        with contextlib.suppress(NotFound):
            client.volumes.get(f"agora-sbx-{handle.sandbox_id}").remove(force=True)

    def status(self, handle: Handle) -> Status:
        try:
            container = self._container(handle)
        except SandboxGone:
            return Status(state="missing", reason="container is gone")
        state = container.attrs.get("State", {})
        if state.get("Running"):
            return Status(state="running")
        if state.get("OOMKilled"):
            reason = "memory"
        elif state.get("ExitCode") in (137, 152):
            reason = "killed"
        else:
            reason = "exited"
        return Status(state="exited", exit_code=state.get("ExitCode"), reason=reason)

    def usage(self, handle: Handle) -> Usage:
        try:
            container = self._container(handle)
            stats = container.stats(stream=False)
        except (SandboxGone, DockerException):
            return Usage()
        cpu = stats.get("cpu_stats", {}).get("cpu_usage", {}).get("total_usage", 0) / 1e9
        memory = stats.get("memory_stats", {})
        return Usage(
            cpu_seconds=cpu,
            memory_peak_bytes=memory.get("max_usage"),
            pids=stats.get("pids_stats", {}).get("current"),
        )

    def list_by_label(self) -> list[Handle]:
        handles: list[Handle] = []
        for host in self.hosts:
            try:
                containers = self.client(host).containers.list(
                    all=True, filters={"label": LABEL_PREFIX}
                )
            except (DockerException, BackendError):
                continue
            for container in containers:
                sandbox_id = container.labels.get(f"{LABEL_PREFIX}.id", "")
                handles.append(
                    Handle(backend=self.name, sandbox_id=sandbox_id, ref=container.id, host=host)
                )
        return handles

    def load(self) -> int:
        total = 0
        for host in self.hosts:
            with contextlib.suppress(DockerException, BackendError):
                total += self._running_on(host)
        return total

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
        container = self._container(handle)
        api = self.client(handle.host).api
        started = time.monotonic()
        # `timeout` inside the container kills the command even if we stop reading.
        limit = str(max(1, int(timeout)))
        wrapped = ["timeout", "-s", "KILL", limit, "/bin/sh", "-c", command]
        pidfile = ""
        if cancel is not None:
            # `timeout` leads its own process group; its pid, kept in the container's /tmp,
            # is what a cancel kills (see _exec_kill).
            pidfile = f"/tmp/.agora-exec-{uuid.uuid4().hex}"  # noqa: S108 - inside the container
            script = (
                f'timeout -s KILL {limit} /bin/sh -c "$1" <&0 & p=$!; echo "$p" > {pidfile}; '
                f'wait "$p"; s=$?; rm -f {pidfile}; exit "$s"'
            )
            wrapped = ["/bin/sh", "-c", script, "sh", command]
        elif stdin is not None:
            wrapped = ["/bin/sh", "-c", 'exec "$@"', "sh", *wrapped]
        try:
            exec_id = api.exec_create(
                container.id, wrapped, stdin=stdin is not None, user=SANDBOX_USER, workdir=WORKDIR
            )["Id"]
            sock = api.exec_start(exec_id, socket=True)
        except DockerException as exc:
            raise BackendError(f"Docker exec failed: {exc}") from exc
        raw = getattr(sock, "_sock", sock)
        raw.settimeout(max(timeout + 5, 1) if cancel is None else 0.1)
        if stdin is not None:
            with contextlib.suppress(OSError):
                raw.sendall(stdin)
                raw.shutdown(socket.SHUT_WR)
        out = bytearray()
        truncated = timed_out = cancelled = False
        next_kill = 0.0
        buf = b""
        deadline = started + timeout + 2
        try:
            while time.monotonic() < deadline:
                if cancel is not None and cancel.is_set() and time.monotonic() >= next_kill:
                    # Until the stream ends: the pid file may not be written yet.
                    cancelled = True
                    self._exec_kill(api, container.id, pidfile)
                    next_kill = time.monotonic() + 0.2
                try:
                    chunk = raw.recv(65536)
                except TimeoutError:
                    if cancel is None:
                        raise
                    continue
                if not chunk:
                    break
                buf += chunk
                # Multiplexed stream: 8-byte header (stream, 0, 0, 0, size) per frame.
                while len(buf) >= 8:
                    size = int.from_bytes(buf[4:8], "big")
                    if len(buf) < 8 + size:
                        break
                    payload, buf = buf[8 : 8 + size], buf[8 + size :]
                    room = output_limit - len(out)
                    if room > 0:
                        out.extend(payload[:room])
                    if len(payload) > room:
                        truncated = True
            else:
                timed_out = True
        except TimeoutError:
            timed_out = True
        finally:
            with contextlib.suppress(OSError):
                raw.close()
        info = api.exec_inspect(exec_id)
        code = info.get("ExitCode")
        if code is None:
            code = -1
        if code == 137 and time.monotonic() - started >= timeout:
            timed_out = True
        killed_by = "timeout" if timed_out else "cancelled" if cancelled else killed_by_signal(code)
        return ExecResult(
            exit_code=code,
            output=bytes(out),
            truncated=truncated,
            timed_out=timed_out,
            killed_by=killed_by,
            duration=time.monotonic() - started,
        )

    def _exec_kill(self, api: Any, container_id: str, pidfile: str) -> None:
        """Kill a cancellable exec's process group (its pid is in ``pidfile``)."""
        script = f'p=$(cat {pidfile} 2>/dev/null) && kill -s KILL -- -"$p"'
        with contextlib.suppress(DockerException):
            kill_id = api.exec_create(container_id, ["/bin/sh", "-c", script], user=SANDBOX_USER)
            api.exec_start(kill_id["Id"])

    def list_files(self, handle: Handle, path: str = "") -> list[FileEntry]:
        rel = workspace_relpath(path)
        target = f"{WORKDIR}/{rel}" if rel else WORKDIR
        result = self.exec(
            handle,
            f"test -d {shlex.quote(target)} || exit 3; "
            f"find {shlex.quote(target)} -mindepth 1 -maxdepth 1 -printf '%y\\t%s\\t%T@\\t%f\\n'",
            timeout=20,
        )
        if result.exit_code == 3:
            raise FileRefused("no such directory")
        entries = []
        for line in result.output.decode(errors="replace").splitlines():
            kind, size, mtime, name = ([*line.split("\t", 3), "", "", "", ""])[:4]
            if not name:
                continue
            with contextlib.suppress(ValueError):
                entries.append(
                    FileEntry(
                        name=name,
                        path=f"{rel}/{name}" if rel else name,
                        is_dir=kind == "d",
                        size=int(size),
                        mtime=float(mtime),
                    )
                )
        return sorted(entries, key=lambda e: e.name)[:1000]

    def read_file(self, handle: Handle, path: str, *, max_bytes: int) -> bytes:
        rel = workspace_relpath(path)
        if not rel:
            raise FileRefused("a file path is required")
        container = self._container(handle)
        try:
            stream, info = container.get_archive(f"{WORKDIR}/{rel}")
        except NotFound as exc:
            raise FileRefused("no such file") from exc
        except DockerException as exc:
            raise BackendError(f"Docker error: {exc}") from exc
        if info.get("size", 0) > max_bytes:
            raise FileRefused(f"file is larger than {max_bytes} bytes")
        data = bytearray()
        for chunk in stream:
            data.extend(chunk)
            if len(data) > max_bytes + 1024 * 1024:
                raise FileRefused(f"file is larger than {max_bytes} bytes")
        with tarfile.open(fileobj=io.BytesIO(bytes(data))) as tar:
            member = tar.next()
            if member is None or not member.isfile():
                raise FileRefused("not a regular file")
            fh = tar.extractfile(member)
            assert fh is not None
            return fh.read(max_bytes)

    def write_file(self, handle: Handle, path: str, data: bytes) -> None:
        rel = workspace_relpath(path)
        if not rel:
            raise FileRefused("a file path is required")
        container = self._container(handle)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            parts = rel.split("/")
            for depth in range(1, len(parts)):
                info = tarfile.TarInfo("/".join(parts[:depth]))
                info.type, info.mode, info.uid, info.gid = tarfile.DIRTYPE, 0o755, 1000, 1000
                tar.addfile(info)
            info = tarfile.TarInfo(rel)
            info.size, info.mode, info.uid, info.gid = len(data), 0o644, 1000, 1000
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))
        try:
            container.put_archive(WORKDIR, buf.getvalue())
        except DockerException as exc:
            if "no space left" in str(exc).lower():
                raise FileRefused("workspace quota: the disk limit is reached") from exc
            raise FileRefused(f"cannot write there: {exc}") from exc

    # --- terminal -----------------------------------------------------------------------
    async def attach(self, handle: Handle) -> TerminalStream:
        def connect() -> tuple[socket.socket, bytes]:
            container = self._container(handle)
            if not container.attrs.get("State", {}).get("Running"):
                raise SandboxGone("the sandbox is not running")
            # Attach first, then read the log: a byte may show twice, but none is lost.
            sock = self.client(handle.host).api.attach_socket(
                container.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )
            replay = self.terminal_log(handle, tail=SCROLLBACK_BYTES)
            return getattr(sock, "_sock", sock), replay

        sock, replay = await asyncio.to_thread(connect)
        return DockerTerminal(sock, self, handle, replay)

    def terminal_log(self, handle: Handle, *, tail: int | None = None) -> bytes:
        try:
            data = self._container(handle).logs(stdout=True, stderr=True)
        except (SandboxGone, DockerException):
            return b""
        return data[-tail:] if tail is not None else data
