"""``type: parallel``: named branches that all run; the step succeeds when every branch does.

What the branches return is merged into the parameters around the step (a later branch, in the
order written, wins a name both set).
"""

from __future__ import annotations

from typing import ClassVar

from runnable import names
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

    def branch_runs(self, ctx, map_variable) -> list[BranchRun]:
        internal = self.internal_name(map_variable)
        return [BranchRun(names.append(internal, branch_name), graph, dict(map_variable))
                for branch_name, graph in self._graphs.items()]
