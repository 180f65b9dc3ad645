"""Keep-alive durations as Ollama reads them (`api.Duration`, `envconfig.KeepAlive`).

A duration arrives as a JSON number of seconds (`300`, `-1`), a Go duration string (`"5m"`,
`"1h30m"`, `"300ms"`, `"-1m"`) or, as `OLLAMA_KEEP_ALIVE` allows, a string of whole seconds
(`"300"`). Any negative value means "keep loaded forever" and 0 means "unload as soon as the
request ends". The scheduler works in float seconds, so that is what comes out: a negative
value is normalised to `FOREVER` so callers need only test `< 0`.
"""

from __future__ import annotations

import math
import re

from pollama import config
from pollama.errors import InvalidRequest

FOREVER = -1.0

# Go's `time.ParseDuration` units, in seconds.
_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,  # U+00B5 micro sign
    "μs": 1e-6,  # U+03BC Greek mu
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_NUMBER = re.compile(r"[-+]?\d+")


def parse_go_duration(text: str) -> float:
    """Seconds in a Go duration string (`time.ParseDuration`): "1h30m", "-1.5s", "0".

    Raises `InvalidRequest` with Go's wording for anything Go would refuse.
    """
    rest = text
    sign = 1.0
    if rest and rest[0] in "+-":
        sign = -1.0 if rest[0] == "-" else 1.0
        rest = rest[1:]
    if rest == "0":
        return 0.0
    if not rest:
        raise InvalidRequest(f'time: invalid duration "{text}"')
    total = 0.0
    pos = 0
    while pos < len(rest):
        match = _PART.match(rest, pos)
        if match is None:
            if re.match(r"\d+\.?\d*$|\.\d+$", rest[pos:]):
                raise InvalidRequest(f'time: missing unit in duration "{text}"')
            raise InvalidRequest(f'time: invalid duration "{text}"')
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    return sign * total


def _normalise(seconds: float) -> float:
    if math.isnan(seconds):
        raise InvalidRequest("invalid keep_alive duration")
    return FOREVER if seconds < 0 else seconds


def parse_keep_alive(value: str | int | float | None) -> float | None:
    """`keep_alive` from a request in seconds: None stays None (use the default).

    Numbers are seconds; strings are Go durations or whole seconds; negatives become
    `FOREVER`. Raises `InvalidRequest` for anything else (a bool, "5 minutes", ...).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidRequest(f"Unsupported type: '{type(value).__name__}'")
    if isinstance(value, int | float):
        return _normalise(float(value))
    if not isinstance(value, str):
        raise InvalidRequest(f"Unsupported type: '{type(value).__name__}'")
    text = value.strip()
    if _NUMBER.fullmatch(text):
        return _normalise(float(text))
    return _normalise(parse_go_duration(text))


def default_keep_alive() -> float:
    """`OLLAMA_KEEP_ALIVE` in seconds (5 minutes when unset or unreadable, as Ollama falls back)."""
    try:
        parsed = parse_keep_alive(config.keep_alive())
    except InvalidRequest:
        parsed = None
    return 300.0 if parsed is None else parsed


def load_timeout() -> float | None:
    """`OLLAMA_LOAD_TIMEOUT` in seconds: 5 minutes when unset or unreadable, None (no limit)
    when zero or negative, as Ollama's `envconfig.LoadTimeout`."""
    text = config.load_timeout()
    try:
        seconds = float(text) if _NUMBER.fullmatch(text) else parse_go_duration(text)
    except InvalidRequest:
        seconds = 300.0
    return seconds if seconds > 0 else None
