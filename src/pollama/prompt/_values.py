"""Ollama's template Values: chat messages and tools in the shapes its Go templates see.

Messages and tools arrive as plain dicts in Ollama's JSON shape. Templates read them through
Go field names (`.Role`, `.Function.Arguments`, ...), and tools and arguments print as JSON with
sorted keys and HTML escaping, exactly as `template/template.go`'s `String()` methods do.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pollama.prompt.gotemplate import JsonList, JsonMap, Struct
from pollama.prompt.gotemplate.gotypes import ordered, ordered_items


def collate(messages: Iterable[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Ollama's `collate`: all system contents joined by blank lines, and the messages with
    consecutive same-role ones merged (tool results never are). System messages stay in."""
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for msg in messages:
        role = msg.get("role", "")
        if role == "system":
            system.append(msg.get("content") or "")
        if out and out[-1].get("role") == role and role != "tool":
            merged = f"{out[-1].get('content') or ''}\n\n{msg.get('content') or ''}"
            out[-1] = {**out[-1], "content": merged}
        else:
            out.append(dict(msg))
    return "\n\n".join(system), out


def _tool_call(call: dict[str, Any], position: int) -> Struct:
    function = call.get("function") or {}
    arguments = function.get("arguments")
    return Struct(
        "template.templateToolCall",
        {
            "ID": call.get("id", ""),
            "Function": Struct(
                "template.templateToolCallFunction",
                {
                    "Index": function.get("index", position),
                    "Name": function.get("name", ""),
                    "Arguments": JsonMap(arguments if isinstance(arguments, dict) else {}),
                },
            ),
        },
    )


def template_message(msg: dict[str, Any]) -> Struct:
    """A message as `*template.templateMessage`."""
    calls = [_tool_call(c, i) for i, c in enumerate(msg.get("tool_calls") or [])]
    return Struct(
        "*template.templateMessage",
        {
            "Role": msg.get("role", ""),
            "Content": msg.get("content") or "",
            "Thinking": msg.get("thinking") or "",
            "Images": list(msg.get("images") or []),
            "ToolCalls": calls or None,
            "ToolName": msg.get("tool_name") or "",
            "ToolCallID": msg.get("tool_call_id") or "",
        },
    )


def _property_type(value: Any) -> Any:
    """`api.PropertyType`: one type prints and marshals as a string, several as a list."""
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def _property(prop: dict[str, Any]) -> Struct:
    """An `api.ToolProperty`: fields in Go's order, empty ones omitted from its JSON."""
    nested = prop.get("properties")
    fields = {
        "AnyOf": [_property(p) for p in prop.get("anyOf") or []] or None,
        "Type": _property_type(prop.get("type")),
        "Items": prop.get("items"),
        "Description": prop.get("description", ""),
        "Enum": prop.get("enum"),
        "Properties": _properties(nested) if nested else None,
        "Required": prop.get("required"),
    }
    keys = ("anyOf", "type", "items", "description", "enum", "properties", "required")

    def as_json() -> Any:
        values = zip(keys, fields.values(), strict=True)
        return ordered_items([(k, v) for k, v in values if v not in (None, "", [])])

    return Struct("api.ToolProperty", fields, json_value=as_json)


def _properties(props: dict[str, Any] | None) -> JsonMap:
    return JsonMap({k: _property(v) for k, v in (props or {}).items()})


def _tool(tool: dict[str, Any]) -> Struct:
    function = tool.get("function") or {}
    params = function.get("parameters") or {}
    parameters = Struct(
        "template.templateToolFunctionParameters",
        {
            "Type": params.get("type", ""),
            "Defs": params.get("$defs"),
            "Items": params.get("items"),
            "Required": params.get("required"),
            "Properties": _properties(params.get("properties")),
        },
        json_value=lambda: ordered_items(
            [
                ("type", params.get("type", "")),
                *[(k, params[k]) for k in ("$defs", "items", "required") if params.get(k)],
                ("properties", _properties(params.get("properties"))),
            ]
        ),
        stringer=True,
    )
    func = Struct(
        "template.templateToolFunction",
        {
            "Name": function.get("name", ""),
            "Description": function.get("description", ""),
            "Parameters": parameters,
        },
        json_value=lambda: ordered(
            name=function.get("name", ""),
            description=function.get("description", ""),
            parameters=parameters,
        ),
        # Ollama's api.ToolFunction prints as JSON; templates embed `{{ .Function }}` as such.
        stringer=True,
    )
    items = tool.get("items")
    return Struct(
        "template.templateTool",
        {"Type": tool.get("type", ""), "Items": items, "Function": func},
        json_value=lambda: ordered_items(
            [
                ("type", tool.get("type", "")),
                *([("items", items)] if items else []),
                ("function", func),
            ]
        ),
        stringer=True,
    )


def template_tools(tools: list[dict[str, Any]] | None) -> JsonList | None:
    """`.Tools`: nil without tools, else a list that prints as its JSON."""
    return None if not tools else JsonList(_tool(t) for t in tools)


def to_typescript_type(value: Any) -> str:
    """Ollama's `toTypeScriptType` for a tool property."""
    if not isinstance(value, Struct) or value.type_name != "api.ToolProperty":
        return "any"
    any_of = value.fields["AnyOf"]
    if any_of:
        return " | ".join(to_typescript_type(p) for p in any_of)
    types = value.fields["Type"]
    if not types:
        return "any"
    names = {"string": "string", "number": "number", "integer": "number", "boolean": "boolean"}
    names |= {"array": "any[]", "object": "Record<string, any>", "null": "null"}
    types = [types] if isinstance(types, str) else types
    return " | ".join(names.get(t, "any") for t in types)
