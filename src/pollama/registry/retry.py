"""Trying a registry transfer again after a transient failure, as Ollama does.

Ollama gives a download part, an upload part, its storage `PUT` and the upload's commit
`maxRetries` = 6 tries, waiting `2**try` seconds after a failed one. Here the wait is
`backoff_s * 2**(failures - 1)`, capped at `MAX_BACKOFF_S`, and only between tries (Ollama
also sleeps after the last). What is worth another try is `TransferFailed`: a connection
that failed or stalled, or a busy or failing registry (408, 429, 5xx); anything else (a 4xx,
a digest mismatch) fails at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pollama.registry.errors import TransferFailed

log = logging.getLogger(__name__)

T = TypeVar("T")

TRIES = 6  # Ollama's maxRetries: tries in all, the first included
MAX_BACKOFF_S = 30.0

_sleep = asyncio.sleep  # a name of this module's own, so a test can watch the waits


def backoff_delay(backoff_s: float, failures: int) -> float:
    """The wait after the `failures`-th failed try in a row: 1, 2, 4... times `backoff_s`."""
    return min(MAX_BACKOFF_S, backoff_s * 2 ** (failures - 1))


async def back_off(backoff_s: float, failures: int, what: str, exc: Exception) -> None:
    """Log why `what` is tried again, and wait `backoff_delay` first."""
    delay = backoff_delay(backoff_s, failures)
    log.info("%s: %s; again in %.1fs", what, exc, delay)
    await _sleep(delay)


async def with_retries(
    attempt: Callable[[], Awaitable[T]], *, tries: int, backoff_s: float, what: str
) -> T:
    """`await attempt()` until it succeeds, at most `tries` times, backing off between; the
    last failure is raised."""
    failures = 0
    while True:
        try:
            return await attempt()
        except TransferFailed as exc:
            failures += 1
            if failures >= tries:
                raise
            await back_off(backoff_s, failures, what, exc)
