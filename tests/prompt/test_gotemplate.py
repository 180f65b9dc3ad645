"""Go `text/template` semantics, case by case, with the outputs Go gives."""

from __future__ import annotations

from typing import Any

import pytest

from pollama.prompt.gotemplate import BUILTINS, SHORT_CIRCUIT, Struct, TemplateError, execute, parse

FUNCS = {**BUILTINS, "upper": str.upper}


def render(src: str, data: Any = None) -> str:
    return execute(parse(src, set(FUNCS) | SHORT_CIRCUIT), data, FUNCS)


MSG = Struct("Message", {"Role": "user", "Content": "hi"})


@pytest.mark.parametrize(
    ("src", "data", "expected"),
    [
        # text, trim markers, comments
        ("plain text", None, "plain text"),
        ("a  {{- .X -}}  b", {"X": 1}, "a1b"),
        ("a \n{{- .X }} \n", {"X": 1}, "a1 \n"),
        ("a {{ .X -}} \n\t b", {"X": 1}, "a 1b"),
        ("a {{/* note */}} b", None, "a  b"),
        ("a {{- /* note */ -}} b", None, "ab"),
        ("{{-3}}", None, "-3"),
        # fields, dot, $, missing keys (missingkey=zero)
        ("{{ .A.B }}", {"A": {"B": "deep"}}, "deep"),
        ("{{ .Missing }}", {}, "<no value>"),
        ("{{ if .Missing }}y{{ else }}n{{ end }}", {}, "n"),
        ("{{ .Role }}:{{ .Content }}", MSG, "user:hi"),
        ("{{ range .L }}{{ $.P }}{{ . }}{{ end }}", {"L": [1, 2], "P": "-"}, "-1-2"),
        # variables
        ("{{ $x := 1 }}{{ $x }}{{ $x = 2 }}{{ $x }}", None, "12"),
        (
            '{{ $s := "" }}{{ range .L }}{{ $s = printf "%s%s" $s . }}{{ end }}{{ $s }}',
            {"L": ["a", "b"]},
            "ab",
        ),
        ("{{ with $x := .A }}{{ $x }}{{ end }}", {"A": "w"}, "w"),
        # range
        ("{{ range $i, $e := .L }}{{ $i }}={{ $e }} {{ end }}", {"L": ["a", "b"]}, "0=a 1=b "),
        ("{{ range $e := .L }}{{ $e }}{{ end }}", {"L": ["a", "b"]}, "ab"),
        ("{{ range .L }}x{{ else }}empty{{ end }}", {"L": []}, "empty"),
        ("{{ range .Missing }}x{{ else }}none{{ end }}", {}, "none"),
        ("{{ range $k, $v := .M }}{{ $k }}{{ $v }}{{ end }}", {"M": {"b": 2, "a": 1}}, "a1b2"),
        ("{{ range 3 }}{{ . }}{{ end }}", None, "012"),
        (
            "{{ range .L }}{{ if eq . 2 }}{{ break }}{{ end }}{{ . }}{{ end }}",
            {"L": [1, 2, 3]},
            "1",
        ),
        (
            "{{ range .L }}{{ if eq . 2 }}{{ continue }}{{ end }}{{ . }}{{ end }}",
            {"L": [1, 2, 3]},
            "13",
        ),
        # if / else if / with / else with
        ("{{ if .A }}a{{ else if .B }}b{{ else }}c{{ end }}", {"A": 0, "B": "x"}, "b"),
        ("{{ with .A }}{{ . }}{{ else }}none{{ end }}", {"A": ""}, "none"),
        ("{{ with .A }}{{ . }}{{ else with .B }}{{ . }}{{ end }}", {"A": "", "B": "b"}, "b"),
        # truthiness
        ("{{ if .L }}t{{ else }}f{{ end }}", {"L": []}, "f"),
        ("{{ if .M }}t{{ else }}f{{ end }}", {"M": {}}, "f"),
        ("{{ if 0.0 }}t{{ else }}f{{ end }}", None, "f"),
        ("{{ if . }}t{{ else }}f{{ end }}", MSG, "t"),
        # comparisons
        ('{{ eq .R "a" "b" "user" }}', {"R": "user"}, "true"),
        ('{{ eq .R "a" "b" }}', {"R": "user"}, "false"),
        ('{{ ne .R "user" }}', {"R": "user"}, "false"),
        ("{{ lt 1 2 }} {{ le 2 2 }} {{ gt 1 2 }} {{ ge 2 3 }}", None, "true true false false"),
        ('{{ lt "a" "b" }}', None, "true"),
        ("{{ eq .Missing 1 }}", {}, "false"),
        # and / or / not return values and short-circuit
        ('{{ and 1 0 }} {{ and 1 2 }} {{ or 0 "" }} {{ or 0 3 }}', None, "0 2  3"),
        ("{{ and .Missing .Missing.X }}", {}, "<no value>"),
        ("{{ not 0 }} {{ not .L }}", {"L": [1]}, "true false"),
        # len, index, slice
        (
            "{{ len .L }} {{ len .S }} {{ len .M }}",
            {"L": [1, 2], "S": "héllo", "M": {"a": 1}},
            "2 6 1",
        ),
        (
            '{{ index .L 1 }} {{ index .M "k" }} {{ index .N 0 1 }}',
            {"L": [5, 6], "M": {"k": "v"}, "N": [[1, 2]]},
            "6 v 2",
        ),
        (
            "{{ slice .L 1 }} {{ slice .L 1 2 }} {{ slice .L }}",
            {"L": [1, 2, 3]},
            "[2 3] [2] [1 2 3]",
        ),
        ('{{ slice "hello" 1 3 }}', None, "el"),
        ("{{ len (slice $.L 1) }}", {"L": [1, 2, 3]}, "2"),
        # pipelines, parentheses, chains
        ('{{ "x" | upper }}', None, "X"),
        ('{{ "a" | printf "%s-%s" "b" }}', None, "b-a"),
        ("{{ (index .L 0).Role }}", {"L": [MSG]}, "user"),
        # literals
        ("{{ `raw\\n` }}", None, "raw\\n"),
        ('{{ "esc\\t\\"q\\"" }}', None, 'esc\t"q"'),
        ("{{ 0x1F }} {{ 1.5 }} {{ 'a' }} {{ true }} {{ 1e3 }}", None, "31 1.5 97 true 1000"),
        # print and printf
        ('{{ print "a" 1 2 "b" }}', None, "a1 2b"),
        (
            '{{ printf "%d|%5s|%-3d|%q|%v|%t|%.2f|%x" 7 "ab" 1 "q" .L true 3.14159 255 }}',
            {"L": [1, "a"]},
            '7|   ab|1  |"q"|[1 a]|true|3.14|ff',
        ),
        ('{{ printf "%s %s" "a" }}', None, "a %!s(MISSING)"),
        ('{{ printf "%d" "x" }}', None, "%!d(string=x)"),
        # printing values as Go does
        (
            "{{ .M }} {{ .L }} {{ .N }} {{ .F }} {{ .B }}",
            {"M": {"b": 1, "a": "x"}, "L": [1, [2]], "N": None, "F": 1e6, "B": False},
            "map[a:x b:1] [1 [2]] <no value> 1e+06 false",
        ),
        ("{{ . }}", MSG, "{user hi}"),
        # html, js, urlquery
        ('{{ html "<a href=\\"x\\">&</a>" }}', None, "&lt;a href=&#34;x&#34;&gt;&amp;&lt;/a&gt;"),
        ('{{ urlquery "a b&c" }}', None, "a+b%26c"),
        ('{{ js "it\'s <b>" }}', None, "it\\'s \\u003Cb\\u003E"),
        # define / template / block
        ('{{ define "t" }}[{{ . }}]{{ end }}{{ template "t" .X }}', {"X": 1}, "[1]"),
        ('{{ block "b" .X }}<{{ . }}>{{ end }}', {"X": 2}, "<2>"),
    ],
)
def test_render(src: str, data: Any, expected: str) -> None:
    assert render(src, data) == expected


