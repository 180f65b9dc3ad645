"""GGUF chat templates (`tokenizer.chat_template`, Jinja) rendered as Hugging Face does.

Only the template text runs, in Jinja's immutable sandbox, with the globals and filters that
`transformers` gives chat templates (`raise_exception`, `strftime_now`, `tojson`). Nothing else
from a model file is ever executed. The sandbox refuses `_` attributes and changes to values;
on top of it a template is held to `TEMPLATE_TIME_S` and `MAX_PROMPT_BYTES`:

- time: a line tracer on the template's own frames checks the deadline at every line, so a
  loop with an empty body is stopped too;
- size: `*` and `**` are checked before they allocate, any call or filter given a number
  larger than the limit is refused, and every value read, every call's result and the output
  are measured.

Any failure of a template (a Python error included) is the model file's fault: a 400.
"""

from __future__ import annotations

import datetime
import functools
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, NoReturn

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from pollama import limits
from pollama.prompt.gotemplate import TemplateError
from pollama.prompt.template import PromptTemplate, Think

_TEMPLATE_FILE = "<template>"


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


def _check_length(length: int) -> None:
    if length > limits.MAX_PROMPT_BYTES:
        raise SecurityError(f"a value longer than {limits.MAX_PROMPT_BYTES} was made")


def _check_size(value: Any) -> Any:
    if isinstance(value, (str, bytes, list, tuple, dict)):
        _check_length(len(value))
    return value


def _check_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """No call may be handed a count past the limit (`center(10**9)` allocates at once)."""
    for arg in (*args, *kwargs.values()):
        if isinstance(arg, int) and abs(arg) > limits.MAX_PROMPT_BYTES:
            raise SecurityError(f"a number larger than {limits.MAX_PROMPT_BYTES} was passed")


def _check_replace(text: Any, new: Any) -> None:
    """`replace` can multiply a string's length in one call: refuse before it runs."""
    _check_length(len(str(text)) * max(1, len(str(new))))


def _replace_filter(eval_ctx: Any, value: Any, old: Any, new: Any, count: int | None = None) -> Any:
    _check_replace(value, new)
    return jinja2.filters.do_replace(eval_ctx, value, old, new, count)


def _limited(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def checked(*args: Any, **kwargs: Any) -> Any:
        _check_args(args, kwargs)
        return _check_size(func(*args, **kwargs))

    return checked


def _huge_power(base: Any, exponent: Any) -> bool:
    """Whether `base ** exponent` would take more than 64 Kbit (slow to make, and to print)."""
    if not (isinstance(base, int) and isinstance(exponent, int)) or abs(base) <= 1:
        return False
    return exponent * base.bit_length() > 64 * 1024


class _LimitedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with sizes checked wherever a value can grow."""

    intercepted_binops = frozenset({"*", "**"})

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        _check_args(args, kwargs)
        if getattr(obj, "__name__", "") == "replace" and len(args) >= 2:
            _check_replace(getattr(obj, "__self__", ""), args[1])
        return _check_size(super().call(context, obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        return _check_size(super().getattr(obj, attribute))

    def getitem(self, obj: Any, argument: Any) -> Any:
        return _check_size(super().getitem(obj, argument))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and _huge_power(left, right):
            raise SecurityError("the power is too large")
        if operator == "*":
            seq, count = (left, right) if isinstance(right, int) else (right, left)
            if isinstance(count, int) and hasattr(seq, "__len__"):
                _check_length(len(seq) * count)
        return _check_size(super().call_binop(context, operator, left, right))


@functools.cache
def _environment() -> ImmutableSandboxedEnvironment:
    env = _LimitedSandbox(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    # lipsum(n) runs a Python loop n times; no chat template uses it.
    del env.globals["lipsum"]
    env.filters = {name: _limited(f) for name, f in env.filters.items()}
    env.filters["tojson"] = _limited(_tojson)
    env.filters["replace"] = jinja2.pass_eval_context(_replace_filter)
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    return env


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Stop the template's own code at its next line once `seconds` have passed."""
    end = time.monotonic() + seconds

    def on_line(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line" and time.monotonic() > end:
            raise SecurityError(f"rendering took longer than {seconds:g} s")
        return on_line

    def on_call(frame: FrameType, event: str, arg: Any) -> Any:
        return on_line if frame.f_code.co_filename == _TEMPLATE_FILE else None

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        yield
    finally:
        sys.settrace(previous)


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
        except (jinja2.TemplateError, RecursionError) as exc:
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
            return self._render(context)
        except Exception as exc:  # the template's fault, whatever it raised (see module doc)
            raise TemplateError(f"chat template: {exc}") from None

    def _render(self, context: dict[str, Any]) -> str:
        out: list[str] = []
        size = 0
        with _deadline(limits.TEMPLATE_TIME_S):
            for chunk in self._template.generate(**context):
                size += len(chunk)
                if size > limits.MAX_PROMPT_BYTES:
                    raise SecurityError(f"the prompt is longer than {limits.MAX_PROMPT_BYTES}")
                out.append(chunk)
        return "".join(out)
