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


class Model:
    """Not JSON: passed between steps as an object (pickled into the catalog)."""

    def __init__(self, weights: list[float]) -> None:
        self.weights = weights


def train(learning_rate: float = 0.1):
    model = Model([learning_rate, learning_rate * 2])
    accuracy = 0.5 + learning_rate
    return model, accuracy, {"rows": 100}


def evaluate(model: Model, accuracy: float, stats: dict) -> None:
    assert isinstance(model, Model) and model.weights[1] == 2 * model.weights[0]
    assert stats["rows"] == 100
    print(f"accuracy={accuracy}")


def flaky(marker: str = "flaky.marker") -> str:
    """Fails on its first attempt (no marker file yet), succeeds on the next.

    In a cluster each attempt is a new pod with a fresh file system: set FLAKY_MARKER_DIR to a shared volume.
    """
    import os
    from pathlib import Path

    path = Path(os.environ.get("FLAKY_MARKER_DIR", ".")) / marker
    if not path.exists():
        path.write_text("seen")
        raise RuntimeError("first attempt fails")
    path.unlink()
    return "ok"


def use_secret() -> None:
    from runnable import get_secret

    token = get_secret("API_TOKEN")
    assert token, "the secret is empty"
    print(f"the secret has {len(token)} characters; printing it is safe: {token}")


def write_report() -> None:
    from pathlib import Path

    Path("data").mkdir(exist_ok=True)
    Path("data/report.csv").write_text("x,y\n1,2\n")


def read_report() -> int:
    from pathlib import Path

    rows = Path("data/report.csv").read_text().splitlines()
    assert rows[0] == "x,y"
    return len(rows) - 1


def branch_value(value: int) -> int:
    return value


def left() -> int:
    return 1


def right() -> str:
    return "r"


def check_parallel(left_value: int, right_value: str) -> None:
    assert (left_value, right_value) == (1, "r"), (left_value, right_value)


def product(xs: list[int]) -> int:
    out = 1
    for x in xs:
        out *= x
    return out


def check_product(squares: int) -> None:
    assert squares == 14400, squares  # (1*4*9*16*25) for chunks 1..5 -> 14400


def inner_cell(outer: int, inner: int) -> int:
    return outer * 10 + inner


def check_nested(cells: list) -> None:
    assert cells == [[[10, 11], [10, 11]], [[20, 21], [20, 21]]], cells


def seed(inner_items: list | None = None) -> list[int]:
    return [0, 1]
