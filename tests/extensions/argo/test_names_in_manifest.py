"""Step names with spaces, dots, unicode, great length or colliding spellings become valid, distinct,
stable Argo names."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from extensions.argo.naming import MAX_LENGTH, NameAllocator
from extensions.argo.validation import validate_workflow

from argo_support import tasks, transpile

ARGO_NAME = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")


@given(st.lists(st.text(min_size=1, max_size=200), min_size=1, max_size=30, unique=True))
def test_allocated_names_are_valid_distinct_and_stable(keys):
    first, second = NameAllocator(), NameAllocator()
    names = [first.allocate(k) for k in keys]
    assert all(ARGO_NAME.match(n) and len(n) <= MAX_LENGTH for n in names)
    assert len(set(names)) == len(names)
    assert names == [second.allocate(k) for k in keys]


def test_awkward_step_names(project):
    long_a = "a very long step name " * 8 + "one"
    long_b = "a very long step name " * 8 + "two"
    steps = ["load data", "load.data", "Load_Data", "résumé ✓", "数据", long_a, long_b]
    lines = ["dag:", f"  start_at: {steps[0]!r}", "  steps:"]
    for i, s in enumerate(steps):
        nxt = repr(steps[i + 1]) if i + 1 < len(steps) else "success"
        lines += [f"    {s!r}:", "      type: stub", f"      next: {nxt}"]
    (project / "names.yaml").write_text("\n".join(lines) + "\n")
    _, m = transpile(project, "names.yaml")
    assert validate_workflow(m) == []
    t = tasks(m)
    from runnable import names as internal

    by_step = {internal.split(task["arguments"]["parameters"][0]["value"])[0]: name
               for name, task in t.items() if name != "start"}
    assert set(by_step) == set(steps)
    assert len(set(by_step.values())) == len(steps)
    assert by_step["load data"] == "load-data" and by_step["résumé ✓"].startswith("resume")
    assert all(len(n) <= MAX_LENGTH for n in by_step.values())
    _, again = transpile(project, "names.yaml")
    assert again == m
