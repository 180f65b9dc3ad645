"""The load-time knobs Ollama users set: KV cache type, flash attention, slots per model."""

from __future__ import annotations

from pathlib import Path

import llama_cpp.llama_cpp as C
import pytest

from pollama import config
from pollama.api import options
from pollama.engine.runner.model import cpu_has_amx, load_mode
from pollama.engine.types import CompletionRequest, SamplingOptions
from pollama.errors import PollamaError
from pollama.modelfile import parse
from tests.fixtures.tiny_runner import tiny_runner


async def _kv_size(path: Path, **knobs: str) -> int:
    async with tiny_runner(path, num_ctx=512, num_parallel=2, **knobs) as runner:
        request = CompletionRequest("hello", SamplingOptions(num_predict=4))
        assert [c async for c in runner.completion(request)][-1].eval_count == 4
        return runner.metadata.kv_cache_size


@pytest.mark.starter  # quantized caches need heads of 32 or more; the tiny model's have 16
async def test_a_quantized_kv_cache_takes_less_memory(starter_ggufs: dict[str, Path]) -> None:
    gguf = starter_ggufs["gemma3:270m"]
    f16 = await _kv_size(gguf)
    q8 = await _kv_size(gguf, kv_cache_type="q8_0")
    q4 = await _kv_size(gguf, kv_cache_type="q4_0", flash_attention="on")
    assert f16 > 0
    assert q8 == pytest.approx(f16 * 34 / 64, rel=0.05)  # 34 bytes per 32 values, not 64
    assert q4 == pytest.approx(f16 * 18 / 64, rel=0.05)
    assert await _kv_size(gguf, flash_attention="off") == f16


async def test_a_kv_cache_type_the_model_cannot_take_fails_its_load(tiny_gguf: Path) -> None:
    with pytest.raises(PollamaError, match="K cache type q8_0"):
        await _kv_size(tiny_gguf, kv_cache_type="q8_0")


def test_the_environment_picks_the_kv_cache_and_flash_attention(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert (config.flash_attention(), config.kv_cache_type()) == ("auto", "f16")
    monkeypatch.setenv("OLLAMA_KV_CACHE_TYPE", "Q8_0")
    assert config.kv_cache_type() == "q8_0"
    runner, _ = options.from_map(None, None)
    assert runner.kv_cache_type == "q8_0" and runner.flash_attention == "auto"
    monkeypatch.setenv("OLLAMA_FLASH_ATTENTION", "0")
    assert (config.flash_attention(), config.kv_cache_type()) == ("off", "f16")
    monkeypatch.setenv("OLLAMA_FLASH_ATTENTION", "1")
    monkeypatch.setenv("OLLAMA_KV_CACHE_TYPE", "q5_1")  # not one Ollama takes
    assert (config.flash_attention(), config.kv_cache_type()) == ("on", "f16")


def test_a_modelfile_sets_num_parallel_and_a_request_cannot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OLLAMA_NUM_PARALLEL", "4")
    commands = parse("FROM x\nPARAMETER num_parallel 2\n").commands
    [parameter] = [c for c in commands if c.name == "num_parallel"]
    assert parameter.args == "2"
    runner, _ = options.from_map({"num_parallel": 2}, {"num_parallel": 8})
    assert runner.num_parallel == 2
    assert options.runner_options({"num_parallel": 1}, None).num_parallel == 1
    assert options.from_map(None, {"num_parallel": 8})[0].num_parallel == 4


def test_amx_cpus_are_told_apart_by_their_flags_line() -> None:
    # On these the runner keeps weights out of llama.cpp's AMX buffers, whose kernels crash.
    sapphire_rapids = "processor\t: 0\nflags\t\t: fpu avx512f amx_bf16 amx_tile amx_int8\n\n"
    epyc = "processor\t: 0\nflags\t\t: fpu avx512f avx512_vnni\nbugs\t\t: amx_int8\n\n"
    assert cpu_has_amx(sapphire_rapids)
    assert not cpu_has_amx(epyc)
    assert not cpu_has_amx("")


@pytest.mark.parametrize("use_mmap", [None, True, False])
async def test_use_mmap_decides_whether_the_weights_are_mapped_from_the_file(
    tiny_gguf: Path, use_mmap: bool | None
) -> None:
    async with tiny_runner(tiny_gguf, use_mmap=use_mmap) as runner:
        request = CompletionRequest("hello", SamplingOptions(num_predict=2))
        assert [c async for c in runner.completion(request)][-1].eval_count == 2
        mapped = str(tiny_gguf.resolve()) in Path(f"/proc/{runner.pid}/maps").read_text()
    assert mapped is (use_mmap is not False)  # llama.cpp maps by default on Linux


def test_use_mlock_locks_the_weights_however_they_are_loaded() -> None:
    assert load_mode(None, True) == load_mode(True, True) == C.LLAMA_LOAD_MODE_MMAP_MLOCK
    assert load_mode(False, True) == C.LLAMA_LOAD_MODE_MLOCK
    assert load_mode(False, False) == C.LLAMA_LOAD_MODE_NONE


async def test_numa_distributes_the_threads_and_still_answers(tiny_gguf: Path) -> None:
    async with tiny_runner(tiny_gguf, numa=True) as runner:
        request = CompletionRequest("hello", SamplingOptions(num_predict=2))
        assert [c async for c in runner.completion(request)][-1].eval_count == 2
