"""The one internal request: what every API family's wire request becomes.

The native routes build it from `GenerateRequest`/`ChatRequest`; OpenAI and Anthropic
translate into those native requests first (as Ollama's middleware does), so an error or a
default is decided once, whatever the family.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pollama.api.schemas.generate import Format, KeepAlive, Message, Think, Tool
from pollama.prompt import ToolChoice


@dataclass(frozen=True)
class TextInput:
    """`/api/generate`'s input: a prompt, rendered with the system prompt and the Modelfile
    MESSAGEs unless `raw`; `suffix` asks for fill-in-the-middle, `context` (tokens of an
    earlier reply) continues a conversation."""

    prompt: str
    suffix: str | None = None
    system: str | None = None
    context: tuple[int, ...] = ()
    raw: bool = False
    images: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """Nothing to generate from: the request only loads (or unloads) the model."""
        return not self.prompt and not self.suffix

    @property
    def image_count(self) -> int:
        return len(self.images)


@dataclass(frozen=True)
class ChatInput:
    """`/api/chat`'s input: the conversation so far, the tools the model may call,
    whether it may, must or must not call one (`tool_choice`), and whether it may make
    more than one call in a reply (`parallel_tool_calls`)."""

    messages: tuple[Message, ...]
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolChoice = field(default_factory=ToolChoice)
    parallel_tool_calls: bool = True

    @property
    def offered_tools(self) -> tuple[Tool, ...]:
        """The tools that go into the prompt: none when `tool_choice` is "none"."""
        return self.tools if self.tool_choice.offers_tools else ()

    @property
    def empty(self) -> bool:
        return not self.messages

    @property
    def image_count(self) -> int:
        return sum(len(m.images or ()) for m in self.messages)


@dataclass(frozen=True)
class GenerationRequest:
    """One generation, whatever API family asked for it.

    `options` is the request's layer of Ollama's options, over the Modelfile's PARAMETERs;
    `keep_alive` and `format` are as sent, checked where they are used. `optional_think`
    drops `think` on a model that cannot think instead of refusing the request (Anthropic,
    as Ollama does).
    """

    model: str
    input: TextInput | ChatInput
    template: str | None = None
    options: Mapping[str, Any] | None = None
    format: Format = None
    keep_alive: KeepAlive = None
    think: Think = None
    optional_think: bool = False
    truncate: bool = True
    shift: bool = True
    logprobs: bool = False
    top_logprobs: int | None = None
