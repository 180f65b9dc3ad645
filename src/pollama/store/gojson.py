"""JSON written byte for byte as Go's `encoding/json` writes it, so digests match Ollama's.

Compact separators, HTML characters escaped (`<` -> `\\u003c`), other non-ASCII raw, whole
floats without `.0`, exponents without a leading zero (`1e-7`). Dict key order is kept, so
callers pass struct-like dicts in field order and sort map keys themselves (`sort_keys`).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import numpy as np

_HTML = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


class Struct(dict[str, Any]):
    """A Go struct: its fields keep their declaration order even under `sort_keys`."""


def _string(text: str) -> str:
    out = json.dumps(text, ensure_ascii=False)
    for char, escape in _HTML.items():
        out = out.replace(char, escape)
    return out


def _number(value: float) -> str:
    """Go's `float64` encoding: shortest digits, positional for 1e-6 <= |x| < 1e21."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"json: unsupported value: {value}")
    shortest = repr(value)
    if value == 0 or 1e-6 <= abs(value) < 1e21:
        # Python switches to exponents below 1e-4 and at 1e16; Go only outside this range.
        text = format(Decimal(shortest), "f")
        return text.removesuffix(".0") if "." in text else text
    mantissa, _, exponent = shortest.partition("e")
    sign = "-" if exponent.startswith("-") else "+"
    return f"{mantissa.removesuffix('.0')}e{sign}{int(exponent.lstrip('+-'))}"


def float32(value: float) -> float:
    """`value` as Go's `float32(strconv.ParseFloat(s, 32))` holds it, read back as the float64
    that its shortest 32-bit spelling parses to (what a client sends for a float32 field)."""
    return float(str(np.float32(value)))


def encode(value: Any, *, sort_keys: bool = False) -> str:
    """`json.Marshal(value)`; maps sorted when `sort_keys` (Go sorts every map), `Struct`s not."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, dict):
        items = (
            sorted(value.items()) if sort_keys and not isinstance(value, Struct) else value.items()
        )
        body = ",".join(f"{_string(str(k))}:{encode(v, sort_keys=sort_keys)}" for k, v in items)
        return "{" + body + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(encode(v, sort_keys=sort_keys) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def encode_line(value: Any, *, sort_keys: bool = False) -> bytes:
    """`json.NewEncoder(w).Encode(value)`: the same bytes plus a trailing newline."""
    return (encode(value, sort_keys=sort_keys) + "\n").encode()
