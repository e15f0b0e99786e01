"""fastcollate's imports flow one way (common <- runtime <- delay, rolespan, packing <- higgs_boson, higgs_hf <- diagnostics
<- ops <- the top-level modules): no module imports a capability above its own or beside it, and there is no
import loop, counting the imports inside functions too (a lazy import is no way around a loop).

Read from the installed package's sources with ast: nothing is imported to check it.
"""

import ast
from pathlib import Path

import fastcollate

PACKAGE = Path(fastcollate.__file__).resolve().parent

# A module may import its own capability, or one of lower rank: never one of equal or higher rank.
RANKS = {
    "_core": 0,  # the compiled extension
    "common": 1,
    "runtime": 2,
    "delay": 3,
    "rolespan": 3,
    "packing": 3,
    "higgs_boson": 4,
    "higgs_hf": 4,
    "diagnostics": 5,
    "ops": 6,
    "top": 7,  # fastcollate/__init__.py, __main__.py, demo.py, info.py, synthetic.py
}
TOP_LEVEL = {"__init__", "__main__", "demo", "info", "synthetic"}
COLLATORS = {"fastcollate.rolespan.chat_collator", "fastcollate.higgs_boson.collator", "fastcollate.higgs_hf.collator"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
KNOWN = set(SOURCES) | {"fastcollate._core"}


def capability(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or (len(parts) == 2 and parts[1] in TOP_LEVEL):
        return "top"
    assert parts[1] in RANKS, f"{module}: fastcollate/{parts[1]} is in no layer (add it to RANKS)"
    return parts[1]


def _imported(module: str, path: Path, node) -> list:
    """The fastcollate modules an import statement names (a name that is no module stands for its package)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "fastcollate"]
    if node.level == 0:
        base = node.module or ""
        if base.split(".")[0] != "fastcollate":
            return []
    else:
        anchor = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join(anchor + ([node.module] if node.module else []))
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in KNOWN else base for a in node.names]


def import_graph(sources=None) -> dict:
    """module -> the fastcollate modules it imports anywhere (module level, functions, TYPE_CHECKING)."""
    graph = {}
    for module, path in (sources or SOURCES).items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets.update(_imported(module, path, node))
        graph[module] = targets - {module}
    return graph


def wrong_way(graph: dict) -> list:
    found = []
    for module, targets in sorted(graph.items()):
        mine = capability(module)
        for target in sorted(targets):
            theirs = capability(target)
            if theirs != mine and RANKS[theirs] >= RANKS[mine]:
                found.append(f"{module} ({mine}) imports {target} ({theirs})")
    return found


def loops(graph: dict) -> list:
    state, stack, found = {}, [], []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(" -> ".join(stack[stack.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_every_module_is_in_a_layer():
    assert len(SOURCES) > 40
    for module in SOURCES:
        capability(module)


def test_no_import_goes_up_or_sideways():
    wrong = wrong_way(import_graph())
    assert not wrong, "imports against the layer order:\n" + "\n".join(wrong)


def test_no_import_loop():
    found = loops(import_graph())
    assert not found, "import loops:\n" + "\n".join(found)


def test_collators_and_diagnostics_are_imported_only_from_above():
    wrong = [
        f"{m} imports {t}"
        for m, targets in import_graph().items()
        for t in sorted(targets)
        if (t in COLLATORS or capability(t) == "diagnostics")
        and capability(m) != capability(t)
        and RANKS[capability(m)] <= RANKS["diagnostics"]
    ]
    assert not wrong, "\n".join(wrong)


def test_the_checks_catch_an_upward_import_and_a_loop(tmp_path):
    # A collator importing diagnostics (as higgs_boson once did for label_stats) and a two-module loop.
    up = tmp_path / "collator.py"
    up.write_text("from ..diagnostics.label_stats import label_stats\n")
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("def f():\n    from .b import g\n")
    b.write_text("from .a import f\n")
    graph = import_graph(
        {"fastcollate.higgs_boson.collator": up, "fastcollate.runtime.a": a, "fastcollate.runtime.b": b}
    )
    assert wrong_way(graph) == [
        "fastcollate.higgs_boson.collator (higgs_boson) imports fastcollate.diagnostics.label_stats (diagnostics)"
    ]
    assert loops(graph) == ["fastcollate.runtime.a -> fastcollate.runtime.b -> fastcollate.runtime.a"]
