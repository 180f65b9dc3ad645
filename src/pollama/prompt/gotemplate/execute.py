"""Go `text/template` execution over the tree from `parse.py` (`text/template/exec.go`).

Maps are read with `missingkey=zero`, as Ollama parses its templates: a missing key is nil,
which prints as `<no value>` and is false.

A template comes with a model, so it is held to limits Go does not set: at most
`MAX_PROMPT_BYTES` of output, `TEMPLATE_TIME_S` of time (checked every few hundred nodes, so
`{{range 1000000000}}` stops too) and `MAX_TEMPLATE_DEPTH` nested `{{template}}` calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pollama import limits
from pollama.prompt.gotemplate import nodes as n
from pollama.prompt.gotemplate.errors import TemplateError
from pollama.prompt.gotemplate.functions import FuncError
from pollama.prompt.gotemplate.gotypes import Struct, is_true, sprint_value, type_name
from pollama.prompt.gotemplate.parse import Tree

_MISSING = object()  # "no final value from the pipeline", distinct from nil
_CLOCK_EVERY = 256  # nodes walked between looks at the clock


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _State:
    """One execution: the output, the variable stack and the functions in scope."""

    def __init__(self, tree: Tree, funcs: Mapping[str, Callable[..., Any]]) -> None:
        self.tree = tree
        self.funcs = funcs
        self.out: list[str] = []
        self.vars: list[tuple[str, Any]] = []
        self.node: n.Node | None = None
        self.depth = 0
        self.size = 0
        self.steps = 0
        self.deadline = time.monotonic() + limits.TEMPLATE_TIME_S

    def error(self, msg: str) -> TemplateError:
        node = self.node
        return TemplateError(msg, node.line if node else None, context=str(node or ""))

    # --- variables -------------------------------------------------------------------

    def push(self, name: str, value: Any) -> None:
        self.vars.append((name, value))

    def pop(self, mark: int) -> None:
        del self.vars[mark:]

    def set_var(self, name: str, value: Any) -> None:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                self.vars[i] = (name, value)
                return
        raise self.error(f"undefined variable: {name}")

    def set_top_var(self, depth: int, value: Any) -> None:
        self.vars[-depth] = (self.vars[-depth][0], value)

    def var_value(self, name: str) -> Any:
        for var, value in reversed(self.vars):
            if var == name:
                return value
        raise self.error(f"undefined variable: {name}")

    # --- statements ------------------------------------------------------------------

    def write(self, text: str) -> None:
        self.size += len(text)
        if self.size > limits.MAX_PROMPT_BYTES:
            raise self.error(f"output is longer than {limits.MAX_PROMPT_BYTES} bytes")
        self.out.append(text)

    def tick(self) -> None:
        self.steps += 1
        if self.steps % _CLOCK_EVERY == 0 and time.monotonic() > self.deadline:
            raise self.error(f"execution took longer than {limits.TEMPLATE_TIME_S:g} s")

    def walk(self, dot: Any, node: n.Node) -> None:
        self.node = node
        self.tick()
        if isinstance(node, n.ListNode):
            for child in node.nodes:
                self.walk(dot, child)
        elif isinstance(node, n.TextNode):
            self.write(node.text)
        elif isinstance(node, n.ActionNode):
            value = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.write("<no value>" if value is None else sprint_value(value))
        elif isinstance(node, n.RangeNode):
            self.walk_range(dot, node)
        elif isinstance(node, (n.IfNode, n.WithNode)):
            self.walk_if_or_with(dot, node)
        elif isinstance(node, n.BreakNode):
            raise _Break
        elif isinstance(node, n.ContinueNode):
            raise _Continue
        elif isinstance(node, n.TemplateNode):
            self.walk_template(dot, node)
        else:
            raise self.error(f"unknown node: {node}")

    def walk_if_or_with(self, dot: Any, node: n.BranchNode) -> None:
        mark = len(self.vars)
        try:
            value = self.eval_pipeline(dot, node.pipe)
            if is_true(value):
                self.walk(value if isinstance(node, n.WithNode) else dot, node.list)
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            self.pop(mark)

    def walk_range(self, dot: Any, node: n.RangeNode) -> None:
        mark = len(self.vars)
        try:
            value = self.eval_pipeline(dot, node.pipe)
            items = self._range_items(value)
            if items is None:
                if node.else_list is not None:
                    self.walk(dot, node.else_list)
                return
            body_mark = len(self.vars)
            for key, elem in items:
                self.tick()
                self._set_range_vars(node.pipe, key, elem)
                try:
                    self.walk(elem, node.list)
                except _Continue:
                    pass
                finally:
                    self.pop(body_mark)
        except _Break:
            pass
        finally:
            self.pop(mark)

    def _range_items(self, value: Any) -> Iterable[tuple[Any, Any]] | None:
        """(key, element) pairs to range over, or None when there are none (`{{else}}`).

        An integer is counted lazily, so a huge one costs time (which is limited), not memory.
        """
        if isinstance(value, int) and not isinstance(value, bool):
            return zip(range(value), range(value), strict=True) if value > 0 else None
        if not value and (value is None or isinstance(value, (Mapping, list, tuple))):
            return None
        if isinstance(value, Mapping):
            return [(k, value[k]) for k in sorted(value)]
        if isinstance(value, (list, tuple)):
            return list(enumerate(value))
        raise self.error(f"range can't iterate over {sprint_value(value)}")

    def _set_range_vars(self, pipe: n.PipeNode, key: Any, elem: Any) -> None:
        decl = pipe.decl
        if not decl:
            return
        if pipe.is_assign:
            self.set_var(decl[0], key if len(decl) > 1 else elem)
            if len(decl) > 1:
                self.set_var(decl[1], elem)
        else:
            self.set_top_var(1, elem)
            if len(decl) > 1:
                self.set_top_var(2, key)

    def walk_template(self, dot: Any, node: n.TemplateNode) -> None:
        body = self.tree.defs.get(node.name)
        if body is None:
            raise self.error(f'no such template "{node.name}"')
        self.depth += 1
        if self.depth > limits.MAX_TEMPLATE_DEPTH:
            raise self.error(f"exceeded maximum template depth ({limits.MAX_TEMPLATE_DEPTH})")
        new_dot = self.eval_pipeline(dot, node.pipe) if node.pipe else None
        saved, self.vars = self.vars, [("$", new_dot)]
        try:
            self.walk(new_dot, body)
        finally:
            self.vars = saved
            self.depth -= 1

    # --- expressions -----------------------------------------------------------------

    def eval_pipeline(self, dot: Any, pipe: n.PipeNode) -> Any:
        value: Any = _MISSING
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
        for name in pipe.decl:
            if pipe.is_assign:
                self.set_var(name, value)
            else:
                self.push(name, value)
        return value

    def eval_command(self, dot: Any, cmd: n.CommandNode, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, n.FieldNode):
            return self.eval_fields(dot, dot, first.idents, cmd.args, final)
        if isinstance(first, n.ChainNode):
            receiver = self.eval_arg(dot, first.node)
            return self.eval_fields(dot, receiver, first.fields, cmd.args, final)
        if isinstance(first, n.IdentifierNode):
            return self.eval_function(dot, first.name, cmd.args, final)
        if isinstance(first, n.VariableNode):
            value = self.var_value(first.idents[0])
            if len(first.idents) == 1:
                self._not_a_function(cmd.args, final)
                return value
            return self.eval_fields(dot, value, first.idents[1:], cmd.args, final)
        self._not_a_function(cmd.args, final)
        if isinstance(first, n.NilNode):
            raise self.error("nil is not a command")
        return self.eval_arg(dot, first)

    def _not_a_function(self, args: list[n.Node], final: Any) -> None:
        if len(args) > 1 or final is not _MISSING:
            raise self.error(f"can't give argument to non-function {args[0]}")

    def eval_fields(
        self, dot: Any, receiver: Any, idents: list[str], args: list[n.Node], final: Any
    ) -> Any:
        for i, name in enumerate(idents):
            last = i == len(idents) - 1
            receiver = self.eval_field(name, receiver, args if last else [], final, last)
        return receiver

    def eval_field(
        self, name: str, receiver: Any, args: list[n.Node], final: Any, last: bool
    ) -> Any:
        has_args = last and (len(args) > 1 or final is not _MISSING)
        if receiver is None:
            return None  # a nil interface yields the zero value, as Go's evalField does
        if isinstance(receiver, Struct):
            if name not in receiver.fields:
                raise self.error(f"can't evaluate field {name} in type {receiver.type_name}")
            if has_args:
                raise self.error(f"{name} has arguments but cannot be invoked as function")
            return receiver.fields[name]
        if isinstance(receiver, Mapping):
            if has_args:
                raise self.error(f"{name} is not a method but has arguments")
            return receiver.get(name)
        raise self.error(f"can't evaluate field {name} in type {type_name(receiver)}")

    def eval_function(self, dot: Any, name: str, args: list[n.Node], final: Any) -> Any:
        if name in ("and", "or"):
            return self.eval_and_or(dot, name, args[1:], final)
        func = self.funcs.get(name)
        if func is None:
            raise self.error(f'"{name}" is not a defined function')
        values = [self.eval_arg(dot, a) for a in args[1:]]
        if final is not _MISSING:
            values.append(final)
        try:
            return func(*values)
        except FuncError as exc:
            raise self.error(f"error calling {name}: {exc}") from None
        except TypeError as exc:
            raise self.error(f"wrong number of args for {name}: {exc}") from None

    def eval_and_or(self, dot: Any, name: str, args: list[n.Node], final: Any) -> Any:
        if not args and final is _MISSING:
            raise self.error(f"wrong number of args for {name}: want at least 1 got 0")
        value: Any = None
        for arg in args:
            value = self.eval_arg(dot, arg)
            if is_true(value) == (name == "or"):
                return value
        return value if final is _MISSING else final

    def eval_arg(self, dot: Any, node: n.Node) -> Any:
        self.node = node
        if isinstance(node, n.DotNode):
            return dot
        if isinstance(node, n.NilNode):
            return None
        if isinstance(node, n.LiteralNode):
            return node.value
        if isinstance(node, n.FieldNode):
            return self.eval_fields(dot, dot, node.idents, [node], _MISSING)
        if isinstance(node, n.VariableNode):
            value = self.var_value(node.idents[0])
            return self.eval_fields(dot, value, node.idents[1:], [node], _MISSING)
        if isinstance(node, n.ChainNode):
            receiver = self.eval_arg(dot, node.node)
            return self.eval_fields(dot, receiver, node.fields, [node], _MISSING)
        if isinstance(node, n.PipeNode):
            mark = len(self.vars)
            try:
                return self.eval_pipeline(dot, node)
            finally:
                self.pop(mark)
        if isinstance(node, n.IdentifierNode):
            return self.eval_function(dot, node.name, [node], _MISSING)
        raise self.error(f"can't handle {node} for arg")


def execute(tree: Tree, data: Any, funcs: Mapping[str, Callable[..., Any]]) -> str:
    """Run `tree` with `data` as dot and `$`; raises `TemplateError` on failure."""
    state = _State(tree, funcs)
    state.push("$", data)
    try:
        state.walk(data, tree.root)
    except RecursionError:
        raise state.error("template nests too deeply") from None
    return "".join(state.out)
