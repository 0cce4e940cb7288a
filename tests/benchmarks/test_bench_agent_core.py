"""Agent runtime core: streaming client throughput, loop overhead, concurrent scripted runs.

Figures printed, each against a baseline measured in the same run:

- streaming: 20,000 text deltas through ``LLMClient.complete`` (with a cancel signal, so
  read in a thread as the loop does) vs reading the same SSE body with bare ``httpx``
  ``iter_lines`` (the client's parsing, thread hand-off and callback overhead);
- tool-call assembly: one tool call whose arguments arrive in 5,000 chunks;
- loop: 199 scripted steps (a step list's maximum) through ``AgentLoop``, without and with
  JSON checkpoints, vs the same tool calls made directly with ``tool_execute``;
- 10 concurrent scripted runs (threads, real shell commands): all succeed, and each run's
  event sequence equals the one a solo run produces (nothing lost or reordered).
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from sandboxes.agents.cancel import CancelFlag, CancelSignal
from sandboxes.agents.llm import LLMClient, LLMConfig
from sandboxes.agents.loop import AgentLoop, loop_state_new
from sandboxes.agents.profiles import FIXER
from sandboxes.agents.scripted import ScriptedProvider
from sandboxes.agents.tools import tool_execute
from sandboxes.agents.workspace import ExecOutcome, FileInfo, WorkspaceError
from tests.sandboxes.agents.conftest import FakeLLMServer, Reply, sse, text_chunk, tool_chunk
from tests.sandboxes.agents.localdir import LocalDirWorkspace

N_DELTAS = 20_000
N_ARG_CHUNKS = 5_000
N_STEPS = 199
N_RUNS = 10
ROUNDS = 3


class MemoryWorkspace:
    """Files in a dict, commands echoed: measures the loop, not the sandbox."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def exec(
        self, command: str, *, timeout: float, cancel: CancelSignal | None = None
    ) -> ExecOutcome:
        return ExecOutcome(0, command)

    def read_file(self, path: str, *, max_bytes: int) -> bytes:
        if path not in self.files:
            raise WorkspaceError("no such file")
        return self.files[path][:max_bytes]

    def write_file(self, path: str, data: bytes) -> None:
        self.files[path] = data

    def list_files(self, path: str = "") -> list[FileInfo]:
        return [FileInfo(p, False, len(d)) for p, d in sorted(self.files.items())]


def best_of(rounds: int, fn: Any) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def test_bench_streaming_client_against_bare_httpx() -> None:
    server = FakeLLMServer()
    try:
        body = b"".join(
            sse(*[text_chunk("tok ") for _ in range(N_DELTAS)], text_chunk(".", finish="stop"))
        )
        config = LLMConfig(base_url=server.url, model="m", include_usage=False)

        def bare() -> None:
            server.add(Reply(chunks=[body]))
            with (
                httpx.Client() as client,
                client.stream("POST", server.url + "/chat/completions", json={}) as response,
            ):
                lines = sum(1 for line in response.iter_lines() if line)
            assert lines == N_DELTAS + 2

        def ours() -> None:
            server.add(Reply(chunks=[body]))
            received: list[str] = []
            with LLMClient(config) as client:
                completion = client.complete(
                    [{"role": "user", "content": "x"}], on_text=received.append, cancel=CancelFlag()
                )
            assert len(received) == N_DELTAS + 1
            assert completion.content == "tok " * N_DELTAS + "."

        baseline = best_of(ROUNDS, bare)
        measured = best_of(ROUNDS, ours)

        args = json.dumps({"path": "a.txt", "content": "x" * N_ARG_CHUNKS})
        pieces = [args[i : i + 1] for i in range(len(args))]
        chunks = [tool_chunk(0, call_id="c", name="write_file", arguments="")]
        chunks += [tool_chunk(0, arguments=piece) for piece in pieces]

        def assemble() -> None:
            server.add(Reply(chunks=[b"".join(sse(*chunks))]))
            with LLMClient(config) as client:
                completion = client.complete([{"role": "user", "content": "x"}])
            assert completion.tool_calls[0].arguments == args

        assembly = best_of(ROUNDS, assemble)
    finally:
        server.close()
    print(
        f"\nstreaming {N_DELTAS} deltas: bare httpx {baseline * 1000:.0f} ms, "
        f"LLMClient {measured * 1000:.0f} ms ({measured / baseline:.1f}x, "
        f"{N_DELTAS / measured:,.0f} deltas/s)"
    )
    print(f"tool call in {len(pieces)} argument chunks: {assembly * 1000:.0f} ms")
    print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    assert measured < baseline * 20


