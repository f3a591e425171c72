"""``local``: run the pipeline here, step after step, recording everything in the run log."""

from __future__ import annotations

from typing import ClassVar

from runnable.executor import BasePipelineExecutor


class LocalExecutor(BasePipelineExecutor):
    service_name: ClassVar[str] = "local"

    enable_parallel: bool = False
