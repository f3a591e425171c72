"""``type: dag``: a pipeline from another file, run as one step (its branch is named ``dag``).

The file is read relative to the project directory and must stay inside it.
"""

from __future__ import annotations

from runnable import names
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

    def branch_runs(self, ctx, map_variable) -> list[BranchRun]:
        return [BranchRun(names.append(self.internal_name(map_variable), BRANCH), self._graph, dict(map_variable))]
