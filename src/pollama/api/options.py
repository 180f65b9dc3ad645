"""Request `options` → engine options: the counterpart of Ollama's `Options.FromMap`.

Layers apply in Ollama's order: built-in defaults ← Modelfile `PARAMETER`s ← request
`options`. Every layer goes through the same validation, so a bad Modelfile value and a bad
request value fail alike. Reading is tolerant, as clients expect (STYLE rule 2):

* unknown keys are logged and skipped, never fatal (LangChain sends keys Ollama never had);
* stale names ollama-python still declares (`low_vram`, `f16_kv`, `tfs_z`, ...) are skipped
  without a type check, as Ollama does;
* `null` values are skipped, integers accept `1.0` (any JSON number, truncated);
* a value of the wrong JSON type is a 400 `option "num_ctx" must be of type integer`.
  Ollama answers 500 there, but the fault is the client's, so pollama says 400.

`mirostat`, `mirostat_tau` and `mirostat_eta` are honoured and passed to the sampler,
although Ollama's Go runner dropped them: llama.cpp still implements them. `penalize_newline`
and `tfs_z` are accepted and ignored, as llama.cpp itself no longer has them.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from pollama import config
from pollama.engine.types import RunnerOptions, SamplingOptions
from pollama.errors import InvalidRequest

log = logging.getLogger(__name__)

# Names clients still send that no longer mean anything: skipped without complaint.
STALE_OPTIONS = frozenset(
    {"low_vram", "f16_kv", "vocab_only", "logits_all", "embedding_only", "tfs_z"}
)

# The smallest context Ollama loads with.
MIN_NUM_CTX = 4

# RunnerOptions fields that are server settings, not request options (`num_parallel` may
# also come from a Modelfile's PARAMETER, Ollama's #8842).
_NOT_OPTIONS = frozenset({"num_parallel", "embedding", "flash_attention", "kv_cache_type"})

_RUNNER_KEYS = tuple(
    f.name for f in dataclasses.fields(RunnerOptions) if f.name not in _NOT_OPTIONS
)
_SAMPLING_KEYS = tuple(f.name for f in dataclasses.fields(SamplingOptions))

# The JSON type each option takes, from the defaults' Python types.
_KINDS: dict[str, str] = {
    "use_mmap": "boolean",
    **{
        name: "array"
        if name == "stop"
        else {bool: "boolean", int: "integer", float: "float32"}[type(getattr(cls(), name))]
        for cls, keys in ((RunnerOptions, _RUNNER_KEYS), (SamplingOptions, _SAMPLING_KEYS))
        for name in keys
        if name != "use_mmap"
    },
}


def default_values() -> dict[str, Any]:
    """Every option at its default, with the server-wide ones read from the environment."""
    values: dict[str, Any] = {
        **{k: getattr(RunnerOptions(), k) for k in _RUNNER_KEYS},
        **{k: getattr(SamplingOptions(), k) for k in _SAMPLING_KEYS},
    }
    values["num_ctx"] = config.context_length()
    return values


def _coerce(key: str, value: Any) -> Any:
    """`value` as option `key`'s type, or InvalidRequest naming the type it must have."""
    kind = _KINDS[key]
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "integer" and is_number:
        return int(value)
    if kind == "float32" and is_number:
        return float(value)
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "array" and isinstance(value, list | tuple):
        if not all(isinstance(s, str) for s in value):
            raise InvalidRequest(f'option "{key}" must be of an array of strings')
        return tuple(value)
    raise InvalidRequest(f'option "{key}" must be of type {kind}')


def validate(layer: Mapping[str, Any] | None) -> dict[str, Any]:
    """The known, non-null options in `layer`, type-checked and coerced."""
    out: dict[str, Any] = {}
    for key, value in (layer or {}).items():
        if value is None:
            continue
        if key in STALE_OPTIONS:
            log.debug("option %r is no longer used; ignored", key)
        elif key not in _KINDS:
            log.warning("invalid option provided: %r (ignored)", key)
        else:
            out[key] = _coerce(key, value)
    return out


def merge(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults overlaid by each layer in turn (Modelfile parameters, then the request)."""
    values = default_values()
    for layer in layers:
        values.update(validate(layer))
    return values


def to_runner_options(values: Mapping[str, Any], num_parallel: int = 0) -> RunnerOptions:
    """The load-time part of merged `values`; the scheduler reloads when it changes.

    `num_ctx` below 4 is raised to 4, as Ollama's server does, rather than failing the load.
    `num_parallel` (a Modelfile's) overrides `OLLAMA_NUM_PARALLEL` when positive.
    """
    picked = {k: values[k] for k in _RUNNER_KEYS if k in values}
    picked["num_ctx"] = max(MIN_NUM_CTX, int(picked.get("num_ctx", MIN_NUM_CTX)))
    return RunnerOptions(
        **picked,
        num_parallel=num_parallel if num_parallel > 0 else config.num_parallel(),
        flash_attention=config.flash_attention(),
        kv_cache_type=config.kv_cache_type(),
    )


def _split_parallel(parameters: Mapping[str, Any] | None) -> tuple[dict[str, Any], int]:
    """A Modelfile's parameters without `num_parallel`, and its value (0 if unset): the
    Modelfile may set it, a request may not (it would reload the model)."""
    rest = dict(parameters or {})
    value = rest.pop("num_parallel", None)
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 1:
        return rest, int(value)
    return rest, 0


def to_sampling_options(values: Mapping[str, Any]) -> SamplingOptions:
    """The per-request part of merged `values`.

    `repeat_last_n: -1` means "the whole context" in Ollama, so it is resolved here, where
    `num_ctx` is known.
    """
    picked = {k: values[k] for k in _SAMPLING_KEYS if k in values}
    if picked.get("repeat_last_n") == -1:
        picked["repeat_last_n"] = int(values.get("num_ctx", config.context_length()))
    return SamplingOptions(**picked)


def from_map(
    parameters: Mapping[str, Any] | None, options: Mapping[str, Any] | None
) -> tuple[RunnerOptions, SamplingOptions]:
    """Modelfile `parameters` then request `options` over the defaults, split by stage."""
    parameters, parallel = _split_parallel(parameters)
    values = merge(parameters, options)
    return to_runner_options(values, parallel), to_sampling_options(values)


def runner_options(
    parameters: Mapping[str, Any] | None, options: Mapping[str, Any] | None
) -> RunnerOptions:
    """Only the load-time options (embedding requests have no sampling)."""
    parameters, parallel = _split_parallel(parameters)
    return to_runner_options(merge(parameters, options), parallel)
