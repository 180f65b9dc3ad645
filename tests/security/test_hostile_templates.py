"""Templates that come with a model file and try to escape, hang or fill memory: each is a 400
naming what it did, within the time limit, and the next render still works."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from pollama import limits
from pollama.prompt import PromptTemplate, TemplateError
from tests.fixtures.server import live_server
from tests.fixtures.tiny_gguf import write_tiny_gguf

USER = [{"role": "user", "content": "hi"}]
# The deadline plus slack for a loaded machine: the point is "stops", not "fast".
STOPS_WITHIN_S = limits.TEMPLATE_TIME_S + 6


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ messages.__class__.__init__.__globals__ }}",
        "{{ raise_exception.__globals__['__builtins__'] }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ self._TemplateReference__context }}",
        "{{ namespace.__init__.__globals__ }}",
        "{% set x = messages.append({'role': 'system'}) %}{{ messages | length }}",
        "{{ messages[0].update({'content': 'pwned'}) }}",
        "{{ ''.format.__self__.__class__ }}",
        "{{ lipsum(100) }}",
        "{{ (1).__class__.__base__.__subclasses__() }}",
    ],
)
def test_a_jinja_template_cannot_reach_python(source: str) -> None:
    """Refused with a 400, or (an unsafe attribute read is undefined) rendered as nothing."""
    template = PromptTemplate.from_model(None, source)
    try:
        assert template.render([dict(m) for m in USER]) == ""
    except TemplateError as err:
        assert err.status_code == 400
        assert "chat template: " in str(err)


def test_the_messages_a_template_sees_are_left_as_they_were() -> None:
    messages = [{"role": "user", "content": "hi"}]
    template = PromptTemplate.from_model(None, "{% set _ = messages.pop() %}")
    with pytest.raises(TemplateError):
        template.render(messages)
    assert messages == [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("source", "said"),
    [
        ("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
         "longer than"),
        ("{% set s = 'x' * 10000000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}",
         "longer than"),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "recursion"),
        ("{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}", "recursion|longer than"),
        ("{{ 'x' * 100000000 }}", "value longer than"),
        ("{{ [0] * 100000000 }}", "value longer than"),
        ("{{ 9 ** 99999999 }}", "power"),
        ("{{ 'x' | center(1000000000) }}", "number larger"),
        ("{{ 'x'.ljust(1000000000) }}", "number larger"),
        ("{% set ns = namespace(s='xx') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}"
         "{% endfor %}", "value longer than"),
        ("{{ ('x' * 10000000) | replace('x', 'yyyyyyyy') }}", "value longer than"),
        ("{{ ('x' * 10000000).replace('x', 'yyyyyyyy') }}", "value longer than"),
        ("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", "prompt is longer"),
    ],
    ids=["empty-loops", "string-loops", "recursion", "fork-bomb", "str-mul", "list-mul", "pow",
         "center", "ljust", "doubling", "replace-filter", "replace-method", "output"],
)  # fmt: skip
def test_a_jinja_template_that_runs_away_is_stopped(source: str, said: str) -> None:
    template = PromptTemplate.from_model(None, source)
    start = time.monotonic()
    with pytest.raises(TemplateError, match=said) as err:
        template.render(USER)
    assert time.monotonic() - start < STOPS_WITHIN_S
    assert err.value.status_code == 400
    assert PromptTemplate.from_model(None, "{{ messages[0].content }}").render(USER) == "hi"


def test_a_jinja_template_nested_past_the_parser_stack_is_a_400() -> None:
    with pytest.raises(TemplateError, match="chat template"):
        PromptTemplate.from_model(None, "{% if 1 %}" * 3000 + "{% endif %}" * 3000)


@pytest.mark.parametrize(
    ("source", "said"),
    [
        ("{{range 1000000000}}{{end}}", "longer than"),
        ("{{range 100000}}{{range 100000}}x{{end}}{{end}}", "longer than"),
        ('{{define "a"}}{{template "a" .}}{{end}}{{template "a" .}}', "maximum template depth"),
        ('{{define "a"}}{{template "a" .}}{{template "a" .}}{{end}}{{template "a" .}}',
         "maximum template depth"),
        ('{{define "a"}}{{.}}{{.}}{{.}}{{.}}{{end}}{{range 10000000}}{{template "a" .}}{{end}}',
         "longer than"),
    ],
    ids=["range-int", "nested-ranges", "recursion", "fork-bomb", "output"],
)  # fmt: skip
def test_a_go_template_that_runs_away_is_stopped(source: str, said: str) -> None:
    template = PromptTemplate.from_model(source, None)
    start = time.monotonic()
    with pytest.raises(TemplateError, match=said) as err:
        template.render(USER)
    assert time.monotonic() - start < STOPS_WITHIN_S
    assert err.value.status_code == 400


def test_a_go_template_nested_past_the_parser_stack_is_a_400() -> None:
    with pytest.raises(TemplateError, match="nests too deeply"):
        PromptTemplate.from_model("{{if 1}}" * 3000 + "{{end}}" * 3000, None)


def test_a_hostile_template_in_a_model_is_a_400_from_the_api(
    isolated_store: Path, tmp_path: Path
) -> None:
    """Through the server: a GGUF whose chat template runs away, and a Modelfile TEMPLATE
    that loops; each request is refused within the limit, and the server answers after."""
    runaway = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
    gguf = write_tiny_gguf(tmp_path / "hostile.gguf", chat_template=runaway)
    with live_server(isolated_store) as url:
        for name, modelfile in (
            ("jinja", f"FROM {gguf}\n"),
            ("go", f'FROM {gguf}\nTEMPLATE "{{{{range 1000000000}}}}{{{{end}}}}"\n'),
        ):
            body = {"model": name, "modelfile": modelfile, "stream": False}
            assert httpx.post(url + "/api/create", json=body, timeout=60).status_code == 200
            chat = {"model": name, "messages": USER, "options": {"num_predict": 2}}
            start = time.monotonic()
            reply = httpx.post(url + "/api/chat", json=chat, timeout=60)
            assert time.monotonic() - start < STOPS_WITHIN_S + 10  # a model load besides
            assert reply.status_code == 400, reply.text
            assert "longer than" in reply.json()["error"]
            openai = httpx.post(url + "/v1/chat/completions", json=chat, timeout=60)
            assert openai.status_code == 400
            assert "longer than" in openai.json()["error"]["message"]
        assert httpx.get(url + "/api/version").status_code == 200
