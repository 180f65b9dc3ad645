"""Tokens of Go's `text/template`, as `text/template/parse/lex.go` produces them.

The lexer splits a template into text and the inside of `{{ }}` actions. It applies the two trim
markers itself (`{{- ` drops the whitespace before an action, ` -}}` the whitespace after it) and
drops comments, so the parser only sees text, delimiters and action tokens.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pollama.prompt.gotemplate.errors import TemplateError

LEFT = "{{"
RIGHT = "}}"
SPACE_CHARS = " \t\r\n"

KEYWORDS = frozenset(
    {"block", "break", "continue", "define", "else", "end", "if", "range", "template", "with"}
)


class Kind(enum.Enum):
    TEXT = "text"
    LEFT = "{{"
    RIGHT = "}}"
    SPACE = "space"
    FIELD = "field"  # .Name
    VARIABLE = "variable"  # $ or $name
    DOT = "."
    IDENT = "identifier"  # a function name
    KEYWORD = "keyword"
    BOOL = "bool"
    NIL = "nil"
    NUMBER = "number"
    STRING = "string"  # the raw source text, quotes included
    RAW_STRING = "raw string"
    CHAR = "char"
    PIPE = "|"
    LPAREN = "("
    RPAREN = ")"
    DECLARE = ":="
    ASSIGN = "="
    COMMA = ","
    EOF = "EOF"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    value: str
    line: int

    def __str__(self) -> str:
        if self.kind is Kind.EOF:
            return "EOF"
        return f"<{self.value}>" if self.kind is not Kind.TEXT else repr(self.value)


def _is_space(ch: str) -> bool:
    return ch != "" and ch in SPACE_CHARS


def _is_alnum(ch: str) -> bool:
    return ch == "_" or ch.isalnum()


class _Lexer:
    """One pass over the source; `tokens` is filled as it goes."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.pos = 0
        self.tokens: list[Token] = []
        self.trim_next_text = False

    def line_at(self, pos: int) -> int:
        return self.src.count("\n", 0, pos) + 1

    def emit(self, kind: Kind, start: int) -> None:
        self.tokens.append(Token(kind, self.src[start : self.pos], self.line_at(start)))

    def error(self, msg: str) -> TemplateError:
        return TemplateError(msg, self.line_at(self.pos))

    def run(self) -> list[Token]:
        while self.pos < len(self.src):
            self.lex_text()
            if self.pos < len(self.src):
                self.lex_action()
        self.tokens.append(Token(Kind.EOF, "", self.line_at(self.pos)))
        return self.tokens

    def lex_text(self) -> None:
        end = self.src.find(LEFT, self.pos)
        end = len(self.src) if end < 0 else end
        text = self.src[self.pos : end]
        trim_left = self.src.startswith("-", end + 2) and _is_space(self.src[end + 3 : end + 4])
        if self.trim_next_text:
            text = text.lstrip(SPACE_CHARS)
            self.trim_next_text = False
        if end < len(self.src) and trim_left:
            text = text.rstrip(SPACE_CHARS)
        if text:
            self.tokens.append(Token(Kind.TEXT, text, self.line_at(self.pos)))
        self.pos = end

    def lex_action(self) -> None:
        self.pos += len(LEFT)
        if self.src.startswith("-", self.pos) and _is_space(self.src[self.pos + 1 : self.pos + 2]):
            self.pos += 2
        self.tokens.append(Token(Kind.LEFT, LEFT, self.line_at(self.pos)))
        inner = self.pos
        while _is_space(self.peek()):
            self.pos += 1
        if self.src.startswith("/*", self.pos):
            self.lex_comment()
            return
        self.pos = inner
        while not self.at_right_delim():
            if self.pos >= len(self.src):
                raise self.error("unclosed action")
            self.lex_inside()

    def lex_comment(self) -> None:
        end = self.src.find("*/", self.pos + 2)
        if end < 0:
            raise self.error("unclosed comment")
        self.pos = end + 2
        if not self.at_right_delim():
            raise self.error("comment ends before closing delimiter")
        # A comment is not a node: drop the LEFT/RIGHT pair it produced.
        del self.tokens[-2:]

    def peek(self, offset: int = 0) -> str:
        return self.src[self.pos + offset : self.pos + offset + 1]

    def at_right_delim(self) -> bool:
        """Consume `}}` or ` -}}` (emitting RIGHT) if the lexer stands on one."""
        if (
            _is_space(self.peek())
            and self.peek(1) == "-"
            and self.src.startswith(RIGHT, self.pos + 2)
        ):
            self.pos += 2 + len(RIGHT)
            self.trim_next_text = True
        elif self.src.startswith(RIGHT, self.pos):
            self.pos += len(RIGHT)
        else:
            return False
        self.tokens.append(Token(Kind.RIGHT, RIGHT, self.line_at(self.pos)))
        return True

    def lex_inside(self) -> None:
        start = self.pos
        ch = self.peek()
        if _is_space(ch):
            # Stop before the space of a " -}}", which at_right_delim consumes.
            while _is_space(self.peek()) and not self.right_trim_ahead():
                self.pos += 1
            self.emit(Kind.SPACE, start)
        elif ch == ":":
            if self.peek(1) != "=":
                raise self.error("expected :=")
            self.pos += 2
            self.emit(Kind.DECLARE, start)
        elif ch in "=|(),":
            self.pos += 1
            kinds = {"=": Kind.ASSIGN, "|": Kind.PIPE, "(": Kind.LPAREN, ")": Kind.RPAREN}
            self.emit(kinds.get(ch, Kind.COMMA), start)
        elif ch == '"':
            self.lex_quote('"', Kind.STRING, "unterminated quoted string")
        elif ch == "'":
            self.lex_quote("'", Kind.CHAR, "unterminated character constant")
        elif ch == "`":
            end = self.src.find("`", self.pos + 1)
            if end < 0:
                raise self.error("unterminated raw quoted string")
            self.pos = end + 1
            self.emit(Kind.RAW_STRING, start)
        elif ch == "$":
            self.pos += 1
            self.lex_word(Kind.VARIABLE, start)
        elif ch == ".":
            if self.peek(1).isdigit():
                self.lex_number(start)
            else:
                self.pos += 1
                if _is_alnum(self.peek()):
                    self.lex_word(Kind.FIELD, start)
                else:
                    self.emit(Kind.DOT, start)
        elif ch.isdigit() or (ch in "+-" and (self.peek(1).isdigit() or self.peek(1) == ".")):
            self.lex_number(start)
        elif _is_alnum(ch):
            self.lex_identifier(start)
        else:
            raise self.error(f"unrecognized character in action: {ch!r}")

    def right_trim_ahead(self) -> bool:
        return self.peek(1) == "-" and self.src.startswith(RIGHT, self.pos + 2)

    def lex_quote(self, quote: str, kind: Kind, unterminated: str) -> None:
        start = self.pos
        self.pos += 1
        while True:
            ch = self.peek()
            if ch in ("", "\n"):
                raise self.error(unterminated)
            self.pos += 1
            if ch == "\\":
                self.pos += 1
            elif ch == quote:
                break
        self.emit(kind, start)

    def lex_word(self, kind: Kind, start: int) -> None:
        while _is_alnum(self.peek()):
            self.pos += 1
        self.emit(kind, start)

    def lex_number(self, start: int) -> None:
        self.pos += 1
        while (
            _is_alnum(self.peek())
            or self.peek() == "."
            or (self.peek() in ("+", "-") and self.src[self.pos - 1] in "eEpP")
        ):
            self.pos += 1
        self.emit(Kind.NUMBER, start)

    def lex_identifier(self, start: int) -> None:
        while _is_alnum(self.peek()):
            self.pos += 1
        word = self.src[start : self.pos]
        if word in KEYWORDS:
            kind = Kind.KEYWORD
        elif word in ("true", "false"):
            kind = Kind.BOOL
        elif word == "nil":
            kind = Kind.NIL
        else:
            kind = Kind.IDENT
        self.emit(kind, start)


def lex(src: str) -> list[Token]:
    """All tokens of `src`, ending with EOF. Raises `TemplateError` on malformed actions."""
    return _Lexer(src).run()