def test_bench_loop_overhead_per_step() -> None:
    profile = replace(FIXER, max_steps=N_STEPS + 5, risky_policy="allow")
    steps = [
        {"tool": "write_file", "args": {"path": f"f{i % 20}.txt", "content": "x" * 200}}
        if i % 2
        else {"tool": "shell", "args": {"command": f"echo {i}"}}
        for i in range(N_STEPS)
    ] + [{"finish": "done"}]
    provider = ScriptedProvider(steps)

    def direct() -> None:
        workspace = MemoryWorkspace()
        for step in provider.steps[:-1]:
            assert tool_execute(name=step.tool, args=step.args, workspace=workspace).ok

    counts: dict[str, int] = {}

    def looped(*, checkpoints: bool) -> None:
        events: list[tuple[str, dict[str, Any]]] = []
        saved = [0]

        def checkpoint(state: Any) -> None:
            saved[0] += len(json.dumps(state.to_json()))

        loop = AgentLoop(
            profile=profile,
            provider=provider,
            workspace=MemoryWorkspace(),
            emit=lambda kind, data: events.append((kind, data)),
            checkpoint=checkpoint if checkpoints else None,
        )
        state = loop.run(loop_state_new(profile=profile, task="bench"))
        assert state.outcome == "succeeded" and state.tool_calls == N_STEPS
        counts["events"] = len(events)
        counts["checkpoint_bytes"] = max(counts.get("checkpoint_bytes", 0), saved[0])

    baseline = best_of(ROUNDS, direct)
    bare_loop = best_of(ROUNDS, lambda: looped(checkpoints=False))
    with_saves = best_of(ROUNDS, lambda: looped(checkpoints=True))
    print(
        f"\n{N_STEPS} steps: direct tools {baseline * 1000:.1f} ms; loop {bare_loop * 1000:.1f} ms "
        f"({(bare_loop - baseline) / N_STEPS * 1e6:.0f} µs overhead per step, "
        f"{counts['events']} events); loop + JSON checkpoints {with_saves * 1000:.1f} ms "
        f"({(with_saves - baseline) / N_STEPS * 1e6:.0f} µs per step, "
        f"{counts['checkpoint_bytes'] / 1e6:.1f} MB serialised: the whole history, 3 saves a step)"
    )
    print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    assert bare_loop < 1.0


def test_bench_concurrent_scripted_runs(tmp_path: Path) -> None:
    profile = replace(FIXER, risky_policy="allow")
    steps = [
        {"tool": "write_file", "args": {"path": "a.txt", "content": "hello\n"}},
        {"tool": "shell", "args": {"command": "cat a.txt && sleep 0.05"}},
        {"tool": "shell", "args": {"command": "echo more >> a.txt; wc -l a.txt"}},
        {"tool": "read_file", "args": {"path": "a.txt"}},
        {"finish": "done"},
    ]

    def run(index: int, sink: dict[int, list[tuple[str, Any]]], times: dict[int, float]) -> None:
        root = tmp_path / f"run{index}"
        root.mkdir()
        events: list[tuple[str, Any]] = []
        started = time.perf_counter()
        loop = AgentLoop(
            profile=profile,
            provider=ScriptedProvider(steps),
            workspace=LocalDirWorkspace(root),
            emit=lambda kind, data: events.append((kind, {**data})),
        )
        state = loop.run(loop_state_new(profile=profile, task="bench"))
        times[index] = time.perf_counter() - started
        events.append(("outcome", state.outcome))
        sink[index] = events

    solo: dict[int, list[tuple[str, Any]]] = {}
    solo_time: dict[int, float] = {}
    run(-1, solo, solo_time)
    expected = solo[-1]

    results: dict[int, list[tuple[str, Any]]] = {}
    times: dict[int, float] = {}
    threads = [threading.Thread(target=run, args=(i, results, times)) for i in range(N_RUNS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    wall = time.perf_counter() - started

    assert len(results) == N_RUNS
    for events in results.values():
        assert events[-1] == ("outcome", "succeeded")
        assert events == expected  # same events, same order, same payloads
    print(
        f"\n{N_RUNS} concurrent scripted runs: all succeeded with identical event sequences "
        f"({len(expected) - 1} events each); solo run {solo_time[-1] * 1000:.0f} ms, "
        f"concurrent wall {wall * 1000:.0f} ms, per-run p50 "
        f"{statistics.median(times.values()) * 1000:.0f} ms"
    )
    print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
