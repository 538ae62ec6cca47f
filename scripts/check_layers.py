#!/usr/bin/env python3
"""Check the layer order of the apps under src/fangfan (docs/architecture.md, "Apps, bottom to top").

Every module is parsed (not imported); every import in it — at module level or inside a function, ``import x`` or
``from x import y``, relative or absolute — is mapped to the app it reaches. The run fails (exit 1) when

* an app imports from an app after it in ``ORDER`` (an app may import only from itself and the apps before it;
  ``fangfan.settings``, ``urls``, ``cli`` and ``wsgi`` may import every app, and no app imports them), or
* modules import each other in a cycle (each cycle printed once, as the chain of imports that closes it).

    python scripts/check_layers.py            # checks src/fangfan
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ORDER = [
    "core",
    "regions",
    "accounts",
    "policy",
    "registry",
    "monitoring",
    "assistance",
    "workflows",
    "reports",
    "api",
    "demo",
]
TOP = {"settings", "urls", "cli", "wsgi"}  # the project's own modules: above every app
PACKAGE = "fangfan"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted(root.rglob("*.py")) if "static" not in p.parts}


def imports(name: str, path: Path, known: set[str]) -> list[tuple[int, str]]:
    """(line, module) of every import of a ``fangfan`` module in the file: ``from a.b import c`` reaches ``a.b.c``
    when that is a module, else ``a.b``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if _ours(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not _ours(target):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.append((node.lineno, sub if sub in known else target))
    return found


def _ours(module: str) -> bool:
    return module == PACKAGE or module.startswith(PACKAGE + ".")


def layer(module: str) -> tuple[int, str] | None:
    """(rank, app) of a module; None for the package itself."""
    parts = module.split(".")
    if len(parts) < 2:
        return None
    app = parts[1]
    if app in TOP:
        return len(ORDER), app
    if app in ORDER:
        return ORDER.index(app), app
    return -1, app  # an app missing from ORDER: reported


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative), each as a closed chain."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(_chain(sorted(component), graph))
    return found


def _chain(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """A closed path through the component starting at its first module (breadth-first back to the start)."""
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return component


def check(root: Path) -> list[str]:
    known = modules(root)
    names = set(known)
    errors: list[str] = []
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        own = layer(name)
        for line, target in imports(name, path, names):
            if target in names and target != name:
                graph[name].add(target)
            theirs = layer(target)
            if own is None or theirs is None or own[1] == theirs[1]:
                continue
            where = f"{path.relative_to(root.parent.parent)}:{line}"
            if own[0] < 0:
                errors.append(
                    f"{where}: app '{own[1]}' is not in the layer order (scripts/check_layers.py ORDER)"
                )
            elif theirs[0] < 0:
                errors.append(f"{where}: imports {target}: app '{theirs[1]}' is not in the layer order")
            elif theirs[0] > own[0] or (theirs[1] in TOP and own[1] not in TOP):
                errors.append(
                    f"{where}: {own[1]} imports {target} — '{theirs[1]}' comes after '{own[1]}' in the layer order"
                    f" ({' < '.join(ORDER)})"
                )
    for chain in cycles(graph):
        errors.append("import cycle: " + " -> ".join(chain))
    return list(dict.fromkeys(errors))  # ``from x import a, b`` of one module: said once


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1] / "src" / PACKAGE
    errors = check(root)
    for error in errors:
        print(error)
    if errors:
        print(f"check_layers: FAILED: {len(errors)} problem(s) (docs/architecture.md, 'Apps, bottom to top')")
        return 1
    print(f"check_layers: {len(modules(root))} modules, layers and imports in order")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
