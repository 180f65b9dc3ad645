"""The pipeline's output: a typed stream of events every API family encodes its own way.

A stream is `Started`, then any number of `Piece`s, then one `Result`:

* `Started` comes once the runner has taken the prompt (or at once, for a request that only
  loads the model), before any text, so a route can put what it says in response headers;
* a `Piece` is text, thinking and whole tool calls parsed from the model's output, in
  order; the piece made from the runner's last chunk is `final`, and the `Result` follows it
  at once;
* `Result` is how the reply ended and what it cost.

What a reply reports beside its text (truncation, metrics, the stop string) is here as data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from pollama.engine.types import DoneReason, Logprob


@dataclass(frozen=True)
class Truncation:
    """What was cut to fit `num_ctx`: the oldest chat messages, then prompt tokens."""

    dropped_messages: int = 0
    dropped_tokens: int = 0


@dataclass(frozen=True)
class Started:
    """The prompt is in: its whole length in tokens (cached or not), what was cut, and how
    long the request waited in the scheduler's queue for a runner (seconds)."""

    prompt_tokens: int = 0
    truncation: Truncation = field(default_factory=Truncation)
    queue_wait: float = 0.0


@dataclass(frozen=True)
class ToolCall:
    """A call the model made: `id` is `call_` and 8 `[a-z0-9]`, `index` counts the reply's
    calls from 0."""

    id: str
    index: int
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Piece:
    """A piece of the reply; any of its parts may be empty. `logprobs` (when asked) are the
    runner's for the tokens that came with it, thinking and tool-call text included."""

    text: str = ""
    thinking: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    final: bool = False
    logprobs: tuple[Logprob, ...] = ()


@dataclass(frozen=True)
class Metrics:
    """Ollama's timings (nanoseconds) and counts. `prompt_eval_count` counts the prompt
    tokens evaluated; `prompt_tokens` is the whole prompt, the part taken from the cache
    included, which is what OpenAI's and Anthropic's usage report."""

    total_duration: int = 0
    load_duration: int = 0
    prompt_eval_count: int = 0
    prompt_eval_duration: int = 0
    eval_count: int = 0
    eval_duration: int = 0
    prompt_tokens: int = 0


@dataclass(frozen=True)
class Result:
    """How the reply ended: "stop", "length", "load" or "unload"; the stop string that
    ended it, if one did; `context` (generate, not raw) is prompt and reply as tokens."""

    done_reason: DoneReason = "stop"
    metrics: Metrics = field(default_factory=Metrics)
    truncation: Truncation = field(default_factory=Truncation)
    stop_sequence: str | None = None
    context: tuple[int, ...] | None = None


Event = Started | Piece | Result


@dataclass
class Reply:
    """A whole reply gathered from its events (for `stream: false`)."""

    started: Started = field(default_factory=Started)
    text: str = ""
    thinking: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    logprobs: list[Logprob] = field(default_factory=list)
    # Those of the pieces that carry text (the Responses API puts them on its text part).
    text_logprobs: list[Logprob] = field(default_factory=list)
    result: Result = field(default_factory=Result)

    def add(self, event: Event) -> None:
        if isinstance(event, Started):
            self.started = event
        elif isinstance(event, Piece):
            self.text += event.text
            self.thinking += event.thinking
            self.tool_calls.extend(event.tool_calls)
            self.logprobs.extend(event.logprobs)
            if event.text:
                self.text_logprobs.extend(event.logprobs)
        else:
            self.result = event


async def collect(events: AsyncIterator[Event], started: Started | None = None) -> Reply:
    """Gather `events` into one `Reply`; `started` if the caller has read it already."""
    reply = Reply(started=started or Started())
    async for event in events:
        reply.add(event)
    return reply
