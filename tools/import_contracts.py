"""import-linter contract types of our own (see [tool.importlinter] in pyproject.toml)."""

from __future__ import annotations

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


class AcyclicModulesContract(Contract):
    """No circle of imports between the modules under `root`, whatever package they are in:
    a module never depends, directly or through others, on a module that depends on it.

    Every import counts, also one inside a function (the graph is read from the source). A
    circle is reported as the chain of modules that makes it, one circle per group of
    modules caught in each other's imports."""

    type_name = "acyclic_modules"

    root = fields.StringField()
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        from importlinter.application import contract_utils
        from importlinter.application.contract_utils import AlertLevel

        removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph, ignore_imports=self.ignore_imports,  # type: ignore[arg-type]
            unmatched_alerting=AlertLevel.ERROR)
        root = str(self.root)
        modules = sorted({root, *graph.find_descendants(root)})
        within = set(modules)
        edges = {m: sorted(graph.find_modules_directly_imported_by(m) & within)
                 for m in modules}
        circles = [self._circle(group, edges) for group in _strongly_connected(modules, edges)
                   if len(group) > 1]
        return ContractCheck(kept=not circles, warnings=list(removal.warnings),
                             metadata={"circles": circles})

    @staticmethod
    def _circle(group: list[str], edges: dict[str, list[str]]) -> list[str]:
        """One circle through the first module of the group: the shortest way back to it."""
        start, members = group[0], set(group)
        came_from: dict[str, str | None] = {start: None}
        frontier = [start]
        while frontier:
            nxt = []
            for m in frontier:
                for w in edges[m]:
                    if w == start:
                        chain = [m]
                        while came_from[chain[-1]] is not None:
                            chain.append(came_from[chain[-1]])  # type: ignore[arg-type]
                        return [*reversed(chain), start]
                    if w in members and w not in came_from:
                        came_from[w] = m
                        nxt.append(w)
            frontier = nxt
        return group

    def render_broken_contract(self, check: ContractCheck) -> None:
        for circle in check.metadata["circles"]:
            output.print_error(" -> ".join(circle), bold=False)
            output.new_line()


def _strongly_connected(nodes: list[str], edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively; each group sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for node in nodes:
        if node in index:
            continue
        work = [(node, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = len(index)
                stack.append(v)
                on_stack.add(v)
            recurse = False
            for j in range(i, len(edges[v])):
                w = edges[v][j]
                if w not in index:
                    work.append((v, j + 1))
                    work.append((w, 0))
                    recurse = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                group = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    group.append(w)
                    if w == v:
                        break
                groups.append(sorted(group))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return groups
