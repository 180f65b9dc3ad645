"""Stage 6: what a reply cost, accounted from the runner's final chunk and the clock.

`load_duration` is the wait for a runner (queue and load); `total_duration` runs from the
request's arrival to its last token.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from pollama.api.pipeline.events import Metrics, Truncation
from pollama.engine.types import CompletionChunk

log = logging.getLogger(__name__)


@dataclass
class Clock:
    """When a request arrived and when it got its runner, in monotonic nanoseconds."""

    start_ns: int = field(default_factory=time.monotonic_ns)
    load_ns: int = 0

    def loaded(self) -> None:
        self.load_ns = time.monotonic_ns() - self.start_ns


def account(final: CompletionChunk, clock: Clock, first_prompt_tokens: int) -> Metrics:
    """The reply's metrics; the whole prompt's length as the last chunk that knew it says."""
    return Metrics(
        total_duration=time.monotonic_ns() - clock.start_ns,
        load_duration=clock.load_ns,
        prompt_eval_count=final.prompt_eval_count,
        prompt_eval_duration=final.prompt_eval_duration,
        eval_count=final.eval_count,
        eval_duration=final.eval_duration,
        prompt_tokens=final.prompt_tokens or final.prompt_eval_count or first_prompt_tokens,
    )


def log_truncation(name: str, truncation: Truncation, num_ctx: int) -> None:
    """Never silent: a prompt the runner had to cut is logged (and reported by the routes)."""
    if truncation.dropped_tokens:
        log.warning(
            "%s: prompt truncated, %d tokens dropped to fit num_ctx=%d",
            name,
            truncation.dropped_tokens,
            num_ctx,
        )
