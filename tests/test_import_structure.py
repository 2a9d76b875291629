"""The packages' import structure: no private name imported from another module, and no import
cycle beyond the two that the model-abstraction work removes (a new one fails here).

Every import counts, function-local and ``TYPE_CHECKING`` ones too: a cycle held together by a
local import is still a cycle.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gibbs", "reference_models", "validation")


def _modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            yield ".".join(parts), path


def _private_imports(module: str, path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] not in PACKAGES or node.module == module:
                continue
            found += [
                f"{module} imports {node.module}.{a.name}"
                for a in node.names
                if a.name.startswith("_") and not a.name.startswith("__")
            ]
    return found


# No import circles (function-local imports included): the set must stay empty.
KNOWN_CYCLES: set[frozenset[str]] = set()


def _imports(path: Path, names: set[str]) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        out |= {t for t in targets if t in names}
    return out


def _cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(frozenset(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_new_import_cycle():
    modules = dict(_modules())
    graph = {m: _imports(p, set(modules)) - {m} for m, p in modules.items()}
    found = set(_cycles(graph))
    assert not found - KNOWN_CYCLES, (
        f"new import cycles: {[sorted(c) for c in found - KNOWN_CYCLES]}"
    )
    # A known cycle that is gone: remove it from KNOWN_CYCLES, so that it cannot come back.
    assert found == KNOWN_CYCLES, f"gone: {[sorted(c) for c in KNOWN_CYCLES - found]}"


def test_the_cycle_check_sees_a_cycle():
    """Negative control: a planted two-module cycle is found."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [frozenset({"a", "b"})]


def test_no_private_name_is_imported_across_modules():
    found = [f for module, path in _modules() for f in _private_imports(module, path)]
    assert not found, "\n".join(found)


def test_the_check_sees_a_private_import(tmp_path):
    """Negative control: the scan reports a planted private import."""
    planted = tmp_path / "planted.py"
    planted.write_text("from gibbs.kernels.gaussian import _hidden, visible\n")
    assert _private_imports("validation.planted", planted) == [
        "validation.planted imports gibbs.kernels.gaussian._hidden"
    ]
