"""The map example (examples/map.yaml) written with the Python SDK.

Run from the project directory:  python -m examples.sdk.pipeline
"""

from examples.common.functions import check_total, make_chunks, square, total
from runnable import Map, Pipeline, PythonTask


def build() -> Pipeline:
    branch = Pipeline(steps=[PythonTask(name="square", function=square, returns=["squares"])])
    return Pipeline(
        description="Map - the branch runs for each item of a list; returns are gathered into lists in iteration order.",
        steps=[
            PythonTask(name="make chunks", function=make_chunks, returns=["chunks"]),
            Map(name="square each", branch=branch, iterate_on="chunks", iterate_as="chunk"),
            PythonTask(name="total", function=total, returns=["total"]),
            PythonTask(name="check", function=check_total),
        ],
    )


if __name__ == "__main__":
    import sys

    run = build().execute()  # None: a describing executor (argo) wrote a manifest and ran nothing
    sys.exit(0 if run is None or run.status == "SUCCESS" else 1)
