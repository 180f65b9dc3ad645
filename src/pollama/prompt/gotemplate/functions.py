"""Go's template builtins (`and`/`or` excepted: the executor short-circuits those itself).

Each raises `FuncError` with Go's wording; the executor reports it as `error calling NAME: ...`.
"""

from __future__ import annotations

import html as _html
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from pollama.prompt.gotemplate.fmt import sprint, sprintf, sprintln
from pollama.prompt.gotemplate.gotypes import is_true, type_name


class FuncError(Exception):
    """A template function failed; the message is Go's."""


def _kind(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return "other"


def eq(arg1: Any, *args: Any) -> bool:
    """True if arg1 equals any of the others; basic kinds must match, as in Go."""
    if not args:
        raise FuncError("missing argument for comparison")
    k1 = _kind(arg1)
    for arg in args:
        k2 = _kind(arg)
        if k1 != k2:
            if arg1 is not None and arg is not None:
                raise FuncError("incompatible types for comparison")
            continue
        if k1 == "other":
            if isinstance(arg1, (list, dict)) or isinstance(arg, (list, dict)):
                raise FuncError(f"non-comparable type {type_name(arg1)}")
            if arg1 is arg:
                return True
        elif arg1 == arg:
            return True
    return False


def ne(arg1: Any, arg2: Any) -> bool:
    return not eq(arg1, arg2)


def _ordered(arg1: Any, arg2: Any) -> tuple[Any, Any]:
    k1, k2 = _kind(arg1), _kind(arg2)
    if k1 in ("nil", "bool", "other") or k2 in ("nil", "bool", "other"):
        raise FuncError("invalid type for comparison")
    if k1 != k2:
        raise FuncError("incompatible types for comparison")
    return arg1, arg2


def lt(arg1: Any, arg2: Any) -> bool:
    a, b = _ordered(arg1, arg2)
    return bool(a < b)


def le(arg1: Any, arg2: Any) -> bool:
    a, b = _ordered(arg1, arg2)
    return bool(a <= b)


def gt(arg1: Any, arg2: Any) -> bool:
    return not le(arg1, arg2)


def ge(arg1: Any, arg2: Any) -> bool:
    return not lt(arg1, arg2)


def length(item: Any) -> int:
    """`len`: strings count bytes, as Go's do."""
    if isinstance(item, str):
        return len(item.encode())
    if isinstance(item, (list, tuple, Mapping, bytes)):
        return len(item)
    if item is None:
        raise FuncError("len of nil pointer")
    raise FuncError(f"len of type {type_name(item)}")


def _int_index(index: Any, cap: int) -> int:
    if isinstance(index, bool) or not isinstance(index, int):
        raise FuncError(f"cannot index slice/array with type {type_name(index)}")
    if index < 0 or index > cap:
        raise FuncError(f"index out of range: {index}")
    return index


def index(item: Any, *indexes: Any) -> Any:
    """`index x 1 2`: x[1][2]; a missing map key gives the zero value (nil)."""
    for idx in indexes:
        if isinstance(item, Mapping):
            item = item.get(idx)
        elif isinstance(item, str):
            data = item.encode()
            item = data[_int_index(idx, len(data) - 1)]
        elif isinstance(item, (list, tuple)):
            item = item[_int_index(idx, len(item) - 1)]
        elif item is None:
            raise FuncError("index of untyped nil")
        else:
            raise FuncError(f"can't index item of type {type_name(item)}")
    return item


def slice_(item: Any, *indexes: Any) -> Any:
    """`slice x 1 2`: x[1:2]; strings are sliced by bytes."""
    if len(indexes) > 3:
        raise FuncError(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise FuncError("cannot 3-index slice a string")
        data = item.encode()
        bounds = _bounds(indexes, len(data))
        return data[bounds[0] : bounds[1]].decode("utf-8", "replace")
    if isinstance(item, (list, tuple)):
        bounds = _bounds(indexes, len(item))
        return item[bounds[0] : bounds[1]]
    if item is None:
        raise FuncError("slice of untyped nil")
    raise FuncError(f"can't slice item of type {type_name(item)}")


def _bounds(indexes: tuple[Any, ...], cap: int) -> list[int]:
    bounds = [0, cap]
    for i, idx in enumerate(indexes[:2]):
        bounds[i] = _int_index(idx, cap)
    if bounds[0] > bounds[1]:
        raise FuncError(f"invalid slice index: {bounds[0]} > {bounds[1]}")
    return bounds


def not_(arg: Any) -> bool:
    return not is_true(arg)


def _eval_args(args: tuple[Any, ...]) -> str:
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(*args)


def html_escape(*args: Any) -> str:
    text = _eval_args(args).replace("\0", "\ufffd")
    return _html.escape(text, quote=False).replace('"', "&#34;").replace("'", "&#39;")


def js_escape(*args: Any) -> str:
    out = []
    special = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E"}
    special |= {"&": "\\u0026", "=": "\\u003D", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    for ch in _eval_args(args):
        if ch in special:
            out.append(special[ch])
        elif ord(ch) < 0x20 or not ch.isprintable():
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def urlquery(*args: Any) -> str:
    return urllib.parse.quote_plus(_eval_args(args), safe="")


def call(*_: Any) -> Any:
    raise FuncError("call is not supported: templates hold no function values")


BUILTINS: dict[str, Callable[..., Any]] = {
    "call": call,
    "eq": eq,
    "ge": ge,
    "gt": gt,
    "html": html_escape,
    "index": index,
    "js": js_escape,
    "le": le,
    "len": length,
    "lt": lt,
    "ne": ne,
    "not": not_,
    "print": sprint,
    "printf": sprintf,
    "println": sprintln,
    "slice": slice_,
    "urlquery": urlquery,
}

# Evaluated lazily by the executor; listed so the parser accepts them.
SHORT_CIRCUIT = frozenset({"and", "or"})
