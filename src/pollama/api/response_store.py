"""The conversations behind `previous_response_id`: a bounded store in the server's memory.

Each stored response keeps its whole conversation (every earlier turn, its input and its
output), so a follow-up names only the last response. The store holds the newest
`capacity` responses; older ones are evicted, and their ids remembered (a few times more of
them, ids only), so a client told "evicted" knows to resend its history rather than suspect
a typo. Nothing survives a restart.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from typing import Generic, TypeVar

from pollama.errors import InvalidRequest

T = TypeVar("T")

DEFAULT_CAPACITY = 512
_EVICTED_MEMORY = 8  # evicted ids remembered, per place in the store


class ResponseStore(Generic[T]):
    """Response id -> the conversation up to and including that response."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._items: collections.OrderedDict[str, tuple[T, ...]] = collections.OrderedDict()
        self._evicted: collections.OrderedDict[str, None] = collections.OrderedDict()

    def put(self, response_id: str, conversation: Sequence[T]) -> None:
        """Keep `conversation` under `response_id`, evicting the oldest beyond capacity."""
        self._items[response_id] = tuple(conversation)
        while len(self._items) > self.capacity:
            old, _ = self._items.popitem(last=False)
            self._evicted[old] = None
        while len(self._evicted) > self.capacity * _EVICTED_MEMORY:
            self._evicted.popitem(last=False)

    def get(self, response_id: str) -> tuple[T, ...]:
        """The conversation `response_id` ended; InvalidRequest saying why if there is none."""
        found = self._items.get(response_id)
        if found is not None:
            self._items.move_to_end(response_id)  # a conversation in use stays longest
            return found
        if response_id in self._evicted:
            raise InvalidRequest(
                f"previous response '{response_id}' was evicted: the server keeps only the "
                f"last {self.capacity} responses; send the conversation as input instead"
            )
        raise InvalidRequest(
            f"previous response '{response_id}' not found: it was never stored here (or "
            "the server restarted, or it was created with store: false)"
        )
