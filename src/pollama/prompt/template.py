"""`PromptTemplate`: a model's prompt template, Go (Modelfile TEMPLATE) or Jinja (GGUF).

`render` is Ollama's `Template.Execute`: it chooses between the fill-in-the-middle values, the
`.Messages` values, and the legacy path that runs a System/Prompt/Response template once per turn.
"""

from __future__ import annotations

import datetime
import functools
from abc import ABC, abstractmethod
from typing import Any

from pollama.prompt import _inspect
from pollama.prompt._values import collate, template_message, template_tools, to_typescript_type
from pollama.prompt.gotemplate import BUILTINS, SHORT_CIRCUIT, Tree, execute, marshal, parse
from pollama.prompt.gotemplate import nodes as n

DEFAULT_TEMPLATE = "{{ .Prompt }}"

Think = bool | str | None


def _today(*_: Any) -> str:
    return datetime.date.today().isoformat()


def _yesterday(*_: Any) -> str:
    return (datetime.date.today() - datetime.timedelta(days=1)).isoformat()


FUNCS = {
    **BUILTINS,
    "json": marshal,
    "currentDate": _today,
    "yesterdayDate": _yesterday,
    "toTypeScriptType": to_typescript_type,
}


def think_values(think: Think) -> dict[str, Any]:
    """`.Think`, `.ThinkLevel`, `.IsThinkSet` as Ollama derives them from `think`."""
    if isinstance(think, str):
        enabled = think in ("high", "medium", "low", "max")
        return {"Think": enabled, "ThinkLevel": think, "IsThinkSet": True}
    return {
        "Think": bool(think),
        "ThinkLevel": "medium" if think else "",
        "IsThinkSet": think is not None,
    }


class PromptTemplate(ABC):
    """A parsed prompt template and what it can do."""

    source: str

    @staticmethod
    def from_model(
        go_template: str | None,
        jinja_template: str | None,
        *,
        bos_token: str | None = None,
        eos_token: str | None = None,
    ) -> PromptTemplate:
        """The template a model renders with: its Modelfile TEMPLATE, else its GGUF's Jinja
        chat template, else `{{ .Prompt }}`. Raises `TemplateError` (400) if it does not parse."""
        if go_template:
            return GoTemplate(go_template)
        if jinja_template:
            from pollama.prompt.jinja import JinjaTemplate

            return JinjaTemplate(jinja_template, bos_token=bos_token, eos_token=eos_token)
        return GoTemplate(DEFAULT_TEMPLATE)

    @property
    @abstractmethod
    def supports_tools(self) -> bool: ...

    @property
    @abstractmethod
    def supports_insert(self) -> bool: ...

    @property
    @abstractmethod
    def supports_thinking(self) -> bool: ...

    @property
    @abstractmethod
    def tool_call_tag(self) -> str:
        """The text that opens a tool call in the model's output (`{` when unknown)."""

    @property
    @abstractmethod
    def thinking_tags(self) -> tuple[str, str]:
        """(opening, closing) tags around thinking in the output, ("", "") when none."""

    @abstractmethod
    def render(
        self,
        messages: list[dict[str, Any]],
        *,
        tools: list[dict[str, Any]] | None = None,
        think: Think = None,
        prompt: str = "",
        suffix: str = "",
    ) -> str:
        """The prompt for `messages`, or for `prompt` + `suffix` (fill-in-the-middle)."""


class GoTemplate(PromptTemplate):
    """A Go `text/template` prompt template, with Ollama's functions and conventions."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tree: Tree = parse(source, set(FUNCS) | SHORT_CIRCUIT)
        self.vars = self._vars()
        if "messages" not in self.vars and "response" not in self.vars:
            # Ollama appends {{ .Response }} so a prompt-only template still frames replies.
            self.tree.root.nodes.append(n.ActionNode(0, _response_pipe()))
            self.vars = self._vars()

    def _vars(self) -> list[str]:
        trees = [self.tree.root, *self.tree.defs.values()]
        return sorted({name.lower() for t in trees for name in _inspect.identifiers(t)})

    @property
    def supports_tools(self) -> bool:
        return "tools" in self.vars

    @property
    def supports_insert(self) -> bool:
        return "suffix" in self.vars

    @property
    def supports_thinking(self) -> bool:
        opening, closing = self.thinking_tags
        return bool(opening and closing)

    @functools.cached_property
    def tool_call_tag(self) -> str:
        return _inspect.tool_call_tag(self.tree.root)

    @functools.cached_property
    def thinking_tags(self) -> tuple[str, str]:
        return _inspect.thinking_tags(self.tree.root)

    @functools.cached_property
    def _legacy_last(self) -> Tree:
        return Tree(_inspect.cut_after_response(self.tree.root), self.tree.defs)

    def render(
        self,
        messages: list[dict[str, Any]],
        *,
        tools: list[dict[str, Any]] | None = None,
        think: Think = None,
        prompt: str = "",
        suffix: str = "",
    ) -> str:
        thinking = think_values(think)
        if prompt and suffix:
            data = {"Prompt": prompt, "Suffix": suffix, "Response": "", **thinking}
            return execute(self.tree, data, FUNCS)
        system, collated = collate(messages)
        if "messages" in self.vars:
            data = {
                "System": system,
                "Messages": [template_message(m) for m in collated],
                "Tools": template_tools(tools),
                "Response": "",
                **thinking,
            }
            return execute(self.tree, data, FUNCS)
        return self._render_legacy(collated, thinking)

    def _render_legacy(self, messages: list[dict[str, Any]], thinking: dict[str, Any]) -> str:
        """One run per System/Prompt/Response turn; the last stops at `{{ .Response }}`."""
        out: list[str] = []
        turn = {"System": "", "Prompt": "", "Response": ""}

        def flush() -> None:
            out.append(execute(self.tree, {**turn, **thinking}, FUNCS))
            turn.update(System="", Prompt="", Response="")

        for msg in messages:
            role, content = msg.get("role"), msg.get("content") or ""
            if role == "system":
                if turn["Prompt"] or turn["Response"]:
                    flush()
                turn["System"] = content
            elif role == "user":
                if turn["Response"]:
                    flush()
                turn["Prompt"] = content
            elif role == "assistant":
                turn["Response"] = content
        out.append(execute(self._legacy_last, {**turn, **thinking}, FUNCS))
        return "".join(out)


def _response_pipe() -> n.PipeNode:
    field = n.FieldNode(0, ["Response"])
    return n.PipeNode(0, [], [n.CommandNode(0, [field])])
