"""runnable: describe a pipeline once; run it on a laptop or transpile it to Argo Workflows.

Importing :mod:`runnable` is cheap: the SDK names below are loaded on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"

_SDK = {
    "Pipeline", "PythonTask", "ShellTask", "NotebookTask", "Stub", "Parallel", "Map", "Dag", "Success", "Fail",
    "pickled", "metric", "Run",
}

__all__ = sorted(_SDK | {"get_secret", "__version__"})


def get_secret(name: str) -> str:
    """The value of secret ``name`` from the run's secrets manager (never recorded anywhere)."""
    from .context import current

    return current().get_secret(name)


def __getattr__(name: str):
    if name in _SDK:
        from . import sdk

        return getattr(sdk, name)
    raise AttributeError(f"module 'runnable' has no attribute '{name}'")
