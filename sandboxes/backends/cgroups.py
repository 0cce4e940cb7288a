"""Per-sandbox control groups on cgroup v1 (separate hierarchies) or v2 (unified).

Only the kernel files are touched; no library. Every method is best effort where the
host lacks a controller: ``CgroupSet.available`` says whether limits are enforced.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from pathlib import Path

from portal.procs import pid_alive

CGROUP_ROOT = Path("/sys/fs/cgroup")
PARENT = "agora-sandboxes"


def cgroup_version() -> int:
    """2 for a unified hierarchy, 1 for separate v1 controllers, 0 when neither is usable."""
    if (CGROUP_ROOT / "cgroup.controllers").exists():
        return 2
    if (CGROUP_ROOT / "memory").is_dir() and os.access(CGROUP_ROOT / "memory", os.W_OK):
        return 1
    return 0


STANDBY_NAME = re.compile(r"^sbx-s(\d+)-\d+$")  # a spawner's standby group: sbx-s<pid>-<n>


def standby_name(spawner_pid: int, number: int) -> str:
    return f"sbx-s{spawner_pid}-{number}"


def standby_groups_prune() -> int:
    """Remove empty standby groups left by spawners that died without cleaning up
    (SIGKILL); groups of sandboxes that still run are removed when those stop."""
    version = cgroup_version()
    bases = (
        [CGROUP_ROOT / PARENT]
        if version == 2
        else [d / PARENT for c in ("memory", "cpu", "cpuacct", "pids") if (d := _v1_dir(c))]
    )
    names: set[str] = set()
    for base in bases:
        with contextlib.suppress(OSError):
            names.update(e.name for e in base.iterdir() if e.is_dir())
    pruned = 0
    for name in sorted(names):
        match = STANDBY_NAME.match(name)
        if match is None or pid_alive(int(match.group(1))):
            continue
        group = CgroupSet(name, version)
        if group.pids():
            continue  # a sandbox started from that standby still runs: its stop removes it
        group.destroy()
        pruned += 1
    return pruned


def _v1_dir(controller: str) -> Path | None:
    for name in (controller, "cpu,cpuacct", "cpuacct,cpu"):
        candidate = CGROUP_ROOT / name
        if candidate.is_dir() and (controller in name.split(",")):
            return candidate
    return None


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
        return True
    except OSError:
        return False


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _kv(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        with contextlib.suppress(ValueError):
            out[key] = int(value)
    return out


class CgroupSet:
    """The control group(s) of one sandbox, named ``agora-sandboxes/<name>``."""

    def __init__(self, name: str, version: int | None = None) -> None:
        self.name = name
        self.version = cgroup_version() if version is None else version
        self.dirs: dict[str, Path] = {}
        if self.version == 1:
            for controller in ("memory", "cpu", "cpuacct", "pids"):
                base = _v1_dir(controller)
                if base is not None:
                    self.dirs[controller] = base / PARENT / name
        elif self.version == 2:
            self.dirs["unified"] = CGROUP_ROOT / PARENT / name

    @property
    def available(self) -> bool:
        return bool(self.dirs)

    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs.values()]

    def create(self, *, memory_mb: int, cpus: float, pids: int) -> None:
        self.make()
        self.set_limits(memory_mb=memory_mb, cpus=cpus, pids=pids)

    def make(self) -> None:
        """Create the group (no limits yet: a process may join it before they are known)."""
        if self.version == 2:
            parent = CGROUP_ROOT / PARENT
            parent.mkdir(exist_ok=True)
            _write(CGROUP_ROOT / "cgroup.subtree_control", "+memory +cpu +pids")
            _write(parent / "cgroup.subtree_control", "+memory +cpu +pids")
            self.dirs["unified"].mkdir(exist_ok=True)
            return
        for d in self.dirs.values():
            d.mkdir(parents=True, exist_ok=True)

    def set_limits(self, *, memory_mb: int, cpus: float, pids: int) -> None:
        mem = str(memory_mb * 1024 * 1024)
        if self.version == 2:
            d = self.dirs["unified"]
            _write(d / "memory.max", mem)
            _write(d / "memory.swap.max", "0")
            _write(d / "cpu.max", f"{int(cpus * 100000)} 100000")
            _write(d / "pids.max", str(pids))
            return
        for controller, d in self.dirs.items():
            if controller == "memory":
                _write(d / "memory.limit_in_bytes", mem)
                _write(d / "memory.memsw.limit_in_bytes", mem)
            elif controller == "cpu":
                _write(d / "cpu.cfs_period_us", "100000")
                _write(d / "cpu.cfs_quota_us", str(int(cpus * 100000)))
            elif controller == "pids":
                _write(d / "pids.max", str(pids))

    def cpu_seconds(self) -> float:
        if self.version == 2:
            usec = _kv(_read(self.dirs["unified"] / "cpu.stat")).get("usage_usec", 0)
            return usec / 1e6
        d = self.dirs.get("cpuacct")
        raw = _read(d / "cpuacct.usage").strip() if d else ""
        return int(raw) / 1e9 if raw.isdigit() else 0.0

    def memory_peak(self) -> int | None:
        if self.version == 2:
            raw = _read(self.dirs["unified"] / "memory.peak").strip()
        else:
            d = self.dirs.get("memory")
            raw = _read(d / "memory.max_usage_in_bytes").strip() if d else ""
        return int(raw) if raw.isdigit() else None

    def oom_kills(self) -> int:
        if self.version == 2:
            return _kv(_read(self.dirs["unified"] / "memory.events")).get("oom_kill", 0)
        d = self.dirs.get("memory")
        if not d:
            return 0
        events = _kv(_read(d / "memory.oom_control"))
        if "oom_kill" in events:
            return events["oom_kill"]
        # Older v1 kernels have no counter; hitting the limit is the best signal there is.
        return 1 if _read(d / "memory.failcnt").strip() not in ("", "0") else 0

    def pids_refused(self) -> int:
        d = self.dirs.get("unified") or self.dirs.get("pids")
        return _kv(_read(d / "pids.events")).get("max", 0) if d else 0

    def pids_current(self) -> int | None:
        d = self.dirs.get("unified") or self.dirs.get("pids")
        raw = _read(d / "pids.current").strip() if d else ""
        return int(raw) if raw.isdigit() else None

    def pids(self) -> set[int]:
        found: set[int] = set()
        for d in self.dirs.values():
            for line in _read(d / "cgroup.procs").split():
                if line.isdigit():
                    found.add(int(line))
        return found

    def kill_all(self, *, attempts: int = 50) -> None:
        if self.version == 2 and _write(self.dirs["unified"] / "cgroup.kill", "1"):
            return
        for _ in range(attempts):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def destroy(self) -> None:
        self.kill_all()
        for d in self.dirs.values():
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
