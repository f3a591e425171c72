"""``type: success`` and ``type: fail``: the end of a pipeline or of a branch.

Every graph has both, implicitly. Reaching one sets the status of the graph it ends: the run, or the
branch it belongs to.
"""

from __future__ import annotations

from typing import ClassVar

from runnable.context import enclosing_branches
from runnable.datamodel import FAIL, SUCCESS, StepAttempt
from runnable.nodes import BaseNode


class _TerminalNode(BaseNode):
    records_start: ClassVar[bool] = False
    is_terminal: ClassVar[bool] = True
    outcome: ClassVar[str] = SUCCESS

    def execute(self, ctx, map_variable, attempt_number, step_log) -> StepAttempt:
        attempt = StepAttempt(attempt_number=attempt_number).start()
        store = ctx.run_log_store
        chain = enclosing_branches(self.segments, map_variable)
        if chain:
            branch = store.get_branch_log(ctx.run_id, chain[-1])
            branch.status = self.outcome  # type: ignore[assignment]
            store.put_branch_log(ctx.run_id, branch)
        else:
            store.set_run_status(ctx.run_id, self.outcome)
        return attempt.finish(SUCCESS)


class SuccessNode(_TerminalNode):
    outcome: ClassVar[str] = SUCCESS


class FailNode(_TerminalNode):
    outcome: ClassVar[str] = FAIL
