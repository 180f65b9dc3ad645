"""The Modelfile language: text <-> commands, with Ollama's grammar and error messages.

    file      := (comment | command)*
    comment   := "#" ... end of line           (only where a command may start)
    command   := NAME WS value                  NAME is case-insensitive:
                 from license template system adapter draft renderer parser
                 parameter message requires
    parameter := "PARAMETER" WS [A-Za-z0-9_]+ WS value
    message   := "MESSAGE" WS (system|user|assistant) WS value
    value     := the rest of the line, or a `"..."` / `\"\"\"...\"\"\"` block over several lines

Pure: no file I/O, no digests (that is `pollama.create`). Line numbers count every `\\r` and
`\\n`, as Ollama's do.
"""

from __future__ import annotations

import logging
import re
import string
from dataclasses import dataclass, field
from typing import Any

from pollama.errors import InvalidRequest
from pollama.store import gojson

log = logging.getLogger(__name__)

COMMANDS = (
    "from",
    "license",
    "template",
    "system",
    "adapter",
    "draft",
    "renderer",
    "parser",
    "parameter",
    "message",
    "requires",
)
_ROLES = ("system", "user", "assistant")
# Go's `isAlpha`/`isNumber` are ASCII-only.
_ROLE_CHARS = frozenset(string.ascii_letters)
_PARAMETER_CHARS = frozenset(string.ascii_letters + string.digits + "_")

FLOAT_PARAMS = {
    "top_p",
    "min_p",
    "typical_p",
    "temperature",
    "repeat_penalty",
    "presence_penalty",
    "frequency_penalty",
    "mirostat_tau",
    "mirostat_eta",
    "tfs_z",
    "rope_frequency_base",
    "rope_frequency_scale",
}
INT_PARAMS = {
    "num_ctx",
    "num_batch",
    "num_gpu",
    "num_thread",
    "num_keep",
    "seed",
    "num_predict",
    "top_k",
    "repeat_last_n",
    "draft_num_predict",
    "num_parallel",
    "main_gpu",
    "mirostat",
}
BOOL_PARAMS = {"use_mmap", "penalize_newline", "use_mlock", "numa", "low_vram", "f16_kv"}
LIST_PARAMS = {"stop"}
# Ollama drops these with a warning; unlike Ollama, pollama honours mirostat* (README).
DEPRECATED_PARAMS = {"logits_all", "vocab_only", "low_vram", "f16_kv"}


# What Go's `strconv.ParseInt(s, 10, 64)` and `strconv.ParseBool` accept.
_GO_INT = re.compile(r"[+-]?[0-9]+")
# Decimal floats as `strconv.ParseFloat` reads them (no `_`, which Python's float() allows);
# infinities and NaN parse in Go but cannot be stored, so they are refused here.
_GO_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_FLOAT32_MAX = 3.4028234663852886e38
_INT64 = range(-(2**63), 2**63)
_GO_BOOLS = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}


class ModelfileError(InvalidRequest):
    """A Modelfile that does not parse; the message is Ollama's."""


@dataclass(frozen=True)
class Command:
    """One instruction: `name` is lower-case (`from` is stored as `model`), `args` its value."""

    name: str
    args: str

    def __str__(self) -> str:
        if self.name == "model":
            return f"FROM {self.args}"
        if self.name == "message":
            role, _, text = self.args.partition(": ")
            return f"MESSAGE {role} {quote(text)}"
        if self.name in COMMANDS or self.name in {"template", "system"}:
            return f"{self.name.upper()} {quote(self.args)}"
        return f"PARAMETER {self.name} {quote(self.args)}"


@dataclass
class Modelfile:
    """A parsed Modelfile; `str()` prints it back."""

    commands: list[Command] = field(default_factory=list)

    def __str__(self) -> str:
        return "".join(f"{command}\n" for command in self.commands)

    @property
    def parameters(self) -> dict[str, Any]:
        """PARAMETERs typed as Ollama's `FormatParams` types them (`stop` accumulates)."""
        return typed_parameters(
            [(c.name, c.args) for c in self.commands if c.name not in (*COMMANDS, "model")]
        )


def quote(text: str) -> str:
    """Quote a value only when it needs it (newline or edge spaces), as `Command.String` does."""
    if "\n" in text or text.startswith(" ") or text.endswith(" "):
        return f'"""{text}"""' if '"' in text else f'"{text}"'
    return text


