"""The command line starts without the heavy optional libraries: they are imported where they are used."""

import subprocess
import sys

import pytest

HEAVY = ("z3", "torch", "onnx", "onnxruntime", "pysat", "scipy", "matplotlib", "dask", "sklearn")


@pytest.mark.parametrize("statement", ["import symft.cli", "import symft",
                                       "from symft.cli import main; main(['info', 'tests/data/residual_mlp.json'])"])
def test_heavy_modules_are_not_imported_at_start(statement):
    code = f"import sys\n{statement}\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1].strip() == ""


def test_the_check_sees_a_heavy_import():
    # the same check does report a heavy module once something imports it
    code = f"import sys\nimport symft.cli, z3\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["z3"]
