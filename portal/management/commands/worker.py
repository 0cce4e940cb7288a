"""Run background jobs and periodic schedules from the database queue."""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
import threading
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.jobs.registry import jobs_autodiscover
from portal.jobs.worker import Worker, worker_id_make

logger = logging.getLogger("agora.jobs")


class Command(BaseCommand):
    help = (
        "Run queued jobs and periodic schedules. SIGINT/SIGTERM: finish the current jobs "
        "and exit (a second signal, or the grace period running out, puts them back in the "
        "queue and exits at once)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--concurrency", type=int, default=1, help="jobs run at once (threads)")
        parser.add_argument(
            "--once",
            "--burst",
            dest="burst",
            action="store_true",
            help="run every ready job, then exit",
        )
        parser.add_argument(
            "--grace",
            type=float,
            default=30.0,
            help="seconds to let running jobs finish after a stop signal",
        )
        parser.add_argument(
            "--no-schedules",
            dest="schedules",
            action="store_false",
            help="run jobs only; leave firing periodic schedules to other workers",
        )
        parser.add_argument(
            "--import",
            dest="imports",
            action="append",
            default=[],
            metavar="MODULE",
            help="import an extra module that registers tasks (repeatable)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        concurrency = max(1, int(options["concurrency"]))
        burst = bool(options["burst"])
        grace = float(options["grace"])
        jobs_autodiscover()
        for module in options["imports"]:
            importlib.import_module(module)

        stop = threading.Event()
        workers = [
            Worker(
                worker_id=worker_id_make(str(i)),
                stop_event=stop,
                fire_schedules=options["schedules"] and i == 0,
            )
            for i in range(concurrency)
        ]
        signals_seen = 0
        deadline: float | None = None

        def on_signal(signum: int, frame: FrameType | None) -> None:
            nonlocal signals_seen, deadline
            signals_seen += 1
            stop.set()
            if deadline is None:
                deadline = time.monotonic() + grace
            logger.info("worker: %s received, finishing current jobs", signal.Signals(signum).name)

        previous = {}
        if threading.current_thread() is threading.main_thread():  # signals need the main thread
            previous = {
                sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
            }
        crashed: list[str] = []

        def run(worker: Worker) -> None:
            try:
                worker.run(burst=burst)
            except Exception:  # already logged by the worker loop
                crashed.append(worker.worker_id)

        threads = [
            threading.Thread(target=run, args=(w,), name=w.worker_id, daemon=True) for w in workers
        ]
        logger.info("worker: %d thread(s) started%s", concurrency, " (burst)" if burst else "")
        for thread in threads:
            thread.start()
        try:
            while any(t.is_alive() for t in threads):
                for thread in threads:
                    thread.join(timeout=0.2)
                hard_stop = signals_seen > 1 or (
                    deadline is not None and time.monotonic() > deadline
                )
                if hard_stop:
                    released = sum(1 for w in workers if w.release_current())
                    logger.warning("worker: stopping now, %d running job(s) released", released)
                    logging.shutdown()
                    sys.stdout.flush()
                    # Job threads may be blocked inside task code; do not wait for them.
                    os._exit(1)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if crashed:
            raise CommandError(f"worker stopped on an error in {', '.join(crashed)}", returncode=2)
        logger.info("worker: stopped")
