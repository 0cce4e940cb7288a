"""Recompute the audit log's hash chain and report the first broken link."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from portal.audit import audit_verify


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; exit code 1 names the first broken entry."

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_verify()
        if not report.ok:
            raise CommandError(
                f"BROKEN at entry #{report.broken_at}: {report.reason} "
                f"({report.checked} entries before it verified)",
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"OK: {report.checked} entries verified; head hash {report.head_hash}"
            )
        )
