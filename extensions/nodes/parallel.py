"""``type: parallel``: named branches that all run; the step succeeds when every branch does.

What the branches return is merged into the parameters around the step (a later branch, in the
order written, wins a name both set).
"""

from __future__ import annotations

from typing import ClassVar

from runnable import names
from runnable.datamodel import CREATED, BranchLog
from runnable.graph import Graph
from runnable.nodes import BranchRun, CompositeNode


class ParallelNode(CompositeNode):
    user_fields: ClassVar[tuple[str, ...]] = ("type", "next", "on_failure", "overrides", "branches")

    _graphs: dict[str, Graph]

    @classmethod
    def parse(cls, name, data, builder, keys, segments):
        data = dict(data)
        raw = data.pop("branches", None)
        if not isinstance(raw, dict) or not raw:
            raise builder.error("must map branch names to pipelines", keys + ["branches"], step=name, field="branches")
        node = super().parse(name, data, builder, keys, segments)
        node._graphs = {}
        for branch_name, branch in raw.items():
            if not isinstance(branch_name, str) or not branch_name:
                raise builder.error("branch names must be non-empty strings", keys + ["branches"], step=name,
                                    field="branches")
            node._graphs[branch_name] = builder.graph(branch, keys + ["branches", branch_name],
                                                      segments + (branch_name,), where=f"{name}.{branch_name}")
        return node

    def branches(self) -> dict[str, Graph]:
        return self._graphs

    def fan_out(self, ctx, map_variable) -> list[BranchRun]:
        self.open_step(ctx, map_variable)
        internal = self.internal_name(map_variable)
        runs = []
        for branch_name, graph in self._graphs.items():
            branch_internal = names.append(internal, branch_name)
            existing = ctx.run_log_store.branch_log_or_none(ctx.run_id, branch_internal)
            if existing is None:
                ctx.run_log_store.put_branch_log(ctx.run_id, BranchLog(internal_name=branch_internal, status=CREATED))
            runs.append(BranchRun(branch_internal, graph, dict(map_variable)))
        return runs

    def fan_in(self, ctx, map_variable) -> str:
        internal = self.internal_name(map_variable)
        branch_names = [names.append(internal, b) for b in self._graphs]
        status, logs = self.close_step(ctx, map_variable, branch_names)
        self.merge_branch_parameters(ctx, map_variable, logs)
        return status
