"""`api.options`: Ollama's `FromMap` precedence, tolerance and type errors."""

from __future__ import annotations

import logging

import pytest

from pollama.api.options import from_map, merge, runner_options, to_sampling_options
from pollama.engine.types import RunnerOptions, SamplingOptions
from pollama.errors import InvalidRequest


def test_defaults_match_ollama_and_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_CONTEXT_LENGTH", "8192")
    monkeypatch.setenv("OLLAMA_NUM_PARALLEL", "2")
    runner, sampling = from_map(None, None)
    assert runner.num_ctx == 8192
    assert runner.num_parallel == 2
    assert sampling == SamplingOptions()
    assert (sampling.seed, sampling.top_k, sampling.top_p, sampling.temperature) == (
        -1,
        40,
        0.9,
        0.8,
    )


def test_request_overrides_modelfile_overrides_defaults() -> None:
    parameters = {"temperature": 0.1, "stop": ["<|im_end|>"], "num_ctx": 1024, "top_k": 5}
    runner, sampling = from_map(parameters, {"temperature": 0.5, "num_ctx": 512})
    assert sampling.temperature == 0.5
    assert sampling.top_k == 5
    assert sampling.stop == ("<|im_end|>",)
    assert runner.num_ctx == 512


@pytest.mark.parametrize(
    ("options", "field", "expected"),
    [
        ({"num_predict": 10.0}, "num_predict", 10),
        ({"seed": 42.9}, "seed", 42),
        ({"temperature": 1}, "temperature", 1.0),
        ({"penalize_newline": False}, "penalize_newline", False),
        ({"mirostat": 2, "mirostat_tau": 4}, "mirostat", 2),
        ({"mirostat_eta": 0.2}, "mirostat_eta", 0.2),
        ({"repeat_last_n": 0}, "repeat_last_n", 0),
        ({"seed": None}, "seed", -1),
    ],
)
def test_sampling_values_are_coerced(options: dict, field: str, expected: object) -> None:
    _, sampling = from_map(None, options)
    assert getattr(sampling, field) == expected


def test_repeat_last_n_minus_one_means_the_context() -> None:
    _, sampling = from_map(None, {"repeat_last_n": -1, "num_ctx": 333})
    assert sampling.repeat_last_n == 333


@pytest.mark.parametrize(
    ("options", "field", "expected"),
    [
        ({"num_batch": 64}, "num_batch", 64),
        ({"num_gpu": 0}, "num_gpu", 0),
        ({"main_gpu": 1}, "main_gpu", 1),
        ({"use_mmap": False}, "use_mmap", False),
        ({"use_mlock": True}, "use_mlock", True),
        ({"numa": True}, "numa", True),
        ({"num_thread": 2}, "num_thread", 2),
        ({"rope_frequency_base": 10000}, "rope_frequency_base", 10000.0),
        ({"rope_frequency_scale": 0.5}, "rope_frequency_scale", 0.5),
    ],
)
def test_runner_values(options: dict, field: str, expected: object) -> None:
    assert getattr(runner_options(None, options), field) == expected


def test_stale_and_unknown_keys_are_skipped(caplog: pytest.LogCaptureFixture) -> None:
    stale = {
        "low_vram": True,
        "f16_kv": True,
        "vocab_only": False,
        "logits_all": False,
        "embedding_only": False,
        "tfs_z": 1.0,
    }
    with caplog.at_level(logging.WARNING, logger="pollama.api.options"):
        runner, sampling = from_map(None, {**stale, "not_an_option": 1, "temperature": 0.2})
    assert sampling.temperature == 0.2
    assert runner == runner_options(None, None)
    assert "not_an_option" in caplog.text
    assert "tfs_z" not in caplog.text  # stale names are expected, not warned about


def test_server_settings_are_not_request_options() -> None:
    runner = runner_options(None, {"num_parallel": 99, "embedding": True})
    assert runner.num_parallel != 99
    assert runner.embedding is False


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"num_ctx": "big"}, 'option "num_ctx" must be of type integer'),
        ({"num_ctx": True}, 'option "num_ctx" must be of type integer'),
        ({"temperature": "hot"}, 'option "temperature" must be of type float32'),
        ({"use_mmap": 1}, 'option "use_mmap" must be of type boolean'),
        ({"stop": "x"}, 'option "stop" must be of type array'),
        ({"stop": ["x", 1]}, 'option "stop" must be of an array of strings'),
    ],
)
def test_wrong_types_are_400(options: dict, message: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        from_map(None, options)
    assert info.value.message == message
    assert info.value.status_code == 400


def test_bad_modelfile_parameters_fail_the_same_way() -> None:
    with pytest.raises(InvalidRequest, match="num_ctx"):
        from_map({"num_ctx": "x"}, None)


def test_named_conversions_take_merged_values() -> None:
    values = merge({"top_p": 0.5}, {"stop": ["a", "b"]})
    assert to_sampling_options(values).stop == ("a", "b")
    assert to_sampling_options(values).top_p == 0.5
    assert isinstance(runner_options(None, None), RunnerOptions)


@pytest.mark.parametrize(("asked", "loaded"), [(-5, 4), (0, 4), (1, 4), (64, 64)])
def test_num_ctx_below_four_is_raised_to_four(asked: int, loaded: int) -> None:
    runner, _ = from_map(None, {"num_ctx": asked})
    assert runner.num_ctx == loaded
