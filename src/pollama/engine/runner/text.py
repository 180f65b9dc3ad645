"""Turning sampled token bytes into text a client may see.

Two things must never reach a client: half of a multi-byte UTF-8 character (a token often ends
mid-character) and any part of a stop string (which may arrive split over several tokens).
`OutputFilter` buffers both and releases only text that is final.
"""

from __future__ import annotations


def _incomplete_tail(data: bytes) -> int:
    """How many trailing bytes of `data` start a UTF-8 character that is not finished yet."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # a lead byte (or ASCII): how long should its character be?
            need = 2 if byte >= 0xC0 else 1
            need = 3 if byte >= 0xE0 else need
            need = 4 if byte >= 0xF0 else need
            return back if need > back else 0
    return 0


def _stop_prefix_len(text: str, stops: tuple[str, ...]) -> int:
    """Length of the longest suffix of `text` that begins some stop string."""
    best = 0
    for stop in stops:
        for n in range(min(len(stop) - 1, len(text)), best, -1):
            if text.endswith(stop[:n]):
                best = n
                break
    return best


class OutputFilter:
    """Accumulates token bytes; `feed` returns the text that is safe to emit now."""

    __slots__ = ("_bytes", "_text", "dropped_bytes", "fed_bytes", "matched", "stops")

    def __init__(self, stops: tuple[str, ...] = ()) -> None:
        self._bytes = b""
        self._text = ""
        self.stops = tuple(s for s in stops if s)
        self.matched: str | None = None  # the stop string that ended the text
        self.dropped_bytes = 0  # of what was fed: the stop string and all after it, never sent
        self.fed_bytes = 0

    @property
    def stopped(self) -> bool:
        return self.matched is not None

    @property
    def released_bytes(self) -> int:
        """How many of the bytes fed are settled: sent as text, or (once stopped) never to be
        sent. Held-back text is counted by its UTF-8 size, which is its fed size unless it
        holds replaced invalid bytes, and a stop string's prefix is rarely those."""
        if self.stopped:
            return self.fed_bytes - self.dropped_bytes
        return self.fed_bytes - len(self._bytes) - len(self._text.encode())

    def feed(self, piece: bytes) -> str:
        """Add a token's bytes; sets `stopped` when a stop string appears (it is cut off)."""
        self.fed_bytes += len(piece)
        data = self._bytes + piece
        cut = len(data) - _incomplete_tail(data)
        self._bytes = data[cut:]
        if cut == 0:
            return ""
        text = self._text + data[:cut].decode("utf-8", errors="replace")
        if not self.stops:
            return text
        hits = [(i, s) for s in self.stops if (i := text.find(s)) >= 0]
        if hits:
            at, self.matched = min(hits, key=lambda hit: hit[0])
            self.dropped_bytes = len(text[at:].encode()) + len(self._bytes)
            self._text = ""
            return text[:at]
        hold = _stop_prefix_len(text, self.stops)
        self._text = text[len(text) - hold :] if hold else ""
        return text[: len(text) - hold] if hold else text

    def flush(self) -> str:
        """Whatever is held back once generation ends without a stop string."""
        text = self._text + self._bytes.decode("utf-8", errors="ignore")
        self._text, self._bytes = "", b""
        return text
