"""Read theralab's import graph from the source (ast, no imports executed).

Used by ``test_layering.py`` to hold the house to its rules: no import cycles (function-level
imports included, since they hide cycles rather than remove them), arrows that point down only
(foundations -> domains -> surfaces), and no module reaching another package's private names.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

#: Layer of each top-level package below ``theralab``: a module may import its own layer or lower.
LAYERS: dict[str, int] = {
    "errors": 0, "settings": 0, "runtime": 0, "privacy": 0,
    "nlp": 1, "chem": 1, "models": 1, "ehr": 1,
    "discovery": 2, "development": 2, "trials": 2, "precision": 2, "monitoring": 2, "literature": 2,
    "demo": 3,
    "api": 4, "web": 4, "cli": 4, "app": 5, "__init__": 0, "__main__": 5,
}


@dataclass
class Import:
    """One ``import`` statement: who imports what, and the names taken from it."""

    source: str
    target: str
    names: tuple[str, ...]
    line: int
    top_level: bool


@dataclass
class Graph:
    """Modules of the package and the imports between them."""

    modules: dict[str, Path] = field(default_factory=dict)
    imports: list[Import] = field(default_factory=list)


def module_name(path: Path, src: Path = SRC) -> str:
    rel = path.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def build(src: Path = SRC) -> Graph:
    """Parse every module under ``src/theralab`` (migrations excluded) into a graph."""
    graph = Graph()
    for path in sorted((src / "theralab").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        graph.modules[module_name(path, src)] = path
    for name, path in graph.modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        top = {id(n) for n in tree.body}
        type_checking = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                type_checking.update(id(n) for n in ast.walk(node))
        for node in ast.walk(tree):
            if id(node) in type_checking:
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("theralab"):
                        graph.imports.append(Import(name, alias.name, (), node.lineno, id(node) in top))
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(name, is_package, node)
                if not target.startswith("theralab"):
                    continue
                names = tuple(a.name for a in node.names)
                # ``from theralab.x import y`` where y is a module: an edge to the submodule
                subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in graph.modules]
                for sub in subs:
                    graph.imports.append(Import(name, sub, (), node.lineno, id(node) in top))
                rest = tuple(n for n in names if f"{target}.{n}" not in graph.modules)
                if rest or not subs:
                    graph.imports.append(Import(name, target, rest, node.lineno, id(node) in top))
    return graph


def owner(graph: Graph, target: str) -> str | None:
    """The module a dotted import name lands in (longest known prefix)."""
    parts = target.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in graph.modules:
            return candidate
        parts.pop()
    return None


def cycles(graph: Graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan).

    A package ``__init__`` re-exporting its own submodules is not a cycle of behaviour, so edges
    from a package to its own children are left out.
    """
    edges: dict[str, set[str]] = {m: set() for m in graph.modules}
    for imp in graph.imports:
        tgt = owner(graph, imp.target)
        if tgt is None or tgt == imp.source:
            continue
        if graph.modules[imp.source].name == "__init__.py" and tgt.startswith(imp.source + "."):
            continue
        if imp.source.startswith(tgt + ".") and graph.modules[tgt].name == "__init__.py":
            continue  # importing from one's own package __init__: resolved by Python's import order
        edges[imp.source].add(tgt)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        work = [(v, iter(sorted(edges[v])))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        while work:
            node, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    advanced = True
                    break
                if w in on:
                    low[node] = min(low[node], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.get(parts[1] if len(parts) > 1 else "__init__", 0)


def upward(graph: Graph) -> list[Import]:
    """Imports from a lower layer into a higher one (a domain importing a surface, ...)."""
    return [imp for imp in graph.imports if layer(imp.target) > layer(imp.source)]


def private_imports(graph: Graph) -> list[Import]:
    """Private names taken from another module, or private modules taken from outside their package.

    ``from theralab.x.y import _helper`` couples two modules through something neither promised to
    keep; a private module (``cli/_common.py``) is shared by its own package and the packages below.
    """
    bad = []
    for imp in graph.imports:
        tgt = owner(graph, imp.target)
        if tgt is None or tgt == imp.source:
            continue
        private_names = [n for n in imp.names if n.startswith("_") and not n.startswith("__")]
        parts = tgt.split(".")
        private_at = [i for i, p in enumerate(parts) if p.startswith("_") and not p.startswith("__")]
        outside = bool(private_at) and not imp.source.startswith(".".join(parts[: private_at[0]]) + ".")
        if private_names or outside:
            bad.append(imp)
    return bad


if __name__ == "__main__":
    import collections

    g = build()
    per_folder = collections.Counter(str(p.parent.relative_to(SRC)) for p in g.modules.values())
    for folder, n in sorted(per_folder.items()):
        print(f"{n:4d}  {folder}")
    print("modules", len(g.modules))
    cyc = cycles(g)
    print("cycles", len(cyc))
    for c in cyc:
        print("  ", " <-> ".join(c))
    up = upward(g)
    print("upward imports", len(up))
    for i in up:
        print("  ", i.source, "->", i.target, i.line)
    priv = private_imports(g)
    print("private imports", len(priv))
    for i in priv:
        print("  ", i.source, "->", i.target, i.names, i.line)
