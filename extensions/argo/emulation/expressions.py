"""Argo's DAG ``depends`` expressions: ``A``, ``A.Succeeded``, ``!``, ``&&``, ``||`` and parentheses.

A bare ``A`` means ``(A.Succeeded || A.Skipped || A.Daemoned)`` (Argo's ancestry.go). Results of a
task are read from its node: ``Succeeded``, ``Failed``, ``Errored``, ``Skipped``, ``Omitted``,
``Daemoned``, and for a loop (TaskGroup) ``AnySucceeded`` / ``AllFailed`` over its children.
"""

from __future__ import annotations

import re
from typing import Callable

# ancestry.go: taskNameRegex finds the task names, ValidateTaskResults the results a task may be tested for
# (the last two only for a loop's TaskGroup)
_TOKEN = re.compile(r"\s*(\|\||&&|!|\(|\)|[a-zA-Z0-9][-a-zA-Z0-9]*(?:\.[A-Za-z]+)?)")
RESULTS = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed")
ITEM_RESULTS = ("AnySucceeded", "AllFailed")


class ExpressionError(ValueError):
    pass


def scan(expression: str) -> tuple[list[str], str]:
    """The tokens of a depends expression (``||``, ``&&``, ``!``, parentheses, ``task`` or ``task.Result``)
    up to the first text that is none of them, and that text ('' when every character was read)."""
    out, pos = [], 0
    while pos < len(expression):
        match = _TOKEN.match(expression, pos)
        if not match:
            return out, expression[pos:]
        out.append(match.group(1))
        pos = match.end()
    return out, ""


def tokens(expression: str) -> list[str]:
    text = expression.strip()
    out, rest = scan(text)
    if rest:
        raise ExpressionError(f"cannot parse depends '{expression}' at '{rest}'")
    return out


def referenced_tasks(expression: str) -> list[str]:
    return list(dict.fromkeys(t.split(".")[0] for t in tokens(expression) if t not in ("||", "&&", "!", "(", ")")))


def evaluate(expression: str, result: Callable[[str, str], bool]) -> bool:
    """Evaluate with ``result(task, what)`` answering e.g. ``("a", "Succeeded")``. Recursive descent."""
    toks = tokens(expression)
    pos = 0

    def peek():
        return toks[pos] if pos < len(toks) else None

    def take():
        nonlocal pos
        pos += 1
        return toks[pos - 1]

    def parse_or():
        value = parse_and()
        while peek() == "||":
            take()
            rhs = parse_and()
            value = value or rhs
        return value

    def parse_and():
        value = parse_not()
        while peek() == "&&":
            take()
            rhs = parse_not()
            value = value and rhs
        return value

    def parse_not():
        if peek() == "!":
            take()
            return not parse_not()
        return parse_atom()

    def parse_atom():
        tok = peek()
        if tok is None:
            raise ExpressionError(f"depends '{expression}' ends too early")
        take()
        if tok == "(":
            value = parse_or()
            if peek() != ")":
                raise ExpressionError(f"unbalanced parentheses in depends '{expression}'")
            take()
            return value
        if tok in ("||", "&&", ")"):
            raise ExpressionError(f"unexpected '{tok}' in depends '{expression}'")
        task, _, what = tok.partition(".")
        if not what:
            return result(task, "Succeeded") or result(task, "Skipped") or result(task, "Daemoned")
        if what not in RESULTS:
            raise ExpressionError(f"unknown result '{what}' in depends '{expression}'")
        return result(task, what)

    value = parse_or()
    if pos != len(toks):
        raise ExpressionError(f"unexpected '{toks[pos]}' in depends '{expression}'")
    return value
