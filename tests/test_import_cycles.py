"""No import cycles among portlint's modules, counting imports inside functions: a cycle hidden in
a function still ties two modules into one concept with two owners (architecture issue "One
owner per concept"). The graph is read from the source with `ast`, nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# Cycles left to the work that owns those packages; each entry is one cycle, as a set of modules.
ALLOWED_CYCLES: list[frozenset[str]] = []


def module_names(src: Path = SRC) -> dict[str, Path]:
    """portlint's module names -> file (a package is its __init__.py)."""
    out = {}
    for path in sorted((src / "portlint").rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imported(node: ast.AST, module: str, is_package: bool, modules: dict[str, Path]) -> list[str]:
    """The portlint modules one import statement names; `from x import y` is x.y when that is a module."""
    found = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            parts = alias.name.split(".")
            while parts and ".".join(parts) not in modules:
                parts.pop()
            if parts:
                found.append(".".join(parts))
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join(package + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        if base not in modules:
            return found
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            found.append(sub if sub in modules else base)
    return found


def import_graph(src: Path = SRC) -> dict[str, set[str]]:
    """module -> the portlint modules it imports anywhere in its file (top level or in a function)."""
    modules = module_names(src)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            for target in _imported(node, module, path.name == "__init__.py", modules):
                if target != module:
                    graph[module].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a -> b -> ... -> a) per strongly connected component of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_path_through(graph, c) for c in components]


def _path_through(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module, staying inside the component."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & component):
                if w == start:
                    return paths[v] + [start]
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    raise AssertionError("a strongly connected component without a cycle")


def test_from_import_resolves_submodules_and_relative_imports(tmp_path):
    pkg = tmp_path / "portlint"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import b\n")
    (pkg / "a.py").write_text("def f():\n    from portlint.sub import b, VALUE\n")
    (pkg / "sub" / "b.py").write_text("import portlint.a as a\nfrom .. import a\nfrom portlint import sub\n")
    graph = import_graph(tmp_path)
    assert graph["portlint.a"] == {"portlint.sub.b", "portlint.sub"}
    assert graph["portlint.sub"] == {"portlint.sub.b"}
    assert graph["portlint.sub.b"] == {"portlint.a", "portlint.sub"}
    assert cycles(graph) == [["portlint.a", "portlint.sub.b", "portlint.a"]]  # one per tangle, shortest


def test_no_import_cycles():
    found = [c for c in cycles(import_graph()) if frozenset(c) not in ALLOWED_CYCLES]
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)
