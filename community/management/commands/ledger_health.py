"""Check every ledger invariant; print a report; exit non-zero on any violation."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand

from community.health import ledger_health


class Command(BaseCommand):
    help = "Check the rewards ledger's invariants and the audit chain; exit 1 on violation."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        report = ledger_health()
        self.stdout.write(report.as_text())
        self.stdout.write(f"checked in {time.perf_counter() - started:.2f}s")
        if not report.ok:
            sys.exit(1)
