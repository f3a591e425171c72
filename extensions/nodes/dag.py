"""``type: dag``: a pipeline from another file, run as one step (its branch is named ``dag``).

The file is read relative to the project directory and must stay inside it.
"""

from __future__ import annotations

from runnable import names
from runnable.datamodel import CREATED, BranchLog
from runnable.graph import Graph
from runnable.nodes import BranchRun, CompositeNode

BRANCH = "dag"


class DagNode(CompositeNode):
    dag_definition: str

    _graph: Graph

    @classmethod
    def parse(cls, name, data, builder, keys, segments):
        node = super().parse(name, data, builder, keys, segments)
        file, definition = builder.nested_file(node.dag_definition, keys + ["dag_definition"], name)
        builder.sources.append(definition)
        with builder.enter_file(file):
            node._graph = builder.graph(definition["dag"], ["dag"], segments + (BRANCH,), where=name)
        return node

    def branches(self) -> dict[str, Graph]:
        return {BRANCH: self._graph}

    def fan_out(self, ctx, map_variable) -> list[BranchRun]:
        self.open_step(ctx, map_variable)
        branch_internal = names.append(self.internal_name(map_variable), BRANCH)
        if ctx.run_log_store.branch_log_or_none(ctx.run_id, branch_internal) is None:
            ctx.run_log_store.put_branch_log(ctx.run_id, BranchLog(internal_name=branch_internal, status=CREATED))
        return [BranchRun(branch_internal, self._graph, dict(map_variable))]

    def fan_in(self, ctx, map_variable) -> str:
        branch_internal = names.append(self.internal_name(map_variable), BRANCH)
        status, logs = self.close_step(ctx, map_variable, [branch_internal])
        self.merge_branch_parameters(ctx, map_variable, logs)
        return status
