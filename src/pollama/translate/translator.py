"""The client loop: batches sent to the server, answers checked, failures retried.

Each batch is asked once as a whole, greedy. Parts whose answer fails a check are asked
again together, then each alone, sampled with seeds (a greedy answer needs none, and an
unseeded request is cheaper to serve: its prompt shares decode batches and any cached
prefix). A part that never passes is left in its source language and named in the summary:
nothing is dropped in silence.
Batches run concurrently up to the server's slots for the model (`num_parallel` in
`/api/ps`; 1 when the server does not say, as Ollama's does not).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pollama.api.schemas.generate import ChatRequest, ChatResponse, GenerateRequest, Message
from pollama.api.schemas.ps import ProcessResponse
from pollama.client import AsyncClient, ClientError
from pollama.translate.batching import Batch, batches, system_prompt, user_prompt
from pollama.translate.checking import problem
from pollama.translate.glossary import Glossary
from pollama.translate.languages import language
from pollama.translate.state import ResumeState
from pollama.translate.units import Unit

log = logging.getLogger(__name__)

DEFAULT_MODEL = "qwen2.5-coder:0.5b"
# Called with (cues finished, cues to translate) as batches come back.
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class Settings:
    """How to translate. `parallel` None: as many batches at once as the server has slots."""

    model: str = DEFAULT_MODEL
    source: str = "en"
    target: str = "zh"
    parallel: int | None = None
    batch_size: int = 8
    context: int = 2
    glossary: Glossary = field(default_factory=Glossary)
    bilingual: bool = False
    seed: int = 42
    tries_alone: int = 3


@dataclass
class Summary:
    """What a run did. `untranslated` maps each part left in its source to the reason."""

    cues: int = 0
    passed_through: int = 0
    parts: int = 0
    resumed: int = 0
    batches: int = 0
    batches_retried: int = 0
    retries: int = 0
    requests: int = 0
    eval_tokens: int = 0
    parallel: int = 1
    seconds: float = 0.0
    untranslated: dict[str, str] = field(default_factory=dict)


async def server_parallel(client: AsyncClient, model: str) -> int:
    """How many requests the server serves at once for `model`, loading it first."""
    await client.request(
        "POST", "/api/generate", GenerateRequest(model=model).model_dump(exclude_none=True)
    )
    reply = ProcessResponse.model_validate(await client.request("GET", "/api/ps"))
    names = {model, f"{model}:latest"}
    for entry in reply.models:
        if entry.name in names or entry.model in names:
            return max(1, entry.num_parallel)
    return 1


class Translator:
    """Translates units through the server at `client`, saving each answer to `state`."""

    def __init__(
        self,
        client: AsyncClient,
        settings: Settings,
        state: ResumeState | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.state = state
        self.on_progress = on_progress
        self.summary = Summary()
        self.done: dict[str, str] = {}
        self._source = language(settings.source)
        self._target = language(settings.target)
        self._slots = asyncio.Semaphore(1)
        self._left: Counter[int] = Counter()
        self._cues = 0
        self._reasons: dict[str, str] = {}

    async def translate(self, units: Sequence[Unit]) -> dict[str, str]:
        """The translation of each unit that passed its checks, by key."""
        keys = {u.key for u in units}
        saved = self.state.done if self.state is not None else {}
        self.done = {k: v for k, v in saved.items() if k in keys}
        self.summary.parts, self.summary.resumed = len(units), len(self.done)
        todo = [u for u in units if u.key not in self.done]
        self._left = Counter(u.cue_id for u in todo)
        self._cues = len({u.cue_id for u in units})
        self._report()
        parallel = self.settings.parallel or await server_parallel(self.client, self.settings.model)
        self.summary.parallel = parallel
        self._slots = asyncio.Semaphore(parallel)
        work = batches(todo, self.settings.batch_size, self.settings.context)
        try:
            async with asyncio.TaskGroup() as group:
                for batch in work:
                    group.create_task(self._translate_batch(batch))
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None
        return self.done

    async def _translate_batch(self, batch: Batch) -> None:
        self.summary.batches += 1
        failed = await self._attempt(batch, 0)
        if failed:
            self.summary.batches_retried += 1
            failed = await self._attempt(batch.only(failed), 1)
        for single in batch.only(failed).alone():
            await self._translate_alone(single)

    async def _translate_alone(self, single: Batch) -> None:
        for attempt in range(2, 2 + self.settings.tries_alone):
            if not await self._attempt(single, attempt):
                return
        [unit] = single.units
        reason = self._reasons[unit.key]
        log.info("cue %d left untranslated: %s", unit.cue_id, reason)
        self.summary.untranslated[unit.key] = reason
        self._finished([unit])

    async def _attempt(self, batch: Batch, attempt: int) -> list[Unit]:
        """Ask for `batch`; keep and save the good answers; the units whose answer failed."""
        if attempt:
            self.summary.retries += 1
        answers = batch.answers(await self._ask(batch, attempt))
        good: dict[str, str] = {}
        failed = []
        for unit in batch.units:
            answer = answers.get(unit.key)
            reason = (
                "no answer"
                if answer is None
                else problem(unit, answer, self._source, self._target, self.settings.glossary)
            )
            if reason is None and answer is not None:
                good[unit.key] = answer
            else:
                self._reasons[unit.key] = reason or "no answer"
                failed.append(unit)
        if good:
            self.done.update(good)
            if self.state is not None:
                self.state.record(good)
            self._finished([u for u in batch.units if u.key in good])
        return failed

    async def _ask(self, batch: Batch, attempt: int) -> str:
        """The model's answer to `batch` ("" when the server failed the request)."""
        # Greedy first; a retry samples, or it would get the same answer again.
        options: dict[str, float | int] = {"temperature": 0.0, "num_predict": batch.max_tokens}
        if attempt:
            options |= {"temperature": 0.7, "seed": self.settings.seed + attempt}
        request = ChatRequest(
            model=self.settings.model,
            messages=[
                Message(
                    role="system",
                    content=system_prompt(
                        self._source, self._target, self.settings.glossary, batch
                    ),
                ),
                Message(
                    role="user",
                    content=user_prompt(self._target, self.settings.glossary, batch),
                ),
            ],
            format=batch.schema(self._target),
            stream=False,
            options=options,
        )
        async with self._slots:
            self.summary.requests += 1
            try:
                reply = await self.client.request(
                    "POST", "/api/chat", request.model_dump(exclude_none=True)
                )
            except ClientError as exc:
                if exc.status_code < 500:
                    raise
                log.warning("the server failed a batch (%s); trying again", exc.message)
                return ""
        response = ChatResponse.model_validate(reply)
        self.summary.eval_tokens += response.eval_count or 0
        return response.message.content

    def _finished(self, units: list[Unit]) -> None:
        for unit in units:
            self._left[unit.cue_id] -= 1
        self._report()

    def _report(self) -> None:
        if self.on_progress is not None:
            left = sum(1 for n in self._left.values() if n > 0)
            self.on_progress(self._cues - left, self._cues)
