"""Prompt templates and output parsing: Ollama's `template`, `server/prompt.go`, `tools` and
`thinking` packages. Routes hand messages in; the scheduler gets the rendered text."""

from pollama.prompt.gotemplate import TemplateError
from pollama.prompt.jinja import JinjaTemplate
from pollama.prompt.render import ChatPrompt, chat_prompt, render_generate
from pollama.prompt.template import DEFAULT_TEMPLATE, GoTemplate, PromptTemplate
from pollama.prompt.thinking import ThinkingParser
from pollama.prompt.tool_choice import ToolChoice
from pollama.prompt.tools import ToolCallParser

__all__ = [
    "DEFAULT_TEMPLATE",
    "ChatPrompt",
    "GoTemplate",
    "JinjaTemplate",
    "PromptTemplate",
    "TemplateError",
    "ThinkingParser",
    "ToolCallParser",
    "ToolChoice",
    "chat_prompt",
    "render_generate",
]
