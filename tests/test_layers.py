"""The layers point one way: api → services/selectors → models, with shared wire shapes below.

An AST scan of every import (at module level or inside a function) of the project's own
packages. It fails when a module of a lower layer imports from an API package, or when two
packages import each other, directly or around a circle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("segments", "segmentservice", "tenants")
API_PACKAGES = ("segments.api", "segmentservice.api", "tenants.api")
# What may not import from an API package: the domain (services, selectors, models), the
# admin, the importers and the layer-neutral homes of the wire shapes.
BELOW_THE_API = (
    "segments.services",
    "segments.selectors",
    "segments.admin",
    "segments.management",
    "segments.query",
    "segments.documents",
    "segments.models",
    "segmentservice.formats",
    "segmentservice.fields",
    "segmentservice.exceptions",
    "segmentservice.bulk",
    "segmentservice.metrics",
)
# The composition roots wire every layer together; nothing imports them.
ROOTS = ("segmentservice.settings", "segmentservice.urls", "segmentservice.wsgi")


def project_modules() -> dict[str, Path]:
    """Dotted name → file of every project module (migrations are Django's, not ours)."""
    modules = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


MODULES = project_modules()


def imported_modules(name: str) -> set[str]:
    """The project modules `name` imports, wherever in the file the import is."""
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *filter(None, [base])])
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            # `from a.b import c` names module a.b.c if there is one, else names from a.b.
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


IMPORTS = {name: imported_modules(name) for name in MODULES}


def package_of(name: str) -> str:
    """The unit the cycle check works on: a sub-package, or a module directly in an app.

    `segments.api.views.segments` → `segments.api.views`; `segments.models` → itself.
    """
    if MODULES[name].name == "__init__.py" or name in APPS:
        return name
    parent = name.rpartition(".")[0]
    return name if parent in APPS else parent


def within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


def test_the_scan_sees_the_imports_it_checks():
    # A scan that found nothing would pass every check below.
    assert "segments.documents" in IMPORTS["segments.services.segments"]
    assert "segments.services.segments" in IMPORTS["segments.api.views.segments"]
    assert "segmentservice.formats" in IMPORTS["segments.documents"]


@pytest.mark.parametrize("module", sorted(name for name in MODULES if within(name, BELOW_THE_API)))
def test_no_layer_below_the_api_imports_from_it(module):
    upward = sorted(target for target in IMPORTS[module] if within(target, API_PACKAGES))

    assert upward == [], f"{module} imports from the API layer: {', '.join(upward)}"


def test_no_import_cycle_between_packages():
    graph: dict[str, set[str]] = defaultdict(set)
    for name, targets in IMPORTS.items():
        if within(name, ROOTS):
            continue
        for target in targets:
            if package_of(target) != package_of(name):
                graph[package_of(name)].add(package_of(target))

    cycles = strongly_connected(graph)

    assert cycles == [], "packages that import each other: " + "; ".join(
        " ⇄ ".join(sorted(cycle)) for cycle in cycles
    )


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan: the groups of two or more nodes that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups
