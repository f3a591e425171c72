"""Functions of the retry examples (examples/retry/): some steps fail until the user "fixes" them.

The fix is a file, ``fixed.marker``, in the working directory (or in ``RETRY_DEMO_DIR``): create it and
retry the failed run. Every function also appends a line to ``executed.log`` there, so a user (and the
tests) can see which steps ran in which run.
"""

from __future__ import annotations

import os
from pathlib import Path


def _here() -> Path:
    return Path(os.environ.get("RETRY_DEMO_DIR", "."))


def _ran(label: str) -> None:
    with open(_here() / "executed.log", "a") as ledger:
        ledger.write(label + "\n")


def _fragile(label: str) -> None:
    if not (_here() / "fixed.marker").exists():
        raise RuntimeError(f"{label} is broken until fixed.marker exists")


# --- sequential ------------------------------------------------------------------------------------
def extract() -> int:
    _ran("extract")
    return 100


def clean(rows: int) -> int:
    _ran("clean")
    return rows - 3


def train(clean_rows: int) -> float:
    _ran("train")
    _fragile("train")
    return clean_rows / 100


def evaluate(score: float) -> str:
    _ran("evaluate")
    return "good" if score > 0.9 else "poor"


def publish(rows: int, clean_rows: int, score: float, grade: str) -> None:
    _ran("publish")
    assert (rows, clean_rows, grade) == (100, 97, "good"), (rows, clean_rows, score, grade)
    print(f"published: {clean_rows} rows, score {score}, {grade}")


# --- parallel --------------------------------------------------------------------------------------
def steady() -> int:
    _ran("steady")
    return 1


def shaky() -> int:
    _ran("shaky")
    _fragile("shaky")
    return 2


def combine(steady_value: int, shaky_value: int) -> int:
    _ran("combine")
    return steady_value + shaky_value


# --- map -------------------------------------------------------------------------------------------
def items(count: int = 20) -> list[int]:
    _ran("items")
    return list(range(count))


def process(item: int, broken: list[int]) -> int:
    _ran(f"process {item}")
    if item in broken:
        _fragile(f"item {item}")
    return item * 10


def summarize(processed: list[int], count: int = 20) -> int:
    _ran("summarize")
    assert processed == [i * 10 for i in range(count)], processed
    return sum(processed)


# --- map in parallel in map ------------------------------------------------------------------------
def cell(outer: int, inner: int, broken_cells: list[str]) -> str:
    label = f"{outer}-{inner}"
    _ran(f"cell {label}")
    if label in broken_cells:
        _fragile(f"cell {label}")
    return label
