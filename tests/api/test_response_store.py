"""The bounded store behind previous_response_id: newest kept, the evicted told apart."""

from __future__ import annotations

import pytest

from pollama.api.response_store import ResponseStore
from pollama.errors import InvalidRequest


def test_keeps_the_newest_and_says_which_were_evicted() -> None:
    store: ResponseStore[str] = ResponseStore(capacity=2)
    store.put("resp_a", ["hi", "hello"])
    store.put("resp_b", ["x"])
    assert store.get("resp_a") == ("hi", "hello")  # used: now the newest
    store.put("resp_c", ["y"])
    assert store.get("resp_a") == ("hi", "hello")
    with pytest.raises(InvalidRequest, match=r"'resp_b' was evicted: .* last 2 responses"):
        store.get("resp_b")
    with pytest.raises(InvalidRequest, match="'resp_zzz' not found"):
        store.get("resp_zzz")


def test_remembers_a_bounded_number_of_evicted_ids() -> None:
    store: ResponseStore[int] = ResponseStore(capacity=1)
    for i in range(100):
        store.put(f"resp_{i}", [i])
    with pytest.raises(InvalidRequest, match="was evicted"):
        store.get("resp_98")
    with pytest.raises(InvalidRequest, match="not found"):
        store.get("resp_0")  # forgotten altogether: only 8 x capacity ids are remembered
