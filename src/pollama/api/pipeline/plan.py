"""Stage 2: what to load and how to sample: options, grammar, keep_alive.

Layers apply in Ollama's order (defaults, Modelfile PARAMETERs, request options) through
`api.options`; `format` becomes the GBNF grammar that constrains sampling.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pollama.api.options import from_map
from pollama.api.pipeline.request import GenerationRequest
from pollama.api.schemas.generate import Format
from pollama.durations import parse_keep_alive
from pollama.engine.types import LoadSpec, SamplingOptions
from pollama.errors import InvalidRequest
from pollama.store import Model


@dataclass(frozen=True)
class Plan:
    spec: LoadSpec
    sampling: SamplingOptions
    grammar: str | None
    keep_alive: float | None
    json_keys: tuple[str, ...] = ()

    @property
    def num_ctx(self) -> int:
        return self.spec.options.num_ctx


def grammar_for(fmt: Format) -> str | None:
    """The GBNF grammar enforcing `format`: "json" → any JSON object; an object → its schema."""
    if fmt is None or fmt == "":
        return None
    from llama_cpp.llama_grammar import JSON_GBNF, json_schema_to_gbnf  # loads libllama

    if fmt == "json":
        return str(JSON_GBNF)
    if isinstance(fmt, dict):
        try:
            return str(json_schema_to_gbnf(json.dumps(fmt)))
        except Exception as exc:  # the converter raises bare Exceptions on schemas it cannot do
            raise InvalidRequest(f"invalid JSON schema in format: {exc}") from None
    raise InvalidRequest(f'invalid format: "{fmt}"; expected "json" or a valid JSON Schema object')


def json_keys(fmt: Format) -> tuple[str, ...]:
    """The keys, in the order its grammar writes them, of a `format` schema that makes the
    answer one JSON object of strings, every key required and no other allowed; else ()."""
    if not isinstance(fmt, dict) or fmt.get("type") != "object":
        return ()
    properties, required = fmt.get("properties"), fmt.get("required")
    if not isinstance(properties, dict) or not properties or not isinstance(required, list):
        return ()
    if set(required) != set(properties) or fmt.get("additionalProperties") not in (None, False):
        return ()
    if not all(isinstance(p, dict) and p.get("type") == "string" for p in properties.values()):
        return ()
    return tuple(properties)  # llama.cpp's converter writes required keys in this order


def plan(model: Model, req: GenerationRequest) -> Plan:
    """The load spec, sampling and grammar for `req` on `model`."""
    grammar = grammar_for(req.format)
    if model.model_path is None:
        raise InvalidRequest(f"{model.name} has no model weights")
    runner_options, sampling = from_map(model.parameters, req.options)
    spec = LoadSpec(
        name=str(model.name),
        digest=model.digest,
        model_path=model.model_path,
        adapters=tuple(model.adapters),
        projectors=tuple(model.projectors),
        options=runner_options,
        draft_path=model.draft_path,
    )
    return Plan(spec, sampling, grammar, parse_keep_alive(req.keep_alive), json_keys(req.format))
