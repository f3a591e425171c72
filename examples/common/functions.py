"""Functions the example pipelines call."""

from __future__ import annotations

from pydantic import BaseModel


class TrainingConfig(BaseModel):
    epochs: int
    learning_rate: float


def hello() -> None:
    print("Hello from runnable")


def read_initial(spam: str, eggs: int, config: TrainingConfig) -> tuple[str, int]:
    """Parameters arrive by name, converted by the annotations (a pydantic model included)."""
    assert isinstance(eggs, int) and isinstance(config, TrainingConfig)
    print(f"spam={spam} eggs={eggs} epochs={config.epochs}")
    return f"{spam}!", eggs * 2


def make_chunks(count: int = 5) -> list[int]:
    return list(range(1, count + 1))


def square(chunk: int) -> int:
    return chunk * chunk


def total(squares: list[int]) -> int:
    return sum(squares)


def check_total(total: int, squares: list[int]) -> None:
    assert total == sum(squares), (total, squares)
    print(f"total={total}")


def fail() -> None:
    raise RuntimeError("this step fails on purpose")


def recover() -> str:
    print("recovering from the failure")
    return "recovered"
