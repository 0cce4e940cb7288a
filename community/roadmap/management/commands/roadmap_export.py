"""``manage.py roadmap_export [FILE]``: every task as JSON Lines (stdout by default)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from community.roadmap.jsonl import tasks_export


class Command(BaseCommand):
    help = "Export roadmap tasks as JSON Lines, sorted by id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", default="-")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["file"] == "-":
            for line in tasks_export():
                self.stdout.write(line)
            return
        with open(options["file"], "w", encoding="utf-8") as out:
            for line in tasks_export():
                out.write(line + "\n")
