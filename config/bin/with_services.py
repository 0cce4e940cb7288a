#!/usr/bin/env python3
"""Run a command against throwaway PostgreSQL and Redis servers (and optional extras).

    python3 config/bin/with_services.py [--directus] [--dockerd] -- COMMAND...

Each server gets a free loopback port and a private temporary directory; the command sees
DATABASE_URL and REDIS_URL (and DIRECTUS_URL/DIRECTUS_TOKEN, DOCKER_HOSTS when asked).
Everything started here is stopped when the command ends, fails, or is interrupted.
Standard library only: it runs before the virtualenv exists.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def pg_bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    preferred = [c for c in candidates if "/15/" in c] or candidates
    if not preferred:
        found = shutil.which("initdb")
        if not found:
            sys.exit("with_services: PostgreSQL server not found (apt-get install postgresql)")
        return Path(found).parent
    return Path(preferred[0]).parent


@contextlib.contextmanager
def postgres(tmp: Path) -> Iterator[str]:
    bindir = pg_bindir()
    port = free_port()
    data = tmp / "pg"
    data.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root.
        pw = pwd.getpwnam("postgres")
        os.chown(tmp, pw.pw_uid, pw.pw_gid)
        os.chown(data, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [
            *as_user,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    opts = (
        f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=400 "
        "-c shared_buffers=256MB"
    )
    subprocess.run(
        [
            *as_user,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            opts,
            "-l",
            str(tmp / "pg.log"),
            "-w",
            "-t",
            "60",
            "start",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        subprocess.run(
            [
                *as_user,
                str(bindir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "agora",
            ],
            check=True,
        )
        print(f"with_services: PostgreSQL on 127.0.0.1:{port}", flush=True)
        yield f"postgres://postgres@127.0.0.1:{port}/agora"
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )


@contextlib.contextmanager
def redis(tmp: Path) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if not binary:
        sys.exit("with_services: redis-server not found (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp),
            "--maxclients",
            "20000",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, 10, proc)
        print(f"with_services: Redis on 127.0.0.1:{port}", flush=True)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
        if proc.poll() is None:
            proc.kill()


@contextlib.contextmanager
def dockerd(tmp: Path) -> Iterator[str | None]:
    """A private dockerd (own socket and data root, no iptables, no bridge)."""
    binary = shutil.which("dockerd")
    if not binary or os.geteuid() != 0:
        print(
            "with_services: dockerd unavailable (needs root and docker.io); Docker tests skip",
            flush=True,
        )
        yield None
        return
    sock = tmp / "docker.sock"
    # A shared data root keeps locally built sandbox images between runs (a cache only:
    # the tests build what is missing). Two dockerds cannot share one root, so a run that
    # finds it taken falls back to a private root in its temporary directory.
    root = Path(os.environ.get("AGORA_DOCKER_DATA_ROOT", "/var/lib/agora-test-docker"))
    root.mkdir(parents=True, exist_ok=True)
    lock = open(root.with_name(root.name + ".lock"), "w")  # noqa: SIM115
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        root = tmp / "docker-root"
        root.mkdir()
        print(f"with_services: shared docker data root busy; using {root}", flush=True)
    log = open(tmp / "dockerd.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            binary,
            "--host",
            f"unix://{sock}",
            "--data-root",
            str(root),
            "--exec-root",
            str(tmp / "docker-exec"),
            "--pidfile",
            str(tmp / "docker.pid"),
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
            "--storage-driver=overlay2",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not sock.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        if not sock.exists():
            print("with_services: dockerd failed to start; Docker tests skip", flush=True)
            yield None
        else:
            print(f"with_services: dockerd on {sock}", flush=True)
            yield f"unix://{sock}"
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(20)
        if proc.poll() is None:
            proc.kill()
        log.close()
        lock.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--directus", action="store_true", help="also start a Directus instance")
    parser.add_argument("--dockerd", action="store_true", help="also start a private dockerd")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")

    # Turn SIGTERM into KeyboardInterrupt so the context managers clean up.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    tmp = Path(tempfile.mkdtemp(prefix="agora-services-"))
    env = dict(os.environ)
    try:
        with contextlib.ExitStack() as stack:
            env["DATABASE_URL"] = stack.enter_context(postgres(tmp))
            env["REDIS_URL"] = stack.enter_context(redis(tmp))
            if args.dockerd:
                docker_host = stack.enter_context(dockerd(tmp))
                if docker_host:
                    env["AGORA_TEST_DOCKER_HOST"] = docker_host
            if args.directus:
                sys.path.insert(0, str(ROOT / "directus" / "instance"))
                from directus_service import directus_running

                env.update(stack.enter_context(directus_running(tmp, env)))
            proc = subprocess.Popen(command, env=env)
            try:
                return proc.wait()
            except KeyboardInterrupt:
                proc.send_signal(signal.SIGINT)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(20)
                if proc.poll() is None:
                    proc.kill()
                return 130
    except KeyboardInterrupt:
        return 130
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
