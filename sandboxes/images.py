"""Building sandbox images locally: a Debian root filesystem from debootstrap, imported
into Docker (``docker import``) or unpacked as a bubblewrap rootfs.

No image registry is needed. The debootstrap result is cached as a tarball keyed by the
package list, so only the first build on a machine pays the ~60 s.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

import docker
from docker.errors import DockerException, ImageNotFound

from sandboxes.backends.base import BackendError

SUITE = "bookworm"
IMAGE_CHANGES = [
    "USER 1000:1000",
    "WORKDIR /workspace",
    "ENV LANG=C.UTF-8 HOME=/workspace",
    'CMD ["/bin/bash"]',
]

Say = Callable[[str], None]


def _cache_key(packages: list[str]) -> str:
    digest = hashlib.sha256(",".join(sorted(packages)).encode()).hexdigest()[:12]
    return f"{SUITE}-minbase-{digest}"


def rootfs_tarball(*, packages: list[str], cache_dir: Path, mirror: str, say: Say = print) -> Path:
    """The cached rootfs tarball for ``packages``, built with debootstrap when missing."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / f"{_cache_key(packages)}.tar"
    if target.exists():
        say(f"using cached root filesystem {target}")
        return target
    if not shutil.which("debootstrap"):
        raise BackendError("debootstrap is not installed (apt-get install debootstrap)")
    with tempfile.TemporaryDirectory(prefix="agora-rootfs-", dir=cache_dir) as tmp:
        root = Path(tmp) / "root"
        cmd = ["debootstrap", "--variant=minbase"]
        if packages:
            cmd.append("--include=" + ",".join(packages))
        cmd += [SUITE, str(root), mirror]
        say("running " + " ".join(cmd))
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
        if proc.returncode != 0:
            raise BackendError(f"debootstrap failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        _add_sandbox_user(root)
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(root / junk, ignore_errors=True)
            (root / junk).mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        with tarfile.open(partial, "w") as tar:
            tar.add(str(root), arcname=".")
        partial.rename(target)
    say(f"cached root filesystem at {target}")
    return target


def _add_sandbox_user(root: Path) -> None:
    with open(root / "etc/passwd", "a") as fh:
        fh.write("sandbox:x:1000:1000:sandbox:/workspace:/bin/bash\n")
    with open(root / "etc/group", "a") as fh:
        fh.write("sandbox:x:1000:\n")
    workspace = root / "workspace"
    workspace.mkdir(exist_ok=True)
    os.chown(workspace, 1000, 1000)


def docker_image_build(
    *,
    tag: str,
    packages: list[str],
    hosts: list[str],
    cache_dir: Path,
    mirror: str,
    force: bool = False,
    say: Say = print,
) -> None:
    """Import the rootfs tarball as ``tag`` on every host that lacks it."""
    tarball: Path | None = None
    for host in hosts:
        try:
            client = docker.DockerClient(base_url=host, timeout=600)
        except DockerException as exc:
            raise BackendError(f"cannot reach Docker at {host}: {exc}") from exc
        with contextlib.closing(client):
            if not force:
                try:
                    client.images.get(tag)
                    say(f"{host}: {tag} already present")
                    continue
                except ImageNotFound:
                    pass
            tarball = tarball or rootfs_tarball(
                packages=packages, cache_dir=cache_dir, mirror=mirror, say=say
            )
            repository, _, version = tag.partition(":")
            say(f"{host}: importing {tag}")
            client.api.import_image_from_file(
                str(tarball), repository=repository, tag=version or "latest", changes=IMAGE_CHANGES
            )
            client.images.get(tag)


def rootfs_build(
    *, target: Path, packages: list[str], cache_dir: Path, mirror: str, say: Say = print
) -> None:
    """Unpack the rootfs for the bubblewrap backend into ``target`` (read-only for users)."""
    tarball = rootfs_tarball(packages=packages, cache_dir=cache_dir, mirror=mirror, say=say)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with tarfile.open(tarball) as tar:
        tar.extractall(partial, filter="fully_trusted")  # noqa: S202 - our own tarball
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    say(f"rootfs ready at {target}")
