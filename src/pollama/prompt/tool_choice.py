"""`tool_choice`: whether the model may, must or must not call a tool, and how "must" is kept.

Ollama ignores `tool_choice`; pollama honours it. "none" offers the model no tools at all.
"required", or one named function, forces a call through a grammar that produces exactly the
template's tool-call format (qwen's `<tool_call>{"name": ..., "arguments": ...}</tool_call>`,
bare JSON when the template names no tag), with the arguments held to the tool's parameter
schema: even a 0.5B model cannot answer with prose. "auto" leaves the model free. A forced
reply is one call; the grammar then ends, so the model stops.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Literal

from pollama.errors import InvalidRequest

log = logging.getLogger(__name__)

ToolChoiceMode = Literal["auto", "none", "required"]

_XML_TAG = re.compile(r"<([A-Za-z_][\w-]*)>")
_ANY_OBJECT: dict[str, Any] = {"type": "object"}
# The converter's string character lets control characters through, which JSON forbids raw
# (and the tool-call parser, reading strict JSON, would then not see a call).
_LOOSE_CHAR = 'char ::= [^"\\\\] |'
_STRICT_CHAR = 'char ::= [^"\\\\\\x7F\\x00-\\x1F] |'


@dataclass(frozen=True)
class ToolChoice:
    """A request's tool choice: `mode`, and with "required" maybe the one function to call."""

    mode: ToolChoiceMode = "auto"
    name: str | None = None

    @property
    def offers_tools(self) -> bool:
        """Whether the tools go into the prompt at all."""
        return self.mode != "none"

    @property
    def forces_call(self) -> bool:
        return self.mode == "required"

    def grammar(self, tag: str, tools: list[dict[str, Any]]) -> str | None:
        """The GBNF grammar forcing a call in the template's format (`tag` opens a call), or
        None when the model is free."""
        if not self.forces_call:
            return None
        chosen = [t for t in tools if self.name is None or _name(t) == self.name]
        if not chosen:
            if self.name is not None:
                message = f'tool_choice names "{self.name}", which is not among the tools'
                raise InvalidRequest(message)
            raise InvalidRequest('tool_choice "required" needs at least one tool')
        return _wrap(tag, _calls_grammar(chosen))


def _name(tool: dict[str, Any]) -> str:
    return str((tool.get("function") or {}).get("name") or "")


def _call_schema(tool: dict[str, Any]) -> dict[str, Any]:
    parameters = (tool.get("function") or {}).get("parameters")
    return {
        "type": "object",
        "properties": {
            "name": {"const": _name(tool)},
            "arguments": parameters if isinstance(parameters, dict) and parameters else _ANY_OBJECT,
        },
        "required": ["name", "arguments"],
    }


def _calls_grammar(tools: list[dict[str, Any]]) -> str:
    """Rules whose `root` is one call object of one of `tools`, as JSON."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf  # loads libllama

    schemas = [_call_schema(t) for t in tools]
    schema = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    try:
        return str(json_schema_to_gbnf(json.dumps(schema)))
    except Exception as exc:  # the converter raises bare Exceptions on schemas it cannot do
        # An odd parameter schema still gets a call, its arguments any JSON object.
        log.warning("tool parameters schema not usable as a grammar (%s): any object", exc)
        loose = [_call_schema({"function": {"name": _name(t)}}) for t in tools]
        return str(json_schema_to_gbnf(json.dumps({"anyOf": loose})))


def _wrap(tag: str, calls: str) -> str:
    """`calls` (a grammar whose root is one call object) inside the template's tag."""
    rules = re.sub(r"^root ::=", "tool-call ::=", calls, count=1, flags=re.MULTILINE)
    rules = rules.replace(_LOOSE_CHAR, _STRICT_CHAR)
    xml = _XML_TAG.fullmatch(tag)
    if xml is not None:  # <tool_call> ... </tool_call>
        closing = f"</{xml.group(1)}>"
        root = f'root ::= {json.dumps(tag)} "\\n"? tool-call "\\n"? {json.dumps(closing)}'
    elif tag == "{":
        root = "root ::= tool-call"
    elif tag == "[":
        root = 'root ::= "[" tool-call "]"'
    else:  # a tag before a JSON list of calls, as Mistral's [TOOL_CALLS] [{...}]
        root = f'root ::= {json.dumps(tag)} " "? "[" tool-call "]"'
    return f"{root}\n{rules}"
