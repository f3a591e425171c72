"""``retryStrategy.expression``: the part of Argo's expression language (expr-lang, with Argo's ``asInt`` and
``asFloat``: util/expr/env/env.go GetFuncMap) that retry expressions use.

Evaluated over ``retries`` and ``lastRetry.exitCode|status|duration|message`` (all strings). Understood: string,
number, boolean and list literals; ``!``/``not``, ``&&``/``and``, ``||``/``or``; ``== != < <= > >=``; ``+ - * /
%``; ``in``, ``not in``, ``matches``, ``contains``, ``startsWith``, ``endsWith``; parentheses; the functions
``asInt``, ``int``, ``asFloat``, ``float``, ``string``, ``len``, ``lower``, ``upper``. Anything else (``sprig``,
``jsonpath``, ternaries, ...) is refused in one line rather than guessed.
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r"""\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
                    r"""|(?P<op>&&|\|\||==|!=|<=|>=|[-+*/%<>!()\[\],.])|(?P<name>[A-Za-z_][A-Za-z0-9_]*))""")
_WORDS = {"and": "&&", "or": "||", "not": "!"}
_FUNCTIONS = {"asInt": "int", "int": "int", "asFloat": "float", "float": "float", "string": "string", "len": "len",
              "lower": "lower", "upper": "upper"}
_LEVELS = [("||",), ("&&",), ("==", "!=", "<", "<=", ">", ">=", "in", "not in", "matches", "contains", "startsWith",
                               "endsWith"), ("+", "-"), ("*", "/", "%")]


class ExprError(ValueError):
    """The expression cannot be evaluated (one line, naming the expression)."""


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text.rstrip()):
        match = _TOKEN.match(text, pos)
        if not match:
            raise ExprError(f"cannot parse at '{text[pos:].strip()}'")
        token = match.group(match.lastgroup)
        out.append(("\0" + token) if match.lastgroup in ("str", "num") else _WORDS.get(token, token))
        pos = match.end()
    return out


def _convert(kind: str, value: Any) -> Any:
    try:
        if kind == "int":
            return int(value) if not isinstance(value, str) else int(value.strip())
        if kind == "float":
            return float(value)
    except ValueError:
        raise ExprError(f"{kind}({value!r}): not a number") from None
    if kind == "string":
        return value if isinstance(value, str) else str(value)
    if kind == "len":
        return len(value)
    return value.lower() if kind == "lower" else value.upper()


def _binary(op: str, a: Any, b: Any) -> Any:
    if op in ("==", "!="):
        same = type(a) is type(b) or {type(a), type(b)} <= {int, float}
        return (same and a == b) == (op == "==")
    if op in ("in", "not in"):
        if not isinstance(b, (list, str)):
            raise ExprError(f"'{op}' needs a list or a string on its right")
        return (a in b) == (op == "in")
    if op in ("matches", "contains", "startsWith", "endsWith"):
        if not (isinstance(a, str) and isinstance(b, str)):
            raise ExprError(f"'{op}' needs strings")
        return {"matches": lambda: re.search(b, a) is not None, "contains": lambda: b in a,
                "startsWith": lambda: a.startswith(b), "endsWith": lambda: a.endswith(b)}[op]()
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))
    strings = isinstance(a, str) and isinstance(b, str)
    if not (numbers or (strings and op in ("<", "<=", ">", ">=", "+"))):
        raise ExprError(f"invalid operation: {type(a).__name__} {op} {type(b).__name__} (the lastRetry variables are "
                        f"strings: convert with asInt or asFloat)")
    if op in ("/", "%") and b == 0:
        raise ExprError("division by zero")
    return {"<": lambda: a < b, "<=": lambda: a <= b, ">": lambda: a > b, ">=": lambda: a >= b, "+": lambda: a + b,
            "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b, "%": lambda: a % b}[op]()


def evaluate_retry(expression: str, scope: dict[str, str]) -> bool:
    """Evaluate ``expression`` over ``scope`` (``lastRetry.status`` etc.); its value must be a boolean."""
    try:
        value = _Parser(_tokens(expression), scope).parse()
    except ExprError as exc:
        raise ExprError(f"retryStrategy.expression '{expression}': {exc}") from None
    if not isinstance(value, bool):
        raise ExprError(f"retryStrategy.expression '{expression}' gives {value!r}, not a boolean")
    return value


class _Parser:
    def __init__(self, tokens: list[str], scope: dict[str, str]) -> None:
        self.tokens, self.pos, self.scope = tokens, 0, scope

    def peek(self, ahead: int = 0) -> str | None:
        return self.tokens[self.pos + ahead] if self.pos + ahead < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise ExprError(f"expected '{expected or 'more'}' at {'the end' if token is None else repr(token)}")
        self.pos += 1
        return token

    def parse(self) -> Any:
        value = self.level(0)
        if self.peek() is not None:
            raise ExprError(f"unexpected '{self.peek().lstrip(chr(0))}' (not emulated)")
        return value

    def operator(self, level: int) -> str | None:
        token = self.peek()
        if token == "!" and self.peek(1) == "in" and "not in" in _LEVELS[level]:
            return "not in"
        return token if token in _LEVELS[level] else None

    def level(self, level: int) -> Any:
        if level == len(_LEVELS):
            return self.unary()
        value = self.level(level + 1)
        while (op := self.operator(level)) is not None:
            self.pos += 2 if op == "not in" else 1
            right = self.level(level + 1)
            if op in ("&&", "||"):
                if not (isinstance(value, bool) and isinstance(right, bool)):
                    raise ExprError(f"'{op}' needs booleans")
                value = (value and right) if op == "&&" else (value or right)
            else:
                value = _binary(op, value, right)
        return value

    def unary(self) -> Any:
        if self.peek() in ("!", "-"):
            op = self.take()
            value = self.unary()
            if op == "!" and not isinstance(value, bool):
                raise ExprError("'!' needs a boolean")
            return (not value) if op == "!" else _binary("-", 0, value)
        return self.primary()

    def primary(self) -> Any:
        token = self.take()
        if token.startswith("\0"):
            text = token[1:]
            if text[0] in "\"'":
                return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text[1:-1])
            return float(text) if "." in text else int(text)
        if token == "(":
            value = self.level(0)
            self.take(")")
            return value
        if token == "[":
            items = []
            while self.peek() != "]":
                items.append(self.level(0))
                if self.peek() != "]":
                    self.take(",")
            self.take("]")
            return items
        if token in ("true", "false"):
            return token == "true"
        if token in _FUNCTIONS and self.peek() == "(":
            self.take("(")
            argument = self.level(0)
            self.take(")")
            return _convert(_FUNCTIONS[token], argument)
        name = token
        while self.peek() == "." and self.peek(1) is not None and re.fullmatch(r"[A-Za-z_]\w*", self.peek(1)):
            self.pos += 1
            name += "." + self.take()
        if name not in self.scope:
            raise ExprError(f"'{name}' is not emulated (retries and lastRetry.exitCode, .status, .duration, "
                            f".message are)")
        return self.scope[name]
