"""``manage.py sandbox_images build RECIPE`` — build a recipe's image locally.

Docker: debootstrap a minimal Debian with the recipe's packages, cache the tarball under
``SANDBOX_IMAGE_CACHE`` and ``docker import`` it on every host in ``DOCKER_HOSTS`` (no
registry needed). Bubblewrap recipes with a ``rootfs`` get it unpacked there instead.
``manage.py sandbox_images list`` shows what each recipe needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandboxes.backends.base import BackendError
from sandboxes.builtin import IMAGES
from sandboxes.images import docker_image_build, rootfs_build
from sandboxes.models import Recipe


class Command(BaseCommand):
    help = "Build sandbox images for recipes (debootstrap + docker import, no registry)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["build", "list"])
        parser.add_argument("recipes", nargs="*", help="recipe slugs (default: all built-in)")
        parser.add_argument("--force", action="store_true", help="re-import even if present")
        parser.add_argument(
            "--host", action="append", default=[], help="Docker host URL (default: DOCKER_HOSTS)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        slugs = options["recipes"]
        recipes = (
            Recipe.objects.filter(slug__in=slugs) if slugs else Recipe.objects.filter(builtin=True)
        )
        missing = set(slugs) - {r.slug for r in recipes}
        if missing:
            raise CommandError(f"no such recipe: {', '.join(sorted(missing))}")
        for recipe in recipes:
            version = recipe.latest
            if version is None:
                continue
            packages = list(version.packages) or IMAGES.get(version.docker_image, [])
            if options["action"] == "list":
                self.stdout.write(
                    f"{recipe.slug}: image={version.docker_image or '-'} "
                    f"rootfs={version.rootfs or '-'} packages={packages}"
                )
                continue
            try:
                self._build(recipe.slug, version.docker_image, version.rootfs, packages, options)
            except BackendError as exc:
                raise CommandError(f"{recipe.slug}: {exc}") from exc

    def _build(
        self, slug: str, image: str, rootfs: str, packages: list[str], options: dict[str, Any]
    ) -> None:
        say = self.stdout.write
        if image:
            hosts = options["host"] or list(settings.DOCKER_HOSTS)
            if not hosts:
                raise CommandError("no Docker host: set DOCKER_HOSTS or pass --host")
            docker_image_build(
                tag=image,
                packages=packages,
                hosts=hosts,
                cache_dir=settings.SANDBOX_IMAGE_CACHE,
                mirror=settings.SANDBOX_DEBIAN_MIRROR,
                force=options["force"],
                say=say,
            )
        if rootfs:
            rootfs_build(
                target=Path(rootfs),
                packages=packages,
                cache_dir=settings.SANDBOX_IMAGE_CACHE,
                mirror=settings.SANDBOX_DEBIAN_MIRROR,
                say=say,
            )
        if not image and not rootfs:
            say(f"{slug}: runs on the host's /usr under bubblewrap; nothing to build")
        else:
            say(self.style.SUCCESS(f"{slug}: built"))
