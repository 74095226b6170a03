"""The command line and ``import symft`` start without the heavy libraries: they are imported where they are used.

The testable form of "``symft info`` answers fast": which modules a fresh interpreter holds after the
statement (a ``sys.modules`` check in a subprocess), not a timing.
"""

import subprocess
import sys

import pytest

HEAVY = ("sympy", "z3", "torch", "onnx", "onnxruntime", "pysat", "scipy", "matplotlib", "dask", "distributed",
         "sklearn", "networkx", "mpmath", "tqdm")


def _heavy_after(statement):
    code = f"import sys\n{statement}\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return out.splitlines()[-1].split() if out.strip() else []


@pytest.mark.parametrize("statement", [
    "import symft.cli",
    "import symft",
    "import symft; dir(symft)",
    "from symft.cli import main; main(['info', 'examples/digits_sigmoid.json'])",
    "from symft.cli import main; main(['eval', 'examples/digits_sigmoid.json', '--input', ','.join(['0'] * 64)])",
    "import pickle, symft; pickle.loads(pickle.dumps(symft.random_network([3, 4, 2], seed=0)))",
])
def test_heavy_modules_are_not_imported_at_start(statement):
    assert _heavy_after(statement) == []


def test_an_exact_network_imports_sympy_and_nothing_else_heavy():
    # exact weights are SymPy numbers, so SymPy (and its mpmath) is the one heavy library it needs
    statement = "from symft.cli import main; main(['info', 'tests/data/residual_mlp.json'])"
    assert _heavy_after(statement) == ["sympy", "mpmath"]


@pytest.mark.parametrize("statement, heavy", [
    ("import symft.cli, z3", ["z3"]),
    ("import symft; symft.random_network([2, 3, 1], seed=0).graph", ["networkx"]),
    ("import symft; symft.get_activation('relu').expr", ["sympy", "mpmath"]),
])
def test_the_check_sees_a_heavy_import(statement, heavy):
    # the same check does report a heavy module once something asks for it
    assert _heavy_after(statement) == heavy
