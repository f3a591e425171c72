"""``type: success`` and ``type: fail``: the end of a pipeline or of a branch.

Every graph has both, implicitly. Reaching one sets the status of the graph it ends: the run, or the
branch it belongs to.
"""

from __future__ import annotations

from typing import ClassVar

from runnable.run_log import FAIL, SUCCESS, StepAttempt
from runnable.nodes import BaseNode, Outcome


class _TerminalNode(BaseNode):
    records_start: ClassVar[bool] = False
    is_terminal: ClassVar[bool] = True
    outcome: ClassVar[str] = SUCCESS

    def execute(self, ctx, map_variable, attempt_number) -> Outcome:
        return Outcome(StepAttempt(attempt_number=attempt_number).start().finish(SUCCESS), ends_with=self.outcome)


class SuccessNode(_TerminalNode):
    outcome: ClassVar[str] = SUCCESS


class FailNode(_TerminalNode):
    outcome: ClassVar[str] = FAIL
