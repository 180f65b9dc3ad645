"""Tool calls out of streamed model text: Ollama's `tools.Parser`.

The parser looks for the template's tool-call tag (`<tool_call>`, `[TOOL_CALLS]`, or `{` when
the template names none). Text before the tag streams through as content; a partial tag at the
end of a chunk is held back until the next chunk settles it. After the tag, the text is scanned
for complete JSON objects, each released as a call as soon as it closes.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any

from pollama.prompt.template import PromptTemplate

ToolCall = dict[str, Any]


def _held_suffix(buffer: str, tag: str) -> int:
    """The length of the longest suffix of `buffer` that starts `tag`."""
    for size in range(min(len(buffer), len(tag)), 0, -1):
        if buffer.endswith(tag[:size]):
            return size
    return 0


def _structure(text: str) -> Iterator[tuple[int, str]]:
    """(index, char) for each character of `text` outside JSON strings (and not a quote), so
    brackets inside string values are never counted."""
    in_string = escaped = False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            in_string = not in_string
        elif not in_string:
            yield i, ch


_FENCE = re.compile(r"\s*```(?:json)?[ \t]*\n\s*")
_FENCE_ARRIVING = re.compile(r"\s*`{1,3}|\s*```(?:j|js|jso|json)?[ \t]*")


def _bare_call_opening(buffer: str) -> tuple[bool, str] | None:
    """For a reply that may open with a tool call without its tag: whether it does, and the
    text before the call's `{` (whitespace, maybe a ```json fence line); None while too
    little has come to tell."""
    head = buffer.lstrip()
    if not head:
        return None
    if head.startswith("{"):
        return True, buffer[: len(buffer) - len(head)]
    fence = _FENCE.match(buffer)
    if fence is not None:
        rest = buffer[fence.end() :]
        if not rest:
            return None
        return (True, fence.group(0)) if rest.startswith("{") else (False, "")
    return None if _FENCE_ARRIVING.fullmatch(buffer) else (False, "")


def _json_objects(buffer: str) -> list[tuple[int, int, Any]]:
    """(start, end, value) for each complete top-level `{...}` in `buffer` that parses."""
    found: list[tuple[int, int, Any]] = []
    depth, start = 0, -1
    for i, ch in _structure(buffer):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                with contextlib.suppress(ValueError):  # not JSON after all: keep scanning
                    found.append((start, i + 1, json.loads(buffer[start : i + 1])))
    return found


def _as_arguments(value: Any) -> dict[str, Any] | None:
    """Arguments given as an object, or as a string holding one."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def _find_arguments(obj: dict[str, Any], name: str | None) -> tuple[dict[str, Any] | None, bool]:
    """Ollama's `findObject`: `{"name", "arguments"|"parameters"}`, `{name: {...}}`, or the
    same searched for in nested objects. The bool says whether a match was found."""
    if "name" in obj:
        for key in ("arguments", "parameters"):
            args = _as_arguments(obj.get(key))
            if args is not None:
                return args, True
        return None, True
    if name is not None:
        args = _as_arguments(obj.get(name))
        if args is not None:
            return args, True
    for child in obj.values():
        for item in child if isinstance(child, list) else [child]:
            if isinstance(item, dict):
                args, found = _find_arguments(item, name)
                if found:
                    return args, True
    return None, False


