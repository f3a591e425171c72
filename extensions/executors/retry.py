"""``retry``: re-run a failed run locally, as ``runnable retry`` does, from the configuration file.

    pipeline-executor:
      type: retry
      config: {run_id: <the failed run>, force: false}   # and the local executor's fields

It is the local executor with a run to resume (see :mod:`runnable.retry`).
"""

from __future__ import annotations

from typing import ClassVar

from .local import LocalExecutor


class RetryExecutor(LocalExecutor):
    service_name: ClassVar[str] = "retry"

    run_id: str
    force: bool = False

    def retries_run(self) -> tuple[str, bool]:
        return self.run_id, self.force
