"""`OLLAMA_MAX_DOWNLOAD_SPEED`: one byte budget shared by every download of the server."""

from __future__ import annotations

import asyncio
import time

# How far ahead of the rate a burst may run, so short waits don't turn into many tiny sleeps.
_BURST_S = 0.1


class Throttle:
    """A token bucket of `rate` bytes a second; `rate` 0 means no limit."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._clock = time.monotonic()

    async def take(self, n: int) -> None:
        """Wait until `n` more bytes fit within the rate."""
        if self.rate <= 0:
            return
        now = time.monotonic()
        self._clock = max(self._clock, now - _BURST_S) + n / self.rate
        if self._clock > now:
            await asyncio.sleep(self._clock - now)
