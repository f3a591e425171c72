"""Run an Argo Workflow manifest on this machine, with Argo's semantics, every pod a local process.

See docs/emulator.md for what is emulated and what is not.
"""

from .engine import EmulationError, Emulator, NodeRecord, emulate

__all__ = ["EmulationError", "Emulator", "NodeRecord", "emulate"]
