"""Go literal syntax inside actions: quoted strings, raw strings, characters and numbers."""

from __future__ import annotations

import re

from pollama.prompt.gotemplate.errors import TemplateError

_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    '"': '"',
    "'": "'",
}
_ESCAPE = re.compile(
    r"\\(?:([abfnrtv\\'\"])|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([0-7]{3}))"
)


def _unescape(body: str, line: int) -> str:
    def sub(m: re.Match[str]) -> str:
        simple, hex2, hex4, hex8, octal = m.groups()
        if simple:
            return _SIMPLE_ESCAPES[simple]
        if hex2 or octal:
            # \x and octal escapes are single bytes in Go; decode the run as UTF-8 below.
            return chr(0xDC00 + int(hex2 or octal, 16 if hex2 else 8))
        return chr(int(hex4 or hex8, 16))

    if re.search(r"\\(?![abfnrtv\\'\"xuU0-7])", body):
        raise TemplateError("invalid syntax", line)
    out = _ESCAPE.sub(sub, body)
    # Byte escapes were parked as lone surrogates; turn them back into UTF-8 bytes.
    return out.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def unquote(text: str, line: int) -> str:
    """The value of a Go string literal: `"..."` with escapes, or a raw `` `...` ``."""
    if text.startswith("`"):
        return text[1:-1].replace("\r", "")
    return _unescape(text[1:-1], line)


def parse_number(text: str, line: int) -> int | float:
    """A Go numeric constant (decimal, hex, octal, binary, float) or a character constant."""
    if text.startswith("'"):
        value = _unescape(text[1:-1], line)
        if len(value) != 1:
            raise TemplateError(f"malformed character constant: {text}", line)
        return ord(value)
    clean = text.replace("_", "")
    try:
        if re.fullmatch(r"[+-]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9][0-9]*|0)", clean):
            sign = -1 if clean.startswith("-") else 1
            digits = clean.lstrip("+-")
            if re.fullmatch(r"0[0-7]+", digits):
                digits = "0o" + digits[1:]
            return sign * int(digits, 0)
        return float(clean)
    except ValueError:
        raise TemplateError(f"bad number syntax: {text!r}", line) from None
