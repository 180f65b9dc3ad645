"""The engine's contract: what the API hands to a runner and what comes back.

These types cross the process boundary between the server and a runner process, so they are
plain dataclasses of JSON-friendly values. The API converts its wire types into them with
named functions (`pollama.api.options`), never by splatting a request model.

`RunnerOptions` are fixed when a model is loaded: a request whose `RunnerOptions` differ from
the loaded runner's (a larger `num_ctx`, say) makes the scheduler reload. `SamplingOptions`
change per request and never reload.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

DoneReason = Literal["stop", "length", "load", "unload"]
# The most tokens a step drafts, by prompt lookup or with a DRAFT model (Ollama's option;
# 0 turns drafting off).
DRAFT_NUM_PREDICT = 16


@dataclass(frozen=True)
class RunnerOptions:
    """Options that shape a loaded model; changing them needs a reload."""

    num_ctx: int = 4096
    num_batch: int = 512
    num_gpu: int = -1
    main_gpu: int = 0
    use_mmap: bool | None = None
    use_mlock: bool = False
    num_thread: int = 0
    numa: bool = False
    rope_frequency_base: float = 0.0
    rope_frequency_scale: float = 0.0
    num_parallel: int = 1
    embedding: bool = False
    flash_attention: str = "auto"  # "on", "off" or "auto" (llama.cpp decides)
    kv_cache_type: str = "f16"  # "f16", "q8_0" or "q4_0"


@dataclass(frozen=True)
class SamplingOptions:
    """Per-request generation settings, applied through llama.cpp's native sampler chain."""

    num_keep: int = 4
    seed: int = -1
    num_predict: int = -1
    top_k: int = 40
    top_p: float = 0.9
    min_p: float = 0.0
    typical_p: float = 1.0
    repeat_last_n: int = 64
    temperature: float = 0.8
    repeat_penalty: float = 1.0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    mirostat: int = 0
    mirostat_tau: float = 5.0
    mirostat_eta: float = 0.1
    penalize_newline: bool = True
    stop: tuple[str, ...] = ()
    draft_num_predict: int = DRAFT_NUM_PREDICT


# Weights, adapters, projectors and draft model: what a runner holds (`LoadSpec.files`).
ModelFiles = tuple[Path, tuple[Path, ...], tuple[Path, ...], Path | None]


@dataclass(frozen=True)
class LoadSpec:
    """What to load. The scheduler keeps a runner per set of files (weights, adapters,
    projectors); `name` and `digest` say which model asked for it first, for `/api/ps`."""

    name: str
    digest: str
    model_path: Path
    adapters: tuple[Path, ...] = ()
    projectors: tuple[Path, ...] = ()
    options: RunnerOptions = field(default_factory=RunnerOptions)
    draft_path: Path | None = None  # a Modelfile DRAFT: the small model that drafts tokens

    @property
    def files(self) -> ModelFiles:
        """What a runner holds, whichever model named it."""
        return (self.model_path, self.adapters, self.projectors, self.draft_path)


@dataclass(frozen=True)
class CompletionRequest:
    """One generation. `prompt` is rendered text (special tokens are parsed); `context` holds
    tokens from an earlier `/api/generate` reply that go before it.

    `num_ctx` is the context the request asked for (0: the runner's). A runner loaded with a
    larger one serves it without a reload, but truncates and shifts at the request's size.
    `shift: False` ends a reply that fills its context instead of shifting it.
    `json_keys`, when the grammar forces a JSON object of these string values (every key
    required, in this order), lets the runner draft the text between the values
    (`runner.jump_forward`).
    `replies`, for a chat, are where its earlier replies lie in `prompt` (UTF-8 byte ranges):
    a seeded chat reuses a reply as it was generated (`runner.chunks`).
    """

    prompt: str
    sampling: SamplingOptions = field(default_factory=SamplingOptions)
    context: tuple[int, ...] = ()
    grammar: str | None = None
    json_keys: tuple[str, ...] = ()
    add_bos: bool = True
    truncate: bool = True
    shift: bool = True
    num_ctx: int = 0
    logprobs: bool = False
    top_logprobs: int = 0
    replies: tuple[tuple[int, int], ...] | None = None


@dataclass(frozen=True)
class TokenLogprob:
    """A token's log-probability: its text, the value, and its bytes (a token may end
    half-way through a UTF-8 character, so `token` alone cannot always rebuild the text)."""

    token: str
    logprob: float
    bytes: tuple[int, ...]


@dataclass(frozen=True)
class Logprob(TokenLogprob):
    """A generated token's log-probability and the `top_logprobs` most likely tokens at its
    step, most likely first. The values are the model's distribution at the step that chose
    the token (log-softmax of the same logits the sampler drew from, before temperature,
    truncation and grammar)."""

    top_logprobs: tuple[TokenLogprob, ...] = ()


@dataclass
class CompletionChunk:
    """A piece of generated text; the last one has `done=True` and the metrics.

    Durations are nanoseconds, as Ollama reports them. `tokens` (final chunk only) is the
    whole sequence, prompt and reply, for generate's `context`. `truncated` counts prompt
    tokens dropped to fit `num_ctx`, so the API can report it rather than hide it; it and
    `prompt_tokens` (the prompt's length, cached or not) come with the first chunk and every
    one after. `stop_sequence` (final chunk) is the stop string that ended the reply;
    `draft_tokens` and `draft_accepted` count its speculative drafts.
    `logprobs` (when the request asked) are those of the tokens whose text this chunk
    completes: joined over a reply, their bytes are the reply's.
    """

    text: str = ""
    done: bool = False
    done_reason: DoneReason | None = None
    prompt_eval_count: int = 0
    prompt_eval_duration: int = 0
    eval_count: int = 0
    eval_duration: int = 0
    tokens: list[int] | None = None
    prompt_tokens: int = 0
    truncated: int = 0
    stop_sequence: str | None = None
    logprobs: list[Logprob] = field(default_factory=list)
    draft_tokens: int = 0  # sent for verification by speculative decoding (final chunk)
    draft_accepted: int = 0


@dataclass
class EmbedResult:
    """Embeddings of a batch of inputs, in input order, as the model pools them."""

    embeddings: list[list[float]]
    prompt_eval_count: int


@dataclass(frozen=True)
class ModelMetadata:
    """What a loaded runner knows of its model."""

    n_ctx_train: int
    n_embd: int
    n_params: int
    size: int
    chat_template: str | None
    has_encoder: bool = False
    pooling: str | None = None
    kv_cache_size: int = 0  # bytes of the KV cache buffers, all slots
    compute_size: int = 0  # bytes of llama.cpp's compute buffers


class Runner(Protocol):
    """A loaded model in its own process, as the scheduler and the API see it."""

    spec: LoadSpec
    metadata: ModelMetadata

    def completion(self, request: CompletionRequest) -> AsyncIterator[CompletionChunk]:
        """Stream a generation; closing the iterator early frees the slot."""
        ...

    async def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        """Tokens of `text`, parsing special tokens such as `<|im_start|>`."""
        ...

    async def detokenize(self, tokens: list[int]) -> str:
        """Text of `tokens`."""
        ...

    async def embed(self, inputs: list[str], *, truncate: bool = True) -> EmbedResult:
        """Embeddings for all inputs, decoded together."""
        ...

    async def close(self) -> None:
        """Stop the process and free its memory."""
        ...

    @property
    def alive(self) -> bool:
        """False once the process has exited."""
        ...
