"""No import cycles between any two modules of chatcore, adapters and app_http.

import-linter's ``acyclic_siblings`` contract (pyproject.toml) reports cycles between sibling
modules and packages, but not one that runs through a package's own ``__init__`` (a submodule
importing its package, whose ``__init__`` imports that submodule). This test sees every cycle:
for each direct import ``a -> b`` it asks grimp (import-linter's graph library, which also
counts imports inside functions and under ``if TYPE_CHECKING:``) whether ``b`` leads back to ``a``.
"""

from __future__ import annotations

import grimp

ROOTS = ("chatcore", "adapters", "app_http")


def import_cycles(graph: grimp.ImportGraph) -> list[tuple[str, ...]]:
    """One cycle, as the chain of modules from ``a`` back to ``a``, for each import that closes one."""
    cycles: list[tuple[str, ...]] = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                cycles.append((importer, *back))
    return cycles


def test_no_module_imports_itself_through_others() -> None:
    graph = grimp.build_graph(*ROOTS, cache_dir=None)

    assert import_cycles(graph) == []


def test_a_cycle_through_a_package_init_is_found() -> None:
    # The kind that the import-linter contract misses; the graph is built by hand, as grimp allows.
    graph = grimp.ImportGraph()
    for module in ("pkg", "pkg.store", "pkg.tables", "other"):
        graph.add_module(module)
    graph.add_import(importer="pkg", imported="pkg.store")
    graph.add_import(importer="pkg.store", imported="pkg.tables")
    graph.add_import(importer="pkg.tables", imported="pkg")
    graph.add_import(importer="other", imported="pkg")

    assert ("pkg", "pkg.store", "pkg.tables", "pkg") in import_cycles(graph)
    assert not any("other" in cycle for cycle in import_cycles(graph))
