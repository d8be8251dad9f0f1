"""Layering: every module imports on its own, no import cycle, ``config`` and ``data`` never import ``engine``.

The import graph is read from the source with ``ast`` (module-level imports only: an import inside a function
runs later and cannot make a cycle at import time), so the test names the modules of any cycle it finds.
"""
import ast
import importlib
import pathlib
import pkgutil
import subprocess
import sys

import pytest

import paddle_tricks

PACKAGE = pathlib.Path(paddle_tricks.__file__).resolve().parent


def all_modules() -> dict[str, pathlib.Path]:
    """Dotted name -> file of every module of the package (packages by their ``__init__.py``)."""
    out = {"paddle_tricks": PACKAGE / "__init__.py"}
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="paddle_tricks."):
        rel = info.name.split(".")[1:]
        path = PACKAGE.joinpath(*rel)
        out[info.name] = path / "__init__.py" if info.ispkg else path.with_suffix(".py")
    return out


MODULES = all_modules()


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and ((isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or
                                         (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _runtime_nodes(tree: ast.AST, into_functions: bool = True):
    """The nodes that can run (not the bodies of ``if TYPE_CHECKING:``); without ``into_functions`` only
    those that run when the module is imported (not function bodies)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        todo += [child for child in ast.iter_child_nodes(node) if not _is_type_checking(child) and
                 (into_functions or not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))]


def imports_of(module: str, deferred: bool = False) -> set[str]:
    """The package modules ``module`` imports (``from pkg import sub`` counts ``pkg.sub``): at module level, or
    with ``deferred`` also those inside functions (an import deferred to dodge a cycle is still a cycle)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in _runtime_nodes(tree, into_functions=deferred):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, path.name == "__init__.py", node)
            found.add(target)
            found |= {f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in MODULES}
    if path.name == "__init__.py" and "iter_modules(__path__)" in path.read_text(encoding="utf-8"):
        # a package that imports each of its modules with importlib (models, layers, data)
        found |= {m for m in MODULES if m.rsplit(".", 1)[0] == module}
    return {name for name in found if name in MODULES and name != module}


def import_graph(deferred: bool = False) -> dict[str, set[str]]:
    graph = {}
    for module in MODULES:
        edges = set()
        for target in imports_of(module, deferred):
            edges.add(target)
            # importing a.b.c runs the __init__ of a.b first, unless the importer is inside a.b already
            parts = target.split(".")
            for i in range(2, len(parts)):
                parent = ".".join(parts[:i])
                if not module.startswith(parent + "."):
                    edges.add(parent)
        # a module's own ancestor packages are initialised before it runs: importing them is never a cycle
        graph[module] = {e for e in edges if e != module and not module.startswith(e + ".")}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def closure(graph: dict[str, set[str]], roots: list[str]) -> set[str]:
    seen, todo = set(), list(roots)
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo += graph.get(node, ())
    return seen


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_relative_imports():
    graph = import_graph()
    assert "paddle_tricks.utils.registry" in graph["paddle_tricks.data.registry"]
    assert "paddle_tricks.data.registry" in graph["paddle_tricks.config"]
    assert "paddle_tricks.data" in graph["paddle_tricks.config"]   # the package __init__ runs first
    assert "paddle_tricks.layers.acb" in graph["paddle_tricks.layers"]  # imported by a pkgutil loop


def test_no_import_cycle_in_the_package():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_cycle_through_imports_deferred_into_functions():
    graph = import_graph(deferred=True)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle (with imports inside functions): " + " -> ".join(cycle)


@pytest.mark.parametrize("root", ["paddle_tricks.config", "paddle_tricks.data"])
def test_config_and_data_do_not_import_the_engine(root):
    graph = import_graph()
    reached = closure(graph, [m for m in MODULES if m == root or m.startswith(root + ".")])
    engine = sorted(m for m in reached if m.startswith("paddle_tricks.engine"))
    assert not engine, f"{root} reaches {engine}"


def test_config_and_data_do_not_load_the_engine_at_run_time():
    """The same in a fresh interpreter, which also counts imports made while the modules load."""
    code = ("import sys, paddle_tricks.config, paddle_tricks.data; "
            "print(sorted(m for m in sys.modules if m.startswith('paddle_tricks.engine')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not m.endswith("__main__")))
def test_every_module_imports(module):
    importlib.import_module(module)


def private_imports() -> set[tuple[str, str]]:
    """(module, name) for each ``from <package module> import _name`` anywhere in a module."""
    found = set()
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and not node.module == "__future__":
                target = _resolve(module, path.name == "__init__.py", node)
                if target.startswith("paddle_tricks"):
                    found |= {(module, a.name) for a in node.names if a.name.startswith("_")}
    return found


def test_no_private_name_is_imported_across_modules():
    assert not private_imports(), f"private imports: {sorted(private_imports())}"


def test_the_private_import_scan_sees_one(tmp_path, monkeypatch):
    fake = tmp_path / "fake.py"
    fake.write_text("from paddle_tricks.models.classic import _hidden\n")
    monkeypatch.setitem(MODULES, "paddle_tricks.fake", fake)
    assert ("paddle_tricks.fake", "_hidden") in private_imports()
