"""``manage.py roadmap_import FILE [--skip-bad-lines]``: import tasks from JSON Lines."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from community.roadmap.jsonl import ImportRejected, tasks_import


class Command(BaseCommand):
    help = "Import roadmap tasks from a JSON Lines file ('-' for stdin); idempotent by id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--skip-bad-lines",
            action="store_true",
            help="import the good lines and report the bad ones (default: all or nothing)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        try:
            handle = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from None
        try:
            with handle:
                report = tasks_import(
                    actor=None,
                    lines=(line.rstrip("\n") for line in handle),
                    skip_bad_lines=options["skip_bad_lines"],
                    check_permission=False,
                )
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path}: not UTF-8 ({exc.reason})") from None
        except ImportRejected as exc:
            for error in exc.report.rejected:
                self.stderr.write(f"line {error.line}: {error.reason}")
            raise CommandError(
                f"{len(exc.report.rejected)} bad line(s); nothing was imported "
                "(use --skip-bad-lines to import the rest)"
            ) from None
        for error in report.rejected:
            self.stderr.write(f"line {error.line}: skipped: {error.reason}")
        self.stdout.write(
            f"created {report.created}, updated {report.updated}, "
            f"unchanged {report.unchanged}, rejected {len(report.rejected)}"
        )
