"""The layers of docs/architecture.md, checked on the source: every import (at the top of a
module or inside a function) is read with ast, and an upward import or a cycle fails.

    ingest/  →  index/  →  answer/  →  chat/ + app.py;  eval/ and bench/ on top

    ingest   imports none of index, answer, chat, eval (its CLI, ingest/__main__.py, drives index)
    index    imports none of answer, chat, eval (its CLI, index/search.py, drives answer)
    answer   imports none of chat, eval
    chat     imports none of eval
    no library module imports an entry point (python -m ingest / index.search / eval, app.py)
    no import cycles among modules
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGES = ("ingest", "index", "answer", "chat", "eval", "bench")
TOP_MODULES = ("app",)
# package -> the packages it must not import; exceptions: a module allowed one of them.
FORBIDDEN = {
    "ingest": {"index", "answer", "chat", "eval", "bench", "app"},
    "index": {"answer", "chat", "eval", "bench", "app"},
    "answer": {"chat", "eval", "bench", "app"},
    "chat": {"eval", "bench", "app"},
}
ALLOWED = {
    "ingest.__main__": {"index"},  # python -m ingest: the CLI over index/build.py
    "index.search": {"answer"},  # python -m index.search: the search contract's entry point
}
ENTRY_POINTS = {"ingest.__main__", "index.search", "eval.__main__", "app"}


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """{dotted name: file} for the packages' modules and the top-level app."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    for name in TOP_MODULES:
        if (root / f"{name}.py").exists():
            modules[name] = root / f"{name}.py"
    return modules


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module a dotted name lands in (the longest existing prefix), or None."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `module` imports anywhere in its source (functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = (
                    package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    if package
                    else []
                )
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import name`: the submodule pkg.name when there is one, else pkg itself
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            target = _resolve(name, modules)
            if target is not None and target != module:
                found.add(target)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = project_modules(root)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    problems = []
    for module, targets in sorted(graph.items()):
        layer = module.split(".")[0]
        for target in sorted(targets):
            target_layer = target.split(".")[0]
            if target_layer in FORBIDDEN.get(layer, ()) and target_layer not in ALLOWED.get(
                module, ()
            ):
                problems.append(
                    f"{module} imports {target}: {layer}/ must not import {target_layer}/"
                )
            elif target in ENTRY_POINTS and layer in FORBIDDEN:
                problems.append(f"{module} imports the entry point {target}")
    return problems


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_layer_violations():
    graph = import_graph()
    assert {
        "ingest.errors",
        "index.retrieval",
        "answer.ask",
        "chat.service",
        "eval.__main__",
        "app",
    } <= set(graph)
    assert "index.engine" in graph["answer.ask"]  # imports are seen at all
    assert layer_violations(graph) == []


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_the_checker_sees_function_level_imports_and_cycles(tmp_path):
    files = {
        "ingest/__init__.py": "",
        "ingest/model.py": (
            "def load():\n    from index.store import load_stored  # upward, hidden in a function\n"
        ),
        "ingest/__main__.py": "from index import build\n",  # allowed: the CLI drives index
        "index/__init__.py": "",
        "index/store.py": "import ingest.model\n",
        "index/build.py": "from . import store\nfrom answer.ask import ask\n",
        "index/search.py": "from answer import ask\n",  # allowed: the search CLI drives answer
        "answer/__init__.py": "",
        "answer/ask.py": "from index.engine import SearchEngine\nimport ingest.__main__\n",
        "index/engine.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    graph = import_graph(tmp_path)
    assert graph["index.build"] == {"index.store", "answer.ask"}
    assert layer_violations(graph) == [
        "answer.ask imports the entry point ingest.__main__",
        "index.build imports answer.ask: index/ must not import answer/",
        "ingest.model imports index.store: ingest/ must not import index/",
    ]
    assert sorted(cycles(graph)) == [
        ["answer.ask", "index.build", "ingest.__main__"],
        ["index.store", "ingest.model"],
    ]
