"""``type: stub``: does nothing and succeeds; a placeholder while a pipeline is designed.

A stub accepts any other field, so a task can be stubbed out by changing its type alone.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import ConfigDict

from runnable.run_log import SUCCESS, StepAttempt
from runnable.nodes import BaseNode, Outcome


class StubNode(BaseNode):
    records_start: ClassVar[bool] = False
    model_config = ConfigDict(extra="allow")

    def execute(self, ctx, map_variable, attempt_number) -> Outcome:
        return Outcome(StepAttempt(attempt_number=attempt_number).start().finish(SUCCESS))
