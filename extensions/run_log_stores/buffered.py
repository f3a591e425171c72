"""``buffered``: run logs kept in memory, gone when the process ends (tests, quick experiments)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import PrivateAttr

from runnable.run_log import BranchLog, Parameter, RunLog, StepLog
from runnable.errors import RunnableError, RunLogNotFoundError
from runnable.run_log_store import BaseRunLogStore, check_run_id, log_not_found


class BufferedRunLogStore(BaseRunLogStore):
    service_name: ClassVar[str] = "buffered"
    shared_between_processes: ClassVar[bool] = False

    _runs: dict[str, dict] = PrivateAttr(default_factory=dict)

    def _run(self, run_id: str) -> dict:
        try:
            return self._runs[run_id]
        except KeyError:
            raise RunLogNotFoundError(f"no run log for run id '{run_id}' in the buffered store") from None

    def create_run_log(self, run_log: RunLog, exist_ok: bool = False) -> None:
        check_run_id(run_log.run_id)
        if run_log.run_id in self._runs:
            if exist_ok:
                return
            raise RunnableError(f"run id '{run_log.run_id}' already exists", field="run_id")
        self._runs[run_log.run_id] = {
            "header": run_log.header(),
            "parameters": dict(run_log.parameters), "run_config": dict(run_log.run_config), "steps": {},
            "branches": {},
        }

    def location(self, run_id: str) -> str:
        return "memory (the buffered store keeps nothing after the process ends)"

    def list_run_ids(self) -> list[str]:
        return list(self._runs)

    def get_run_log_header(self, run_id: str) -> RunLog:
        return self._run(run_id)["header"].model_copy()

    def get_run_config(self, run_id: str) -> dict:
        return dict(self._run(run_id)["run_config"])

    def set_run_status(self, run_id: str, status: str) -> None:
        self._run(run_id)["header"].status = status

    def get_parameters(self, run_id: str) -> dict[str, Parameter]:
        return dict(self._run(run_id)["parameters"])

    def set_parameters(self, run_id: str, parameters: dict[str, Parameter]) -> None:
        self._run(run_id)["parameters"] = dict(parameters)

    def put_step_log(self, run_id: str, step_log: StepLog) -> None:
        self._run(run_id)["steps"][step_log.internal_name] = step_log.model_copy(update={"branches": {}}, deep=True)

    def get_step_log(self, run_id: str, internal_name: str) -> StepLog:
        return self._get(run_id, "steps", internal_name, "step")

    def put_branch_log(self, run_id: str, branch_log: BranchLog) -> None:
        self._run(run_id)["branches"][branch_log.internal_name] = branch_log.model_copy(update={"steps": {}}, deep=True)

    def get_branch_log(self, run_id: str, internal_name: str) -> BranchLog:
        return self._get(run_id, "branches", internal_name, "branch")

    def _get(self, run_id: str, records: str, internal_name: str, kind: str):
        try:
            return self._run(run_id)[records][internal_name].model_copy(deep=True)
        except KeyError:
            raise log_not_found(kind, internal_name, run_id) from None

    def list_logs(self, run_id: str) -> tuple[list[StepLog], list[BranchLog]]:
        run = self._run(run_id)
        return list(run["steps"].values()), list(run["branches"].values())
