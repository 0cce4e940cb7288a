#!/usr/bin/env python3
"""`make run`: migrate, load demo data, start Directus (when installable), the web server
and the background worker; print how to log in; stop everything on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--no-directus", action="store_true")
    args = parser.parse_args()

    env = dict(os.environ)
    env.setdefault("DEBUG", "1")
    env.setdefault("SITE_URL", f"http://{args.host}:{args.port}")
    env.setdefault("ALLOWED_HOSTS", f"{args.host},localhost,127.0.0.1")
    (ROOT / "var").mkdir(exist_ok=True)

    procs: list[subprocess.Popen[bytes]] = []
    stack = contextlib.ExitStack()
    directus_note = ""
    try:
        if not args.no_directus and os.environ.get("AGORA_DIRECTUS", "1") != "0":
            directus_note = start_directus(stack, env, args.port)
        manage("migrate", "--noinput", "-v", "0", env=env)
        manage("demo_seed", env=env)

        procs.append(
            subprocess.Popen(
                [
                    PY,
                    "-m",
                    "uvicorn",
                    "config.asgi:application",
                    "--host",
                    args.host,
                    "--port",
                    str(args.port),
                    "--lifespan",
                    "off",
                    "--no-access-log",
                ],
                cwd=ROOT,
                env=env,
            )
        )
        procs.append(subprocess.Popen([PY, "manage.py", "worker"], cwd=ROOT, env=env))
        time.sleep(1.5)
        print_banner(args.host, args.port, directus_note)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        failed = next(p for p in procs if p.poll() is not None)
        print(f"run: a process exited with {failed.returncode}; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nrun: stopping…")
        return 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
            if proc.poll() is None:
                proc.kill()
        stack.close()


def start_directus(stack: contextlib.ExitStack, env: dict[str, str], port: int) -> str:
    """Start the repo's Directus instance on SQLite under var/directus/, if it can be."""
    instance = ROOT / "directus" / "instance"
    sys.path.insert(0, str(instance))
    try:
        from directus_service import directus_for_run
    except ImportError:
        return "Directus: not set up in this checkout; the portal serves its content mirror."
    try:
        extra, note = stack.enter_context(directus_for_run(ROOT / "var" / "directus", port))
    except Exception as exc:
        return f"Directus: unavailable ({exc}); the portal serves its content mirror alone."
    env.update(extra)
    return note


def print_banner(host: str, port: int, directus_note: str) -> None:
    from_seed = [
        ("steward", "steward@agora.localhost"),
        ("maintainer", "maintainer@agora.localhost"),
        ("member", "ada@agora.localhost"),
        ("member", "grace@agora.localhost"),
    ]
    lines = [
        "",
        "=" * 72,
        f"  Agora is running at http://{host}:{port}/",
        "",
        "  Log in with (password for all: agora-demo-2026):",
        *(f"    {role:<11} {email}" for role, email in from_seed),
        "  The steward is asked to set up two-factor authentication (TOTP) first.",
        "  Emails (sign-up verification, password reset) are printed to this console.",
    ]
    if directus_note:
        lines += ["", *(f"  {line}" for line in directus_note.splitlines())]
    lines += ["", "  Ctrl-C stops everything.", "=" * 72, ""]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
