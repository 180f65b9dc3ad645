"""What Ollama reads off a Go template's parse tree rather than by running it.

- `identifiers`: the fields and variables it mentions (`Template.Vars`), which decide the
  capabilities (`tools`, `insert`) and the rendering path (`.Messages` or legacy).
- `cut_after_response`: the tree with everything after `{{ .Response }}` deleted
  (`deleteNode`), used for the last turn of the legacy path.
- `tool_call_tag`: the text that opens a tool call (`tools.parseTag`).
- `thinking_tags`: the tags around `.Thinking` (`thinking.InferTags`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

from pollama.prompt.gotemplate import TemplateError
from pollama.prompt.gotemplate import nodes as n


def identifiers(node: n.Node | None) -> list[str]:
    """Every field and variable identifier under `node`, as Ollama's `Identifiers` collects."""
    if isinstance(node, n.ListNode):
        return [name for child in node.nodes for name in identifiers(child)]
    if isinstance(node, n.TemplateNode):
        if node.pipe is None:
            raise TemplateError("undefined template specified")
        return identifiers(node.pipe)
    if isinstance(node, n.ActionNode):
        return identifiers(node.pipe)
    if isinstance(node, n.BranchNode):
        names = identifiers(node.pipe) + identifiers(node.list)
        return names + identifiers(node.else_list)
    if isinstance(node, n.PipeNode):
        return [name for cmd in node.cmds for arg in cmd.args for name in identifiers(arg)]
    if isinstance(node, (n.FieldNode, n.VariableNode)):
        return list(node.idents)
    return []


def cut_after_response(root: n.ListNode) -> n.ListNode:
    """A copy of `root` with every node after the first `.Response` field removed."""
    root = copy.deepcopy(root)
    cut = False

    def doomed(node: n.Node) -> bool:
        nonlocal cut
        if isinstance(node, n.FieldNode) and "Response" in node.idents:
            cut = True
            return False
        return cut

    def walk(node: n.Node) -> n.Node | None:
        if doomed(node):
            return None
        if isinstance(node, n.ListNode):
            node.nodes = [c for c in map(walk, node.nodes) if c is not None]
        elif isinstance(node, n.BranchNode):
            node.list = walk(node.list) or n.ListNode(node.line)  # type: ignore[assignment]
            if node.else_list is not None:
                node.else_list = walk(node.else_list)  # type: ignore[assignment]
        elif isinstance(node, n.ActionNode):
            pipe = walk(node.pipe)
            if pipe is None:
                return None
        elif isinstance(node, n.PipeNode):
            for cmd in node.cmds:
                cmd.args = [a for a in map(walk, cmd.args) if a is not None]
                if not cmd.args:
                    return None
        return node

    return walk(root) or n.ListNode(root.line)  # type: ignore[return-value]


def _children(node: n.Node) -> list[n.ListNode]:
    if isinstance(node, n.ListNode):
        return [node]
    if isinstance(node, n.BranchNode):
        return [node.list] + ([node.else_list] if node.else_list is not None else [])
    return []


def _find_tool_call_node(nodes: list[n.Node]) -> n.IfNode | None:
    for node in nodes:
        if isinstance(node, n.IfNode) and any(
            isinstance(arg, n.FieldNode) and "ToolCalls" in arg.idents
            for cmd in node.pipe.cmds
            for arg in cmd.args
        ):
            return node
        for child in _children(node):
            found = _find_tool_call_node(child.nodes)
            if found is not None:
                return found
    return None


def _find_text_node(nodes: list[n.Node]) -> n.TextNode | None:
    for node in nodes:
        if isinstance(node, n.TextNode):
            if node.text.strip():
                return node
        elif isinstance(node, n.ActionNode):
            return None
        elif isinstance(node, (n.ListNode, n.BranchNode)):
            for child in _children(node):
                found = _find_text_node(child.nodes)
                if found is not None:
                    return found
            if isinstance(node, n.BranchNode):
                return None
    return None


def tool_call_tag(root: n.ListNode) -> str:
    """The tool-call opening tag: the first text inside `{{ if .ToolCalls }}`, up to any `{`;
    `{` itself when the template has none (bare JSON objects are then tried as calls)."""
    call_node = _find_tool_call_node(root.nodes)
    text = _find_text_node(call_node.list.nodes) if call_node else None
    if text is None:
        return "{"
    tag = text.text.replace("\r\n", "\n").split("{", 1)[0].strip()
    return tag or "{"


def _visit(node: n.Node | None, path: list[n.Node]) -> Iterator[tuple[n.Node, list[n.Node]]]:
    """Every node under `node` with its ancestors, in the order of Ollama's templateVisit."""
    if node is None:
        return
    path.append(node)
    yield node, path
    if isinstance(node, n.ListNode):
        kids: list[n.Node | None] = list(node.nodes)
    elif isinstance(node, n.BranchNode):
        kids = [node.pipe, node.list, node.else_list]
    elif isinstance(node, (n.ActionNode, n.TemplateNode)):
        kids = [node.pipe]
    elif isinstance(node, n.PipeNode):
        kids = list(node.cmds)
    elif isinstance(node, n.CommandNode):
        kids = list(node.args)
    else:
        kids = []
    for kid in kids:
        yield from _visit(kid, path)
    path.pop()


def _uses_field(node: n.Node, name: str) -> bool:
    return any(isinstance(x, n.FieldNode) and x.idents[0] == name for x, _ in _visit(node, []))


def thinking_tags(root: n.ListNode) -> tuple[str, str]:
    """The (opening, closing) tags around `.Thinking` inside a `range .Messages`, or ("", "")."""
    opening = closing = ""
    for node, path in _visit(root, []):
        if not (isinstance(node, n.FieldNode) and node.idents[0] == "Thinking"):
            continue
        ranges = [a for a in path if isinstance(a, n.RangeNode)]
        if not ranges or not _uses_field(ranges[-1].pipe, "Messages"):
            continue
        lists = [a for a in path if isinstance(a, n.ListNode)]
        if lists and lists[-1].nodes:
            first, last = lists[-1].nodes[0], lists[-1].nodes[-1]
            if isinstance(first, n.TextNode):
                opening = first.text.strip()
            if isinstance(last, n.TextNode):
                closing = last.text.strip()
    return opening, closing
