"""GGUF chat templates (`tokenizer.chat_template`, Jinja) rendered as Hugging Face does.

Only the template text runs, in Jinja's immutable sandbox, with the globals and filters that
`transformers` gives chat templates (`raise_exception`, `strftime_now`, `tojson`). Nothing else
from a model file is ever executed.
"""

from __future__ import annotations

import datetime
import functools
import json
from typing import Any, NoReturn

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

from pollama.prompt.gotemplate import TemplateError
from pollama.prompt.template import PromptTemplate, Think


def _raise_exception(message: str) -> NoReturn:
    raise jinja2.TemplateError(message)


def _strftime_now(fmt: str) -> str:
    return datetime.datetime.now().strftime(fmt)


def _tojson(
    value: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    """transformers' `tojson`: plain `json.dumps`, not Jinja's HTML-safe one."""
    return json.dumps(
        value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
    )


@functools.cache
def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols]
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    return env


class JinjaTemplate(PromptTemplate):
    """A Hugging Face style chat template, always rendered with `add_generation_prompt`."""

    def __init__(
        self, source: str, *, bos_token: str | None = None, eos_token: str | None = None
    ) -> None:
        self.source = source
        # llama.cpp adds BOS itself when it tokenizes, so by default the template does not.
        self.bos_token = bos_token or ""
        self.eos_token = eos_token or ""
        try:
            self._template = _environment().from_string(source)
        except jinja2.TemplateError as exc:
            raise TemplateError(f"chat template: {exc}") from None

    @property
    def supports_tools(self) -> bool:
        return "tools" in self.source or "tool_call" in self.source

    @property
    def supports_insert(self) -> bool:
        return False

    @property
    def supports_thinking(self) -> bool:
        return "<think>" in self.source and "</think>" in self.source

    @property
    def tool_call_tag(self) -> str:
        return "<tool_call>" if "<tool_call>" in self.source else "{"

    @property
    def thinking_tags(self) -> tuple[str, str]:
        return ("<think>", "</think>") if self.supports_thinking else ("", "")

    def render(
        self,
        messages: list[dict[str, Any]],
        *,
        tools: list[dict[str, Any]] | None = None,
        think: Think = None,
        prompt: str = "",
        suffix: str = "",
    ) -> str:
        context: dict[str, Any] = {
            "messages": messages,
            "tools": tools or None,
            "add_generation_prompt": True,
            "bos_token": self.bos_token,
            "eos_token": self.eos_token,
        }
        if think is not None:  # Qwen 3's switch, and a level for templates that take one
            context["enable_thinking"] = bool(think)
            if isinstance(think, str):
                context["reasoning_effort"] = think
        try:
            return self._template.render(**context)
        except jinja2.TemplateError as exc:
            raise TemplateError(f"chat template: {exc}") from None
