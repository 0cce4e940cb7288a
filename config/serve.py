"""Serve the portal with N uvicorn worker processes, each on its own listening socket.

``uvicorn --workers N`` shares one listening socket between the workers, and an event loop
accepts every connection waiting when it wakes up: a burst of new connections lands on
whichever worker woke first, and requests on those connections then queue behind each
other in that one process while the others idle. Here every worker listens on its own
``SO_REUSEPORT`` socket bound to the same address, so the kernel spreads connections over
the workers (by a hash of the client's address and port), as nginx's ``reuseport`` does.

    python -m config.serve --host 0.0.0.0 --port 8000 --workers 2 --proxy-headers

A worker that dies is started again on its socket; SIGTERM or SIGINT stops them all
(each finishes its requests first, as uvicorn does).
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from multiprocessing.process import BaseProcess
from typing import Any

APP = "config.asgi:application"
STOP_TIMEOUT = 30.0  # seconds workers get to finish their requests on shutdown

logger = logging.getLogger("agora.serve")


def listening_sockets(host: str, port: int, count: int, backlog: int) -> list[socket.socket]:
    """``count`` sockets listening on the same address, each with its own accept queue."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets = []
    for _ in range(count):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(backlog)
        sock.set_inheritable(True)
        sockets.append(sock)
    return sockets


def _worker(options: dict[str, Any], sock: socket.socket) -> None:
    import uvicorn

    uvicorn.Server(uvicorn.Config(APP, **options)).run(sockets=[sock])


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m config.serve", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_WORKERS", "0")) or os.cpu_count() or 1,
        help="worker processes (default: $WEB_WORKERS, else one per core)",
    )
    parser.add_argument("--backlog", type=int, default=2048)
    parser.add_argument("--timeout-keep-alive", type=int, default=5)
    parser.add_argument("--proxy-headers", action="store_true")
    parser.add_argument("--forwarded-allow-ips", default=None)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--no-access-log", action="store_true")
    parser.add_argument("--lifespan", default="off", choices=["auto", "on", "off"])
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    logging.basicConfig(level=logging.INFO, format="serve: %(message)s")
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "backlog": args.backlog,
        "timeout_keep_alive": args.timeout_keep_alive,
        "proxy_headers": args.proxy_headers,
        "log_level": args.log_level,
        "access_log": not args.no_access_log,
        "lifespan": args.lifespan,
    }
    if args.forwarded_allow_ips is not None:
        options["forwarded_allow_ips"] = args.forwarded_allow_ips
    sockets = listening_sockets(args.host, args.port, args.workers, args.backlog)
    context = multiprocessing.get_context("spawn")
    stopping = False

    def start(sock: socket.socket) -> BaseProcess:
        process = context.Process(target=_worker, args=(options, sock), daemon=False)
        process.start()
        return process

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    workers = [start(sock) for sock in sockets]
    logger.info("%d workers on http://%s:%d", len(workers), args.host, args.port)
    while not stopping:
        time.sleep(0.2)
        for index, process in enumerate(workers):
            if not process.is_alive() and not stopping:
                logger.warning(
                    "worker %s exited with %s; starting another", process.pid, process.exitcode
                )
                workers[index] = start(sockets[index])
    for process in workers:
        if process.is_alive() and process.pid:
            os.kill(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for process in workers:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
