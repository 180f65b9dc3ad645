"""The parse tree of a Go template, shaped like `text/template/parse`'s nodes.

Ollama inspects this tree (which identifiers a template uses, the text after `.ToolCalls`, the
nodes after `.Response`), so the node kinds mirror Go's rather than a compiled form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Node:
    line: int


@dataclass
class TextNode(Node):
    text: str


@dataclass
class FieldNode(Node):
    """`.A.B`: a field chain on dot."""

    idents: list[str]

    def __str__(self) -> str:
        return "." + ".".join(self.idents)


@dataclass
class VariableNode(Node):
    """`$x.A.B`: the first ident is the variable's name, `$` included."""

    idents: list[str]

    def __str__(self) -> str:
        return ".".join(self.idents)


@dataclass
class ChainNode(Node):
    """`(pipeline).A.B` or a field chain on any other operand."""

    node: Node
    fields: list[str]

    def __str__(self) -> str:
        return f"{self.node}." + ".".join(self.fields)


@dataclass
class DotNode(Node):
    def __str__(self) -> str:
        return "."


@dataclass
class NilNode(Node):
    def __str__(self) -> str:
        return "nil"


@dataclass
class IdentifierNode(Node):
    """A function name."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass
class LiteralNode(Node):
    """A bool, number or string constant, with the text it was written as."""

    value: Any
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class CommandNode(Node):
    args: list[Node]

    def __str__(self) -> str:
        return " ".join(str(a) for a in self.args)


@dataclass
class PipeNode(Node):
    """`$a, $b := cmd | cmd`; `is_assign` is true for `=` rather than `:=`."""

    decl: list[str]
    cmds: list[CommandNode]
    is_assign: bool = False

    def __str__(self) -> str:
        body = " | ".join(str(c) for c in self.cmds)
        if not self.decl:
            return body
        op = "=" if self.is_assign else ":="
        return f"{', '.join(self.decl)} {op} {body}"


@dataclass
class ListNode(Node):
    nodes: list[Node] = field(default_factory=list)


@dataclass
class ActionNode(Node):
    pipe: PipeNode


@dataclass
class BranchNode(Node):
    """The shape shared by `if`, `range` and `with`."""

    pipe: PipeNode
    list: ListNode
    else_list: ListNode | None


@dataclass
class IfNode(BranchNode):
    pass


@dataclass
class RangeNode(BranchNode):
    pass


@dataclass
class WithNode(BranchNode):
    pass


@dataclass
class BreakNode(Node):
    pass


@dataclass
class ContinueNode(Node):
    pass


@dataclass
class TemplateNode(Node):
    """`{{template "name" pipeline}}`."""

    name: str
    pipe: PipeNode | None
