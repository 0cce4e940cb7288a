"""``manage.py directus_sync [--full]``: repair the content mirror from Directus."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from directus.client import DirectusError
from directus.services import content_reconcile


class Command(BaseCommand):
    help = "Compare Directus with the content mirror and repair drift (missed webhooks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--full",
            action="store_true",
            help="fetch and compare every item, not only recently changed ones",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = content_reconcile(full=options["full"])
        except DirectusError as exc:
            raise CommandError(f"Directus is unreachable or refused: {exc}") from exc
        self.stdout.write(f"directus_sync: {report}")