def _unquote(text: str) -> tuple[str, bool]:
    """(value, balanced): strip one level of `\"\"\"` or `"` quotes."""
    if text.startswith('"""'):
        if len(text) >= 6 and text.endswith('"""'):
            return text[3:-3], True
        return text, False
    if text.startswith('"'):
        if len(text) >= 2 and text.endswith('"'):
            return text[1:-1], True
        return text, False
    return text, True


def _printable(char: str) -> bool:
    return char.isprintable() or char in " \t\n\r"


def parse(text: str) -> Modelfile:
    """Parse `text`; raise `ModelfileError` with Ollama's message on bad input."""
    text = text.removeprefix("\ufeff")
    commands: list[Command] = []
    line = 1
    pos, end = 0, len(text)
    while pos < end:
        char = text[pos]
        if char in "\r\n":
            line += 1
            pos += 1
            continue
        if char in " \t":
            pos += 1
            continue
        if char == "#":
            while pos < end and text[pos] not in "\r\n":
                pos += 1
            continue
        start = pos
        while pos < end and text[pos].isascii() and text[pos].isalpha():
            pos += 1
        name = text[start:pos].lower()
        if pos >= end:
            raise ModelfileError("unexpected EOF")
        if name not in COMMANDS or text[pos] not in " \t":
            line += text[pos] in "\r\n"  # Ollama counts the newline that ended the name
            raise ModelfileError(
                f"(line {line}): command must be one of "
                + ", ".join(f'"{c}"' for c in COMMANDS[:-1])
                + f', or "{COMMANDS[-1]}"'
            )
        pos += 1
        if name in ("parameter", "message"):
            start = pos
            allowed = _PARAMETER_CHARS if name == "parameter" else _ROLE_CHARS
            while pos < end and text[pos] in allowed:
                pos += 1
            word = text[start:pos]
            if pos >= end:
                raise ModelfileError("unexpected EOF")
            if text[pos] not in " \t" or not word:
                raise ModelfileError(f"unexpected EOF: {word}")
            pos += 1
            if name == "message" and word not in _ROLES:
                raise ModelfileError(
                    f'(line {line}): message role must be one of "system", "user", or "assistant"'
                )
        value, pos, line = _read_value(text, pos, line)
        if name == "parameter":
            commands.append(Command(word, value))
        elif name == "message":
            commands.append(Command("message", f"{word}: {value}"))
        else:
            commands.append(Command("model" if name == "from" else name, value))
    if not any(c.name == "model" for c in commands):
        raise ModelfileError("no FROM line")
    return Modelfile(commands)


def _read_value(text: str, pos: int, line: int) -> tuple[str, int, int]:
    """Read a value up to a newline at which its quotes balance."""
    buffer: list[str] = []
    end = len(text)
    while pos < end:
        char = text[pos]
        if char in "\r\n":
            value, balanced = _unquote("".join(buffer).strip())
            if balanced:
                return value, pos, line
            line += 1
        if _printable(char):
            buffer.append(char)
        pos += 1
    value, balanced = _unquote("".join(buffer).strip())
    if not balanced:
        raise ModelfileError("unexpected EOF")
    return value, pos, line


def typed_parameters(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """PARAMETER name/value strings -> typed options, as `api.FormatParams` types them.

    Floats go through float32 as Ollama's CLI sends them (`0.123456789` -> `0.12345679`), so
    the params blob, and its digest, match Ollama's. Unknown names are Ollama's 400.
    """
    out: dict[str, Any] = {}
    for name, raw in pairs:
        if name in DEPRECATED_PARAMS:
            log.warning("parameter %s is deprecated", name)
            continue
        if name in LIST_PARAMS:
            out.setdefault(name, []).append(raw)
        elif name in FLOAT_PARAMS:
            if not _GO_FLOAT.fullmatch(raw) or abs(float(raw)) > _FLOAT32_MAX:
                raise InvalidRequest(f"invalid float value [{raw}]")
            out[name] = gojson.float32(float(raw))
        elif name in INT_PARAMS:
            if not _GO_INT.fullmatch(raw) or int(raw) not in _INT64:
                raise InvalidRequest(f"invalid int value [{raw}]")
            out[name] = int(raw)
        elif name in BOOL_PARAMS:
            if raw not in _GO_BOOLS:
                raise InvalidRequest(f"invalid bool value [{raw}]")
            out[name] = _GO_BOOLS[raw]
        else:
            raise InvalidRequest(f"unknown parameter '{name}'")
    return out
