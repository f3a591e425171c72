"""docs/errors.md lists every error message the code can produce (the emulator's are in docs/emulator.md)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLACEHOLDER = "…"
# not messages a user meets: Python's own attribute error, an internal wrapper, "not implemented" guards
NOT_USER_ERRORS = {"AttributeError", "_LoadFailed", "NotImplementedError", "PydanticCustomError", "InternalError"}


def _template(node: ast.AST) -> str:
    """The message with every filled-in part as PLACEHOLDER."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else PLACEHOLDER for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _template(node.left) + _template(node.right)
    if isinstance(node, ast.Subscript):  # f"...".splitlines()[0]
        return _template(node.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return _template(node.func.value)
    return PLACEHOLDER


def messages(everything: bool = False) -> list[tuple[str, int, str]]:
    """(file, line, template) of every message; with ``everything`` the emulator's too, and those of
    ValueError and TypeError (pydantic validators' messages, which reach the user inside another's line)."""
    found = []
    files = [*sorted(REPO.glob("runnable/**/*.py")), *sorted(REPO.glob("extensions/**/*.py"))]
    for path in files:
        if "emulation" in path.parts and not everything:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", "")
            if (name.endswith("Error") and name not in NOT_USER_ERRORS
                    and name not in ("ValueError", "TypeError", "KeyError", "RuntimeError")) or name == "error" \
                    or (everything and name in ("ValueError", "TypeError")):
                found.append((str(path.relative_to(REPO)), node.lineno, _template(node.args[0])))
            elif name == "problem" and len(node.args) > 1:  # pre-flight: check.problem(field, message)
                found.append((str(path.relative_to(REPO)), node.lineno, _template(node.args[1])))
    return found


def test_every_message_is_documented():
    page = (REPO / "docs/errors.md").read_text()
    missing = []
    for file, line, template in messages():
        pieces = [p.strip() for p in template.split(PLACEHOLDER) if len(p.strip()) >= 6]
        if pieces and max(pieces, key=len) not in page:
            missing.append(f"{file}:{line}: {template}")
    assert not missing, "not in docs/errors.md:\n" + "\n".join(missing)
    assert len(messages()) > 100  # the scan finds the code's messages


def test_the_page_lists_no_message_the_code_cannot_produce():
    """Each message quoted in a table's first column still exists in the code."""
    literal_parts = {p.strip() for _, _, t in messages() for p in t.split(PLACEHOLDER) if len(p.strip()) >= 6}
    stale = []
    for row in (REPO / "docs/errors.md").read_text().splitlines():
        if not row.startswith("| `"):
            continue
        for quoted in row.split(" | ")[0].split("`")[1::2]:
            pieces = [p.strip() for p in quoted.split(PLACEHOLDER) if len(p.strip()) >= 6]
            if pieces and not any(piece in part or part in piece for piece in pieces for part in literal_parts):
                stale.append(quoted)
    assert not stale, stale
