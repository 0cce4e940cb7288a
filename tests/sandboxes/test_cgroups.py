"""The cgroup code over fake cgroupfs trees, so the v2 path is tested on v1-only hosts."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from sandboxes.backends import cgroups
from sandboxes.backends.cgroups import (
    PARENT,
    CgroupSet,
    cgroup_version,
    standby_groups_prune,
    standby_name,
)


@pytest.fixture
def v2_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A unified hierarchy: the root lists its controllers."""
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (tmp_path / "cgroup.subtree_control").write_text("")
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", tmp_path)
    return tmp_path


@pytest.fixture
def v1_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Separate hierarchies per controller, cpu and cpuacct co-mounted as on many hosts."""
    for name in ("memory", "cpu,cpuacct", "pids"):
        (tmp_path / name).mkdir()
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", tmp_path)
    return tmp_path


def test_unified_hierarchy_is_detected_as_v2(v2_root: Path) -> None:
    assert cgroup_version() == 2
    group = CgroupSet("sbx-a")
    assert group.dirs == {"unified": v2_root / PARENT / "sbx-a"}
    assert group.procs_files() == [str(v2_root / PARENT / "sbx-a" / "cgroup.procs")]


def test_v2_create_enables_controllers_and_writes_every_limit(v2_root: Path) -> None:
    group = CgroupSet("sbx-a")
    group.create(memory_mb=64, cpus=0.5, pids=16)
    d = v2_root / PARENT / "sbx-a"
    assert (v2_root / "cgroup.subtree_control").read_text() == "+memory +cpu +pids"
    assert (v2_root / PARENT / "cgroup.subtree_control").read_text() == "+memory +cpu +pids"
    assert (d / "memory.max").read_text() == str(64 << 20)
    assert (d / "memory.swap.max").read_text() == "0"
    assert (d / "cpu.max").read_text() == "50000 100000"
    assert (d / "pids.max").read_text() == "16"


def test_v2_standby_group_is_made_first_and_limited_when_claimed(v2_root: Path) -> None:
    group = CgroupSet("sbx-s1-1")
    group.make()
    d = v2_root / PARENT / "sbx-s1-1"
    assert d.is_dir() and not (d / "memory.max").exists()
    group.set_limits(memory_mb=128, cpus=2.0, pids=64)
    assert (d / "memory.max").read_text() == str(128 << 20)
    assert (d / "cpu.max").read_text() == "200000 100000"


def test_v2_accounting_reads_the_unified_files(v2_root: Path) -> None:
    group = CgroupSet("sbx-a")
    group.make()
    d = v2_root / PARENT / "sbx-a"
    (d / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n")
    (d / "memory.peak").write_text("12345678\n")
    (d / "memory.events").write_text("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n")
    (d / "pids.current").write_text("3\n")
    (d / "pids.events").write_text("max 7\n")
    (d / "cgroup.procs").write_text("101\n102\n")
    assert group.cpu_seconds() == 2.5
    assert group.memory_peak() == 12345678
    assert group.oom_kills() == 1
    assert group.pids_current() == 3
    assert group.pids_refused() == 7
    assert group.pids() == {101, 102}


def test_v2_kill_all_uses_cgroup_kill(v2_root: Path) -> None:
    group = CgroupSet("sbx-a")
    group.make()
    # Above any pid_max: signalling it one by one (the v1 way) would not empty the list.
    (v2_root / PARENT / "sbx-a" / "cgroup.procs").write_text(f"{(1 << 22) + 1}\n")
    group.kill_all(attempts=1)
    assert (v2_root / PARENT / "sbx-a" / "cgroup.kill").read_text() == "1"


def test_v2_missing_files_read_as_nothing(v2_root: Path) -> None:
    group = CgroupSet("sbx-never-created")
    assert group.cpu_seconds() == 0.0
    assert group.memory_peak() is None
    assert group.oom_kills() == 0
    assert group.pids() == set()


def test_v1_hierarchies_are_found_per_controller(v1_root: Path) -> None:
    assert cgroup_version() == 1
    group = CgroupSet("sbx-b")
    assert group.dirs == {
        "memory": v1_root / "memory" / PARENT / "sbx-b",
        "cpu": v1_root / "cpu,cpuacct" / PARENT / "sbx-b",
        "cpuacct": v1_root / "cpu,cpuacct" / PARENT / "sbx-b",
        "pids": v1_root / "pids" / PARENT / "sbx-b",
    }
    group.create(memory_mb=32, cpus=1.0, pids=8)
    assert (v1_root / "memory" / PARENT / "sbx-b" / "memory.limit_in_bytes").read_text() == str(
        32 << 20
    )
    assert (v1_root / "cpu,cpuacct" / PARENT / "sbx-b" / "cpu.cfs_quota_us").read_text() == (
        "100000"
    )
    assert (v1_root / "pids" / PARENT / "sbx-b" / "pids.max").read_text() == "8"


def test_no_usable_hierarchy_means_no_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", tmp_path)
    assert cgroup_version() == 0
    assert not CgroupSet("sbx-c").available


def test_standby_groups_of_dead_spawners_are_pruned(v1_root: Path) -> None:
    dead_pid = _exited_pid()
    for base in ("memory", "cpu,cpuacct", "pids"):
        for name in (
            standby_name(dead_pid, 1),
            standby_name(dead_pid, 3),
            standby_name(os.getpid(), 2),
            "sbx-someid",
        ):
            (v1_root / base / PARENT / name).mkdir(parents=True)
    # A sandbox started from a dead spawner's standby still runs in this one: kept.
    (v1_root / "pids" / PARENT / standby_name(dead_pid, 3) / "cgroup.procs").write_text("99\n")
    assert standby_groups_prune() == 1
    left = sorted(p.name for p in (v1_root / "memory" / PARENT).iterdir())
    assert left == sorted([standby_name(dead_pid, 3), standby_name(os.getpid(), 2), "sbx-someid"])


def _exited_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid
