"""A Go `text/template` engine: the syntax and semantics Ollama's prompt templates rely on."""

from pollama.prompt.gotemplate.errors import TemplateError
from pollama.prompt.gotemplate.execute import execute
from pollama.prompt.gotemplate.functions import BUILTINS, SHORT_CIRCUIT, FuncError
from pollama.prompt.gotemplate.gotypes import JsonList, JsonMap, Struct, is_true, marshal
from pollama.prompt.gotemplate.parse import Tree, parse

__all__ = [
    "BUILTINS",
    "SHORT_CIRCUIT",
    "FuncError",
    "JsonList",
    "JsonMap",
    "Struct",
    "TemplateError",
    "Tree",
    "execute",
    "is_true",
    "marshal",
    "parse",
]
