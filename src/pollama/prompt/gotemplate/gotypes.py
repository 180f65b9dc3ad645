"""How Python values stand in for Go values: truth, printing (`fmt`'s `%v`) and `json.Marshal`.

Templates see plain Python data: `str`, `int`, `float`, `bool`, `None`, lists and dicts (Go maps,
printed and marshalled with sorted keys), plus `Struct` for Go structs, whose fields keep their
declared order and which may print as JSON the way Ollama's types do through `String()`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any


class Struct:
    """A Go struct value: named fields in order, an optional JSON shape and `String()`.

    `json_value` returns what `json.Marshal` would encode (struct tags and omitempty applied);
    `stringer` marks types whose `String()` method prints that JSON.
    """

    __slots__ = ("fields", "json_value", "stringer", "type_name")

    def __init__(
        self,
        type_name: str,
        fields: dict[str, Any],
        *,
        json_value: Callable[[], Any] | None = None,
        stringer: bool = False,
    ) -> None:
        self.type_name = type_name
        self.fields = fields
        self.json_value = json_value or (lambda: dict(fields))
        self.stringer = stringer

    def __repr__(self) -> str:
        return f"Struct({self.type_name}, {self.fields!r})"


class JsonMap(dict[str, Any]):
    """A Go map type whose `String()` marshals it (Ollama's tool-call arguments, properties)."""


class JsonList(list[Any]):
    """A Go slice type whose `String()` marshals it (Ollama's `.Tools`)."""


def type_name(value: Any) -> str:
    """The Go type a value stands for, for error messages."""
    if value is None:
        return "<nil>"
    if isinstance(value, Struct):
        return value.type_name
    names = {bool: "bool", int: "int", float: "float64", str: "string"}
    for py, go in names.items():
        if isinstance(value, py):
            return go
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    if isinstance(value, Sequence):
        return "[]interface {}"
    return type(value).__name__


def is_true(value: Any) -> bool:
    """Go's truth for `if`, `with`, `and`, `or`, `not`: empty and zero values are false;
    structs are always true."""
    if value is None:
        return False
    if isinstance(value, Struct):
        return True
    if isinstance(value, (str, bytes, Sequence, Mapping)):
        return len(value) > 0
    return bool(value)


# --- printing ----------------------------------------------------------------------------


def format_float_v(value: float) -> str:
    """`%v` of a float64: `%g` with the shortest digits, so exponent form from 1e+06 on."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    sign, digits, exp = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exp, int)
    text = "".join(map(str, digits))
    x = len(digits) + exp - 1
    prefix = "-" if sign else ""
    if x < -4 or x >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if x < 0 else '+'}{abs(x):02d}"
    return prefix + _positional(text, x)


def _positional(digits: str, x: int) -> str:
    """Digits with the decimal point after position x (the decimal exponent)."""
    if x < 0:
        return "0." + "0" * (-x - 1) + digits
    if x + 1 >= len(digits):
        return digits + "0" * (x + 1 - len(digits))
    return digits[: x + 1] + "." + digits[x + 1 :]


def sprint_value(value: Any) -> str:
    """`fmt.Sprint` of one value, the way an action prints it."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_float_v(value)
    if isinstance(value, (int, str)):
        return str(value)
    if isinstance(value, (JsonMap, JsonList)) or (isinstance(value, Struct) and value.stringer):
        return marshal(value)
    if isinstance(value, Struct):
        return "{" + " ".join(sprint_value(v) for v in value.fields.values()) + "}"
    if isinstance(value, Mapping):
        items = (f"{sprint_value(k)}:{sprint_value(value[k])}" for k in sorted(value))
        return "map[" + " ".join(items) + "]"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(sprint_value(v) for v in value) + "]"
    return str(value)


# --- json.Marshal ------------------------------------------------------------------------


def _json_ready(value: Any) -> Any:
    """Struct fields in declared order, map keys sorted, floats in Go's form."""
    if isinstance(value, Struct):
        return _json_ready(value.json_value())
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)  # Go writes float64 1 as `1`
    if isinstance(value, JsonMap) or (
        isinstance(value, Mapping) and not isinstance(value, _Ordered)
    ):
        return {str(k): _json_ready(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, _Ordered):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    return str(value)


class _Ordered(dict[str, Any]):
    """A dict whose keys keep their order when marshalled: a struct's JSON object."""


def ordered(**fields: Any) -> dict[str, Any]:
    """A JSON object for `Struct.json_value` (keys keep the struct's order)."""
    return _Ordered(fields)


def ordered_items(items: list[tuple[str, Any]]) -> dict[str, Any]:
    """Like `ordered`, for keys that are not Python identifiers (`$defs`)."""
    return _Ordered(items)


def marshal(value: Any) -> str:
    """`json.Marshal`: compact, map keys sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped."""
    text = json.dumps(_json_ready(value), ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text