class ToolCallParser:
    """Splits streamed text into content and tool calls `{"function": {"name", "arguments"}}`.

    With `tools`, a call is recognised by a known tool name followed by its arguments, as
    Ollama does; without, by a JSON object carrying `name` and `arguments` (or `parameters`).

    Small models often forget their template's tag (qwen2.5-coder:0.5b answers a bare
    `{"name": ..., "arguments": ...}` where `<tool_call>` should come first, sometimes in a
    ```json fence). Unlike Ollama, a reply that opens with `{`, or with a fence and then `{`,
    is then read as if the tag were `{`: it is a call if it names a known tool, and content
    (fence and all) otherwise.
    """

    def __init__(self, tmpl: PromptTemplate | str, tools: list[dict[str, Any]] | None = None):
        self.tag = tmpl if isinstance(tmpl, str) else tmpl.tool_call_tag
        self.names = [(t.get("function") or {}).get("name") or "" for t in tools or []]
        self.names = [name for name in self.names if name]
        self.buffer = ""
        self.state = "looking"  # -> "calling" after the tag, "done" once it is plain text
        self.calls = 0
        # Until the reply's first visible text: whether a bare `{` may stand for the tag.
        self.untagged_json_possible = bool(self.names) and self.tag not in ("{", "[")
        self.fence = ""  # a ```json line held back before a bare call: content if no call

    def feed(self, text: str) -> tuple[str, list[ToolCall]]:
        """Content safe to show now, and the calls completed by `text`."""
        if self.state == "done":
            return text, []
        self.buffer += text
        content = ""
        if self.untagged_json_possible:
            bare = _bare_call_opening(self.buffer)
            if bare is None:
                return "", []
            self.untagged_json_possible = False
            is_call, opening = bare
            if is_call:
                self.tag = "{"
            if "`" in opening:
                self.fence, self.buffer = opening, self.buffer[len(opening) :]
        if self.state == "looking":
            index = self.buffer.find(self.tag)
            cut = index if index >= 0 else len(self.buffer) - _held_suffix(self.buffer, self.tag)
            content, self.buffer = self.buffer[:cut], self.buffer[cut:]
            if self.tag in ("{", "[") and content.strip():
                # JSON-tagged models only call tools when the reply starts with the JSON.
                self.state = "done"
                content, self.buffer = content + self.buffer, ""
                return content, []
            if index < 0:
                return content, []
            self.state = "calling"
        calls = self._parse_calls()
        if self._json_closed():
            self.state = "done"
            content, self.buffer = self._unfenced() + content + self.buffer, ""
        return content, calls

    def flush(self) -> tuple[str, list[ToolCall]]:
        """At the end of the stream: held-back text that never became a call."""
        rest, self.buffer = self.buffer, ""
        if self.state == "calling" and self.calls:
            return "", []
        return self._unfenced() + rest, []

    def _unfenced(self) -> str:
        """The held-back fence, once it is known to open content rather than a call."""
        fence, self.fence = ("" if self.calls else self.fence), ""
        return fence

    def _parse_calls(self) -> list[ToolCall]:
        calls = []
        while (call := self._next_call()) is not None:
            calls.append(call)
        self.calls += len(calls)
        return calls

    def _next_call(self) -> ToolCall | None:
        name, name_end = self._find_name()
        if self.names and name is None:
            return None
        for _, end, value in _json_objects(self.buffer):
            if not isinstance(value, dict):
                continue
            args, found = _find_arguments(value, name)
            if name is None:  # no tool list: the object must name the call itself
                if not isinstance(value.get("name"), str):
                    continue
                name = value["name"]
            elif not found:
                args = value
            if args is None:
                return None
            self.buffer = self.buffer[max(end, name_end) :]
            return {"function": {"name": name, "arguments": args}}
        return None

    def _find_name(self) -> tuple[str | None, int]:
        """The earliest (then longest) known tool name in the buffer, unless the buffer ends
        in what may be the start of a longer name."""
        if not self.names:
            return None, 0
        longest = max(map(len, self.names))
        for size in range(1, min(len(self.buffer), longest) + 1):
            tail = self.buffer[-size:]
            if any(len(tail) < len(n) and n.startswith(tail) for n in self.names):
                return None, 0
        best: tuple[int, int, str] | None = None
        for name in self.names:
            pos = self.buffer.find(name)
            if pos >= 0 and (best is None or (pos, -len(name)) < (best[0], -best[1])):
                best = (pos, len(name), name)
        if best is None:
            return None, 0
        return best[2], best[0] + best[1]

    def _json_closed(self) -> bool:
        """For `{`/`[` tags: whether the JSON that opened the reply has closed (Ollama's
        `done`), after which any further text is content."""
        if self.tag not in ("{", "["):
            return False
        opening, closing = self.tag, "}" if self.tag == "{" else "]"
        depth = 0
        for _, ch in _structure(self.buffer):
            if ch == opening:
                depth += 1
            elif ch == closing:
                depth -= 1
                if depth == 0:
                    return True
        return False
