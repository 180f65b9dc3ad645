"""What a runner handle records for `/metrics`: a crash, and a generation's drafts."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from pollama import metrics
from pollama.engine.runner import spawn_runner
from pollama.engine.types import CompletionRequest, LoadSpec, RunnerOptions, SamplingOptions
from pollama.errors import RunnerCrashed


def _spec(path: Path, name: str) -> LoadSpec:
    options = RunnerOptions(num_ctx=256, num_parallel=1, num_thread=1)
    return LoadSpec(name, "0" * 64, path, options=options)


async def test_a_killed_runner_counts_as_a_crash_and_a_closed_one_not(tiny_gguf: Path) -> None:
    crashes = metrics.runner_crashes.labels("crashing")
    runner = await spawn_runner(_spec(tiny_gguf, "crashing"))
    before = crashes._value.get()
    stream = runner.completion(CompletionRequest("hi", grammar="root ::= [a-z] root"))
    await anext(stream)
    os.kill(runner.pid, signal.SIGKILL)
    with pytest.raises(RunnerCrashed):
        async for _ in stream:
            pass
    assert crashes._value.get() == before + 1
    await runner.close()
    closed = await spawn_runner(_spec(tiny_gguf, "crashing"))
    await closed.close()
    assert crashes._value.get() == before + 1


async def test_a_generation_reports_its_drafts(tiny_gguf: Path) -> None:
    runner = await spawn_runner(_spec(tiny_gguf, "drafting"))
    try:
        request = CompletionRequest(
            "abcabcabcabc", SamplingOptions(temperature=0.0, num_predict=60)
        )
        final = [c async for c in runner.completion(request)][-1]
        stats = await runner.stats()
    finally:
        await runner.close()
    assert 0 < final.draft_accepted <= final.draft_tokens
    assert (final.draft_tokens, final.draft_accepted) == (
        stats["draft_tokens"],
        stats["draft_accepted"],
    )
    assert metrics.draft_accepted.labels("drafting")._value.get() == final.draft_accepted
