"""Run an Argo Workflow manifest on this machine, with Argo's semantics, every pod a local process.

See docs/emulator.md for what is emulated and what is not.
"""

__all__ = ["EmulationError", "Emulator", "NodeRecord", "emulate"]


def __getattr__(name: str):  # the engine is imported when used, not when the CLI lists its commands
    if name in __all__:
        from . import engine

        return getattr(engine, name)
    raise AttributeError(name)