@pytest.mark.parametrize(
    ("src", "message"),
    [
        ("{{ .Prompt ", "unclosed action"),
        ("{{1else", "unclosed action"),  # a number running into the end of the source
        ("{{ if .X }}x", "unexpected EOF"),
        ("{{ end }}", "unexpected {{end}}"),
        ("{{ else }}", "unexpected {{else}}"),
        ("{{ nosuch 1 }}", 'function "nosuch" not defined'),
        ("{{ $x }}", 'undefined variable "$x"'),
        ("{{ break }}", "{{break}} outside {{range}}"),
        ("{{ range .L }}{{ end }}{{ continue }}", "{{continue}} outside {{range}}"),
        ("{{ }}", "missing value for command"),
        ('{{ "a" | "b" }}', "non executable command in pipeline stage 2"),
        ("{{/* open }}", "unclosed comment"),
        ('{{ "abc }}', "unterminated quoted string"),
        ("{{ range .L }}{{ else if .X }}{{ end }}", "unexpected <if> in else"),
        ("line1\n{{ .A ! }}", "template: :2: unrecognized character in action: '!'"),
    ],
)
def test_parse_errors(src: str, message: str) -> None:
    with pytest.raises(TemplateError, match="template: ") as err:
        parse(src, set(FUNCS) | SHORT_CIRCUIT)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("src", "data", "message"),
    [
        ('{{ eq 1 "a" }}', None, "error calling eq: incompatible types for comparison"),
        ("{{ lt .A 1 }}", {"A": None}, "error calling lt: invalid type for comparison"),
        ("{{ index .L 5 }}", {"L": [1]}, "error calling index: index out of range: 5"),
        ("{{ slice .L 2 1 }}", {"L": [1, 2]}, "error calling slice: invalid slice index: 2 > 1"),
        ("{{ len 3 }}", None, "error calling len: len of type int"),
        ("{{ .Nope }}", MSG, "can't evaluate field Nope in type Message"),
        ("{{ .S.X }}", {"S": "str"}, "can't evaluate field X in type string"),
        ("{{ range .S }}{{ end }}", {"S": "str"}, "range can't iterate over str"),
        ("{{ 1 2 }}", None, "can't give argument to non-function 1"),
        ("{{ nil }}", None, "nil is not a command"),
    ],
)
def test_execution_errors(src: str, data: Any, message: str) -> None:
    with pytest.raises(TemplateError) as err:
        render(src, data)
    assert message in str(err.value)


def test_template_error_is_a_400() -> None:
    with pytest.raises(TemplateError) as err:
        parse("{{ .Prompt ", set(FUNCS))
    assert err.value.status_code == 400
    assert str(err.value) == "template: :1: unclosed action"
