"""keep_alive durations as Ollama's `api.Duration` and `OLLAMA_KEEP_ALIVE` read them."""

from __future__ import annotations

import pytest

from pollama.durations import FOREVER, default_keep_alive, parse_keep_alive
from pollama.errors import InvalidRequest


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("5m", 300.0),
        ("1h30m", 5400.0),
        ("300ms", 0.3),
        ("1.5s", 1.5),
        ("2h45m30.5s", 9930.5),
        ("10us", 1e-5),
        ("10µs", 1e-5),
        ("100ns", 1e-7),
        (".5m", 30.0),
        ("+5m", 300.0),
        ("0", 0.0),
        ("0s", 0.0),
        (0, 0.0),
        (300, 300.0),
        (2.5, 2.5),
        ("300", 300.0),  # whole seconds, as OLLAMA_KEEP_ALIVE accepts
        (" 5m ", 300.0),
        (-1, FOREVER),
        (-0.5, FOREVER),
        ("-1", FOREVER),
        ("-1m", FOREVER),
        ("-5h", FOREVER),
    ],
)
def test_parse_keep_alive(value: str | float | None, seconds: float | None) -> None:
    assert parse_keep_alive(value) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5 minutes", "invalid duration"),
        ("1.5", "missing unit"),
        ("m", "invalid duration"),
        ("", "invalid duration"),
        ("-", "invalid duration"),
        ("5d", "invalid duration"),
        ("1h-5m", "invalid duration"),
        (True, "Unsupported type"),
        ([5], "Unsupported type"),
    ],
)
def test_invalid_keep_alive_is_an_invalid_request(value: object, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        parse_keep_alive(value)  # type: ignore[arg-type]


def test_default_comes_from_ollama_keep_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_KEEP_ALIVE", raising=False)
    assert default_keep_alive() == 300.0
    monkeypatch.setenv("OLLAMA_KEEP_ALIVE", "1h")
    assert default_keep_alive() == 3600.0
    monkeypatch.setenv("OLLAMA_KEEP_ALIVE", "-1")
    assert default_keep_alive() == FOREVER
    monkeypatch.setenv("OLLAMA_KEEP_ALIVE", "0")
    assert default_keep_alive() == 0.0
    monkeypatch.setenv("OLLAMA_KEEP_ALIVE", "soon")
    assert default_keep_alive() == 300.0
