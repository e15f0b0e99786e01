"""The typed public API: `py.typed` ships, the `_core/` stubs (one per submodule) name exactly what the compiled
extension has (every function and constructor with the same parameters), and the public names document themselves."""

import ast
import re
from pathlib import Path

import pytest
import torch
from conftest import COMPILED

import fastcollate
from fastcollate import ChatCollator, presets
from fastcollate.synthetic import synthetic_text_batch

PACKAGE = Path(fastcollate.__file__).resolve().parent
STUBS = PACKAGE / "_core"
SUBMODULES = ["runtime", "rolespan", "delay", "higgs_boson", "higgs_hf", "packing"]


def test_py_typed_and_the_stub_ship_with_the_package():
    assert (PACKAGE / "py.typed").is_file() and (STUBS / "__init__.pyi").is_file()
    assert all((STUBS / f"{name}.pyi").is_file() for name in SUBMODULES)
    assert not (STUBS / "__init__.py").exists()  # the compiled _core must stay what `import` finds


def _params(fn: ast.FunctionDef) -> list:
    a = fn.args
    return [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs if p.arg != "self"]


def stub_api(stub: Path) -> dict:
    """name -> parameter names (functions; classes: their __init__), or None for a module attribute."""
    api = {}
    for node in ast.parse(stub.read_text()).body:
        if isinstance(node, ast.FunctionDef):
            api[node.name] = _params(node)
        elif isinstance(node, ast.ClassDef):
            api[node.name] = _params(
                next(n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
            )
        elif isinstance(node, ast.AnnAssign):
            api[node.target.id] = None
    return api


def runtime_params(obj) -> list:
    """Parameter names from pybind11's signature line, e.g. `f(rows: Sequence, spec: X, ...) -> tuple`."""
    doc = (obj.__init__ if isinstance(obj, type) else obj).__doc__
    first = doc.strip().splitlines()[0]
    return [p for p in re.findall(r"[(,]\s*(\w+):", first) if p != "self"]


@pytest.mark.skipif(not COMPILED, reason="compiled extension not built")
def test_stub_matches_the_extension():
    from fastcollate import _core

    top = {n for n in dir(_core) if not n.startswith("_")} | {"__version__"}
    assert set(stub_api(STUBS / "__init__.pyi")) | set(SUBMODULES) == top
    for module_name in SUBMODULES:
        module = getattr(_core, module_name)
        stub = stub_api(STUBS / f"{module_name}.pyi")
        runtime = {n for n in dir(module) if not n.startswith("_")}
        assert set(stub) == runtime, (
            f"add the new names to fastcollate/_core/{module_name}.pyi (or remove the stale ones)"
        )
        for name, params in stub.items():
            if params is not None:
                assert params == runtime_params(getattr(module, name)), f"{module_name}.{name}"


DOCUMENTED = list(fastcollate.__all__)


@pytest.mark.parametrize("name", DOCUMENTED)
def test_public_names_have_their_own_docstring(name):
    doc = getattr(fastcollate, name).__doc__
    assert doc and doc.strip(), name
    assert not doc.startswith(f"{name}("), f"{name}: only the docstring dataclasses generate"


def test_chat_collator_docstring_names_every_key_it_returns():
    rows = [s.input_ids for s in synthetic_text_batch(2, 60)]
    doc = ChatCollator.__doc__
    for kwargs in ({}, {"packed": True, "block_mask_dtype": torch.bfloat16}, {"return_num_learned": True}):
        for key in ChatCollator(presets.llama3(), 0, **kwargs)(rows):
            assert f"`{key}`" in doc, key
    assert "int32" in doc and "int64" in doc and "(1, 1, T, T)" in doc
