"""`OLLAMA_MAX_DOWNLOAD_SPEED`: one byte budget shared by every download of the server."""

from __future__ import annotations

import threading
import time

# How far ahead of the rate a burst may run, so short waits don't turn into many tiny sleeps.
_BURST_S = 0.1


class Throttle:
    """A token bucket of `rate` bytes a second; `rate` 0 means no limit.

    Downloads receive in worker threads, so `take` blocks the calling thread, and the clock
    is shared between them under a lock.
    """

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._clock = time.monotonic()
        self._lock = threading.Lock()

    def take(self, n: int, stop: threading.Event) -> None:
        """Wait until `n` more bytes fit within the rate, or `stop` is set."""
        if self.rate <= 0:
            return
        with self._lock:
            now = time.monotonic()
            self._clock = max(self._clock, now - _BURST_S) + n / self.rate
            wait = self._clock - now
        if wait > 0:
            stop.wait(wait)
