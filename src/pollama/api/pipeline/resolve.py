"""Stage 1: the model a request names, and whether it can do what the request asks.

The checks run in Ollama's order, so a request with two faults gets Ollama's message; what
the model can do comes from `pollama.capabilities`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pollama.api.pipeline.request import ChatInput, GenerationRequest, TextInput
from pollama.api.pipeline.seams import Models
from pollama.capabilities import Capability, capabilities, require
from pollama.errors import InvalidRequest, ModelNotFound
from pollama.prompt.template import Think
from pollama.store import Model

log = logging.getLogger(__name__)

_THINK_LEVELS = ("high", "medium", "low", "max")


@dataclass(frozen=True)
class Resolved:
    """The model to run, and the `think` to render with: a bool, or a level (which means on,
    and reaches templates that take levels)."""

    model: Model
    think: Think


def resolve(models: Models, req: GenerationRequest) -> Resolved:
    """Look the model up and check it can serve `req` (reads the store: run it in a thread)."""
    verb = "chat" if isinstance(req.input, ChatInput) else "generate"
    if not req.model:
        if verb == "chat":
            raise InvalidRequest("model is required")
        raise ModelNotFound("model '' not found")
    model = models.get_model(req.model)
    caps = capabilities(model)
    require(model, caps, req.model, ["completion"], verb=verb)
    if isinstance(req.input, TextInput):
        _check_raw(req, req.input)
    require(model, caps, req.model, _needs(req), verb=verb)
    if req.top_logprobs is not None and not 0 <= req.top_logprobs <= 20:
        raise InvalidRequest("top_logprobs must be between 0 and 20")
    if req.input.image_count:
        require(model, caps, req.model, ["vision"], verb=verb)
        raise InvalidRequest("images are not supported by pollama yet")
    return Resolved(model, _think(req, model, caps))


def _check_raw(req: GenerationRequest, text: TextInput) -> None:
    if text.raw and (req.template or text.system or text.context):
        raise InvalidRequest("raw mode does not support template, system, or context")


def _needs(req: GenerationRequest) -> list[Capability]:
    """What the request's input asks of the model beyond completion."""
    if isinstance(req.input, TextInput):
        return ["insert"] if req.input.suffix else []
    return ["tools"] if req.input.offered_tools else []


def _think(req: GenerationRequest, model: Model, caps: list[str]) -> Think:
    """The request's `think`, checked against the model. Unset, a thinking model thinks (as
    in Ollama); a forced tool call leaves no room for thinking."""
    value = req.think
    if isinstance(value, str) and value not in _THINK_LEVELS:
        raise InvalidRequest(
            f'invalid think value: "{value}" '
            '(must be "high", "medium", "low", "max", true, or false)'
        )
    if value and "thinking" not in caps:
        if req.optional_think:
            return None
        require(model, caps, req.model, ["thinking"], verb="think")
    if value is None and "thinking" in caps:
        value = True
    if value and isinstance(req.input, ChatInput) and req.input.tool_choice.forces_call:
        log.info("%s: thinking turned off, a tool call is forced", req.model)
        return False
    return value
