"""The parts of Go's `fmt` that templates reach: `print`, `println` and `printf`'s common verbs."""

from __future__ import annotations

import re
from typing import Any

from pollama.prompt.gotemplate.gotypes import format_float_v, sprint_value, type_name

_VERB = re.compile(r"%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])")


def sprint(*args: Any) -> str:
    """`fmt.Sprint`: a space between operands when neither is a string."""
    out: list[str] = []
    for i, arg in enumerate(args):
        if i > 0 and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(sprint_value(arg))
    return "".join(out)


def sprintln(*args: Any) -> str:
    return " ".join(sprint_value(a) for a in args) + "\n"


def go_quote(text: str) -> str:
    """`strconv.Quote`: double-quoted with Go escapes, printable Unicode kept."""
    escapes = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    escapes |= {"\v": "\\v", "\\": "\\\\", '"': '\\"'}
    out = []
    for ch in text:
        if ch in escapes:
            out.append(escapes[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def _bad(verb: str, arg: Any) -> str:
    return f"%!{verb}({type_name(arg)}={sprint_value(arg)})"


def _format_one(verb: str, flags: str, prec: str | None, arg: Any) -> str:
    is_int = isinstance(arg, int) and not isinstance(arg, bool)
    if verb == "v":
        return sprint_value(arg)
    if verb == "s":
        return _bad(verb, arg) if is_int or isinstance(arg, (bool, float)) else sprint_value(arg)
    if verb == "q":
        if is_int:
            return "'" + go_quote(chr(arg))[1:-1].replace("'", "\\'") + "'"
        return go_quote(arg) if isinstance(arg, str) else _bad(verb, arg)
    if verb == "d":
        return str(arg) if is_int else _bad(verb, arg)
    if verb == "t":
        return sprint_value(arg) if isinstance(arg, bool) else _bad(verb, arg)
    if verb == "c":
        return chr(arg) if is_int else _bad(verb, arg)
    if verb in "xX":
        if is_int:
            text = format(arg, "x")
        elif isinstance(arg, str):
            text = arg.encode().hex()
        else:
            return _bad(verb, arg)
        return text.upper() if verb == "X" else text
    if verb in "feEgG":
        if not isinstance(arg, float):
            return _bad(verb, arg)
        if verb in "gG" and prec is None:
            text = format_float_v(arg)
            return text.upper() if verb == "G" else text
        return format(arg, f"{'+' if '+' in flags else ''}.{prec or 6}{verb}")
    return f"%!{verb}({type_name(arg)}={sprint_value(arg)})"


def _pad(text: str, flags: str, width: str | None) -> str:
    if not width:
        return text
    size = int(width)
    if "-" in flags:
        return text.ljust(size)
    if "0" in flags and text[:1] in "-+0123456789":
        sign = text[0] if text[0] in "+-" else ""
        return sign + text[len(sign) :].rjust(size - len(sign), "0")
    return text.rjust(size)


def sprintf(fmt: str, *args: Any) -> str:
    """`fmt.Sprintf` for the verbs v s q d t c x X f e g, with flags, width and precision."""
    out: list[str] = []
    pos = 0
    used = 0
    for m in _VERB.finditer(fmt):
        out.append(fmt[pos : m.start()])
        pos = m.end()
        flags, width, prec, verb = m.groups()
        if verb == "%":
            out.append("%")
            continue
        if used >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        out.append(_pad(_format_one(verb, flags, prec, args[used]), flags, width))
        used += 1
    out.append(fmt[pos:])
    if used < len(args):
        extra = ", ".join(f"{type_name(a)}={sprint_value(a)}" for a in args[used:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)
