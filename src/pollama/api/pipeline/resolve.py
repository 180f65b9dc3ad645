"""Stage 1: the model a request names, and whether it can do what the request asks.

The checks run in Ollama's order, so a request with two faults gets Ollama's message.
"""

from __future__ import annotations

from dataclasses import dataclass

from pollama.api.pipeline.request import ChatInput, GenerationRequest, TextInput
from pollama.api.pipeline.seams import Models
from pollama.errors import InvalidRequest, MissingCapability, ModelNotFound
from pollama.store import Model

_THINK_LEVELS = ("high", "medium", "low", "max")


@dataclass(frozen=True)
class Resolved:
    """The model to run, and the `think` to render with (levels mean on)."""

    model: Model
    think: bool | None


def resolve(models: Models, req: GenerationRequest) -> Resolved:
    """Look the model up and check it can serve `req` (reads the store: run it in a thread)."""
    verb = "chat" if isinstance(req.input, ChatInput) else "generate"
    if not req.model:
        if verb == "chat":
            raise InvalidRequest("model is required")
        raise ModelNotFound("model '' not found")
    model = models.get_model(req.model)
    caps = model.capabilities()
    if "completion" not in caps:
        raise MissingCapability(f'"{req.model}" does not support {verb}')
    if isinstance(req.input, TextInput):
        _check_text(req, req.input, model, caps)
    elif req.input.tools and "tools" not in caps:
        raise MissingCapability(f"{model.name} does not support tools")
    if req.top_logprobs is not None and not 0 <= req.top_logprobs <= 20:
        raise InvalidRequest("top_logprobs must be between 0 and 20")
    _check_images(req.input.image_count, caps, model)
    return Resolved(model, _think(req, caps))


def _check_text(req: GenerationRequest, text: TextInput, model: Model, caps: list[str]) -> None:
    if text.raw and (req.template or text.system or text.context):
        raise InvalidRequest("raw mode does not support template, system, or context")
    if text.suffix and "insert" not in caps:
        raise MissingCapability(f"{model.name} does not support insert")


def _check_images(count: int, caps: list[str], model: Model) -> None:
    """Images need a vision model; pollama's runner cannot feed them to one yet either."""
    if not count:
        return
    if "vision" not in caps:
        raise MissingCapability(f"{model.name} does not support vision")
    raise InvalidRequest("images are not supported by pollama yet")


def _think(req: GenerationRequest, caps: list[str]) -> bool | None:
    """The request's `think` as a bool, checked against the model."""
    value = req.think
    if isinstance(value, str):
        if value not in _THINK_LEVELS:
            raise InvalidRequest(
                f'invalid think value: "{value}" '
                '(must be "high", "medium", "low", "max", true, or false)'
            )
        value = True
    if value and "thinking" not in caps:
        if req.optional_think:
            return None
        raise MissingCapability(f'"{req.model}" does not support thinking')
    return value
