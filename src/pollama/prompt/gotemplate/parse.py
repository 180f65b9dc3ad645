"""Go `text/template` parser: tokens into the node tree of `nodes.py`.

It follows `text/template/parse/parse.go` closely, including its parse-time checks (undefined
functions and variables, `{{break}}` outside `{{range}}`, missing `{{end}}`), so that a template
Go rejects is rejected here too, with a message worded the same way.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from pollama.prompt.gotemplate import nodes as n
from pollama.prompt.gotemplate.errors import TemplateError
from pollama.prompt.gotemplate.lexer import Kind, Token, lex
from pollama.prompt.gotemplate.literals import parse_number, unquote

_OPERAND_START = frozenset(
    {
        Kind.BOOL,
        Kind.CHAR,
        Kind.DOT,
        Kind.FIELD,
        Kind.IDENT,
        Kind.NUMBER,
        Kind.NIL,
        Kind.RAW_STRING,
        Kind.STRING,
        Kind.VARIABLE,
        Kind.LPAREN,
    }
)


@dataclass
class _End:
    """`{{end}}`, returned by item_list to the control structure it closes."""

    line: int


@dataclass
class _Else:
    """`{{else}}`; `chained` is "if" or "with" for `{{else if ...}}` / `{{else with ...}}`."""

    line: int
    chained: str | None


@dataclass
class Tree:
    """A parsed template: the root list and the `{{define}}`d templates beside it."""

    root: n.ListNode
    defs: dict[str, n.ListNode] = field(default_factory=dict)


class _Parser:
    def __init__(self, src: str, funcs: Collection[str]) -> None:
        self.tokens = lex(src)
        self.pos = 0
        self.funcs = funcs
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.defs: dict[str, n.ListNode] = {}

    # --- token stream -----------------------------------------------------------------

    def next(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind is not Kind.EOF:
            self.pos += 1
        return tok

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def next_non_space(self) -> Token:
        tok = self.next()
        while tok.kind is Kind.SPACE:
            tok = self.next()
        return tok

    def peek_non_space(self) -> Token:
        save = self.pos
        tok = self.next_non_space()
        self.pos = save
        return tok

    def error(self, msg: str, tok: Token | None = None) -> TemplateError:
        return TemplateError(msg, (tok or self.peek()).line)

    def unexpected(self, tok: Token, context: str) -> TemplateError:
        if tok.kind is Kind.EOF:
            return self.error(f"unclosed action in {context}" if context else "unexpected EOF", tok)
        return self.error(f"unexpected {tok} in {context}", tok)

    def expect(self, kind: Kind, context: str) -> Token:
        tok = self.next_non_space()
        if tok.kind is not kind:
            raise self.unexpected(tok, context)
        return tok

    # --- lists and actions ------------------------------------------------------------

    def parse(self) -> Tree:
        root = n.ListNode(1)
        while self.peek().kind is not Kind.EOF:
            if self.peek().kind is Kind.LEFT and self._at_define():
                continue
            node = self.text_or_action()
            if isinstance(node, (_End, _Else)):
                name = "{{end}}" if isinstance(node, _End) else "{{else}}"
                raise TemplateError(f"unexpected {name}", node.line)
            root.nodes.append(node)
        return Tree(root, self.defs)

    def _at_define(self) -> bool:
        save = self.pos
        self.next()
        tok = self.next_non_space()
        if tok.kind is Kind.KEYWORD and tok.value == "define":
            name = self._template_name("define clause")
            self.expect(Kind.RIGHT, "define clause")
            body, end = self.item_list()
            if not isinstance(end, _End):
                raise TemplateError("unexpected {{else}} in define clause", end.line)
            self.defs[name] = body
            return True
        self.pos = save
        return False

    def item_list(self) -> tuple[n.ListNode, _End | _Else]:
        out = n.ListNode(self.peek().line)
        while self.peek_non_space().kind is not Kind.EOF:
            node = self.text_or_action()
            if isinstance(node, (_End, _Else)):
                return out, node
            out.nodes.append(node)
        raise self.error("unexpected EOF")

    def text_or_action(self) -> n.Node | _End | _Else:
        tok = self.next_non_space()
        if tok.kind is Kind.TEXT:
            return n.TextNode(tok.line, tok.value)
        if tok.kind is Kind.LEFT:
            return self.action()
        raise self.unexpected(tok, "input")

    def action(self) -> n.Node | _End | _Else:
        save = self.pos
        tok = self.next_non_space()
        if tok.kind is Kind.KEYWORD:
            return self._keyword(tok)
        self.pos = save
        pipe = self.pipeline("command", Kind.RIGHT)
        return n.ActionNode(tok.line, pipe)

    def _keyword(self, tok: Token) -> n.Node | _End | _Else:
        word = tok.value
        if word == "end":
            self.expect(Kind.RIGHT, "end")
            return _End(tok.line)
        if word == "else":
            peek = self.peek_non_space()
            if peek.kind is Kind.KEYWORD and peek.value in ("if", "with"):
                return _Else(tok.line, peek.value)
            self.expect(Kind.RIGHT, "else")
            return _Else(tok.line, None)
        if word in ("if", "range", "with"):
            return self.control(word, tok.line)
        if word in ("break", "continue"):
            if self.range_depth == 0:
                raise self.error(f"{{{{{word}}}}} outside {{{{range}}}}", tok)
            self.expect(Kind.RIGHT, word)
            return n.BreakNode(tok.line) if word == "break" else n.ContinueNode(tok.line)
        if word in ("template", "block"):
            return self.template_control(word, tok.line)
        raise self.error(f"unexpected <{word}>", tok)

    def control(self, context: str, line: int) -> n.BranchNode:
        mark = len(self.vars)
        try:
            pipe = self.pipeline(context, Kind.RIGHT)
            self.range_depth += context == "range"
            body, end = self.item_list()
            self.range_depth -= context == "range"
            else_list = None
            if isinstance(end, _Else):
                else_list = self._else_list(context, end)
        finally:
            del self.vars[mark:]
        kind = {"if": n.IfNode, "range": n.RangeNode, "with": n.WithNode}[context]
        return kind(line, pipe, body, else_list)

    def _else_list(self, context: str, marker: _Else) -> n.ListNode:
        if marker.chained is not None:
            if marker.chained != context:
                raise TemplateError(f"unexpected <{marker.chained}> in else", marker.line)
            self.next_non_space()  # the chained "if"/"with", which shares our {{end}}
            return n.ListNode(marker.line, [self.control(context, marker.line)])
        body, end = self.item_list()
        if not isinstance(end, _End):
            raise TemplateError("expected end; found {{else}}", end.line)
        return body

    def template_control(self, word: str, line: int) -> n.TemplateNode:
        name = self._template_name(f"{word} clause")
        pipe = None
        if self.peek_non_space().kind is not Kind.RIGHT:
            pipe = self.pipeline(f"{word} clause", Kind.RIGHT)
        else:
            self.next_non_space()
        if word == "block":
            body, end = self.item_list()
            if not isinstance(end, _End):
                raise TemplateError("unexpected {{else}} in block clause", end.line)
            self.defs[name] = body
        return n.TemplateNode(line, name, pipe)

    def _template_name(self, context: str) -> str:
        tok = self.next_non_space()
        if tok.kind not in (Kind.STRING, Kind.RAW_STRING):
            raise self.unexpected(tok, context)
        return unquote(tok.value, tok.line)

    # --- pipelines --------------------------------------------------------------------

    def pipeline(self, context: str, end: Kind) -> n.PipeNode:
        pipe = n.PipeNode(self.peek_non_space().line, [], [])
        self._declarations(pipe, context)
        while True:
            save = self.pos
            tok = self.next_non_space()
            if tok.kind is end:
                self._check_pipeline(pipe, context, tok)
                return pipe
            if tok.kind not in _OPERAND_START:
                raise self.unexpected(tok, context)
            self.pos = save
            pipe.cmds.append(self.command())

    def _declarations(self, pipe: n.PipeNode, context: str) -> None:
        while self.peek_non_space().kind is Kind.VARIABLE:
            save = self.pos
            var = self.next_non_space()
            after = self.peek_non_space()
            if after.kind in (Kind.DECLARE, Kind.ASSIGN):
                self.next_non_space()
                pipe.is_assign = after.kind is Kind.ASSIGN
                pipe.decl.append(var.value)
                self.vars.append(var.value)
                return
            if after.kind is Kind.COMMA:
                self.next_non_space()
                pipe.decl.append(var.value)
                self.vars.append(var.value)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().kind is not Kind.VARIABLE:
                        raise self.error("range can only initialize variables")
                    continue
                raise self.error(f"too many declarations in {context}")
            self.pos = save
            return

    def _check_pipeline(self, pipe: n.PipeNode, context: str, tok: Token) -> None:
        if not pipe.cmds:
            raise self.error(f"missing value for {context}", tok)
        for i, cmd in enumerate(pipe.cmds[1:], start=1):
            if isinstance(cmd.args[0], (n.LiteralNode, n.DotNode, n.NilNode)):
                raise self.error(f"non executable command in pipeline stage {i + 1}", tok)

    def command(self) -> n.CommandNode:
        cmd = n.CommandNode(self.peek_non_space().line, [])
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            tok = self.next()
            if tok.kind is Kind.SPACE:
                continue
            if tok.kind in (Kind.RIGHT, Kind.RPAREN):
                self.pos -= 1  # left for pipeline() to consume
            elif tok.kind is not Kind.PIPE:
                raise self.unexpected(tok, "operand")
            break
        if not cmd.args:
            raise self.error("empty command")
        return cmd

    def operand(self) -> n.Node | None:
        node = self.term()
        if node is None or self.peek().kind is not Kind.FIELD:
            return node
        fields: list[str] = []
        while self.peek().kind is Kind.FIELD:
            fields.append(self.next().value[1:])
        if isinstance(node, n.FieldNode):
            return n.FieldNode(node.line, node.idents + fields)
        if isinstance(node, n.VariableNode):
            return n.VariableNode(node.line, node.idents + fields)
        if isinstance(node, (n.LiteralNode, n.NilNode, n.DotNode)):
            raise self.error(f"unexpected . after term {str(node)!r}")
        return n.ChainNode(node.line, node, fields)

    def term(self) -> n.Node | None:
        save = self.pos
        tok = self.next_non_space()
        kind, line = tok.kind, tok.line
        if kind is Kind.IDENT:
            if tok.value not in self.funcs:
                raise self.error(f'function "{tok.value}" not defined', tok)
            return n.IdentifierNode(line, tok.value)
        if kind is Kind.DOT:
            return n.DotNode(line)
        if kind is Kind.NIL:
            return n.NilNode(line)
        if kind is Kind.VARIABLE:
            if tok.value not in self.vars:
                raise self.error(f'undefined variable "{tok.value}"', tok)
            return n.VariableNode(line, [tok.value])
        if kind is Kind.FIELD:
            return n.FieldNode(line, [tok.value[1:]])
        if kind is Kind.BOOL:
            return n.LiteralNode(line, tok.value == "true", tok.value)
        if kind in (Kind.NUMBER, Kind.CHAR):
            return n.LiteralNode(line, parse_number(tok.value, line), tok.value)
        if kind in (Kind.STRING, Kind.RAW_STRING):
            return n.LiteralNode(line, unquote(tok.value, line), tok.value)
        if kind is Kind.LPAREN:
            return self.pipeline("parenthesized pipeline", Kind.RPAREN)
        self.pos = save
        return None


def parse(src: str, funcs: Collection[str]) -> Tree:
    """Parse `src`; `funcs` names the functions the template may call."""
    try:
        return _Parser(src, funcs).parse()
    except RecursionError:
        raise TemplateError("template nests too deeply") from None
