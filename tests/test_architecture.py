"""The layering of simcore (issue 14), checked on the syntax tree of every module: every
intra-package import, inside functions too, goes to the importer's own layer or a lower one
(``simcore._layers.LAYERS``), the imports form no cycle, and imports inside functions are
only the declared lazy ones (``simcore._layers.LAZY``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from simcore import _layers

PKG = Path(__import__("simcore").__file__).resolve().parent


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(PKG.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(x.startswith(".") or x == "_source" for x in parts):
            continue
        out[".".join(parts)] = p
    return out


MODULES = _modules()


def _imports(mod: str, path: Path) -> list[tuple[str, int, bool]]:
    """``(imported module, line, inside a function)`` for every intra-package import."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    pkg = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    out = []

    def visit(node: ast.AST, in_func: bool) -> None:
        for child in ast.iter_child_nodes(node):
            f = in_func or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            targets: list[str] = []
            if isinstance(child, ast.ImportFrom):
                if child.level:
                    base = pkg.split(".")
                    base = base[:len(base) - (child.level - 1)]
                    src = ".".join(base + ([child.module] if child.module else []))
                else:
                    src = child.module or ""
                if src == "simcore" or src.startswith("simcore."):
                    for a in child.names:
                        cand = f"{src}.{a.name}"
                        targets.append(cand if cand in MODULES else src)
            elif isinstance(child, ast.Import):
                targets = [a.name for a in child.names
                           if a.name == "simcore" or a.name.startswith("simcore.")]
            for t in targets:
                while t not in MODULES and "." in t:
                    t = t.rsplit(".", 1)[0]
                if t != mod:
                    out.append((t, child.lineno, in_func))
            visit(child, f)

    visit(tree, False)
    return out


EDGES = {m: _imports(m, p) for m, p in MODULES.items()}
ORDER = list(_layers.LAYERS)


def test_every_module_is_in_a_layer():
    missing = [m for m in MODULES if _try_layer(m) is None]
    assert not missing, f"modules in no layer of simcore._layers.LAYERS: {missing}"


def test_every_declared_module_exists():
    for _, (_, patterns) in _layers.LAYERS.items():
        for pat in patterns:
            if pat.endswith(".*"):
                assert any(m.startswith(pat[:-1]) for m in MODULES), pat
            else:
                assert pat in MODULES, pat


def _try_layer(m: str) -> str | None:
    try:
        return _layers.layer_of(m)
    except KeyError:
        return None


def test_no_layer_imports_upward():
    bad = []
    for m, edges in EDGES.items():
        lm = ORDER.index(_layers.layer_of(m))
        for t, line, _ in edges:
            if ORDER.index(_layers.layer_of(t)) > lm and (m, t) not in _layers.UPWARD:
                bad.append(f"{MODULES[m].name}:{line}: {m} ({ORDER[lm]}) imports {t} "
                           f"({_layers.layer_of(t)})")
    assert not bad, "\n".join(bad)


def test_no_import_cycles():
    graph = {m: sorted({t for t, _, _ in e}) for m, e in EDGES.items()}
    # a package's __init__ is imported with any of its submodules: that is no cycle
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(u: str) -> None:
        state[u] = 1
        stack.append(u)
        for v in graph[u]:
            if state.get(v) == 1:
                cycles.append(stack[stack.index(v):] + [v])
            elif v not in state:
                dfs(v)
        stack.pop()
        state[u] = 2

    for m in sorted(graph):
        if m not in state:
            dfs(m)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_imports_inside_functions_are_only_the_declared_lazy_ones():
    lazy = sorted({(m, t) for m, e in EDGES.items() for t, _, f in e if f})
    undeclared = [f"{m} -> {t}" for m, t in lazy if (m, t) not in _layers.LAZY]
    assert not undeclared, ("intra-package imports inside functions (allowed only for "
                            "optional dependencies, declared in simcore._layers.LAZY):\n"
                            + "\n".join(undeclared))
    stale = [k for k in _layers.LAZY if k not in lazy]
    assert not stale, f"declared lazy imports that no longer exist: {stale}"


def test_declared_upward_imports_exist():
    edges = {(m, t) for m, e in EDGES.items() for t, _, _ in e}
    assert not [k for k in _layers.UPWARD if k not in edges]


def test_the_check_sees_imports_inside_functions(tmp_path):
    # the walker itself: a function-level import is found and marked as such
    src = tmp_path / "x.py"
    src.write_text("def f():\n    from .tables import flat\n    return flat\n")
    got = _imports("simcore.x", src)
    assert got == [("simcore.tables", 2, True)]


@pytest.mark.parametrize("name", ["simcore.dynamic.supply_chain", "simcore.dynamic.batch",
                                  "simcore.dynamic.ario", "simcore.run"])
def test_engines_and_run_layer_do_not_know_sweeps(name):
    assert not [t for t, _, _ in EDGES[name]
                if t == "simcore.sweeps" or t.startswith("simcore.sweeps.")]


def test_docs_architecture_shows_the_declared_layers():
    text = (PKG.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    begin = text.index("<!-- layers:")
    begin = text.index("-->", begin) + 3
    end = text.index("<!-- end of the layers -->")
    assert text[begin:end].strip() == _layers.markdown().strip(), (
        "docs/architecture.md's layer table differs from simcore._layers.markdown()")
