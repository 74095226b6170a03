"""docs/tutorial.rst runs: its doctest session (PyTorch model → symft → answers) and every shell command it shows.

The session runs in a scratch folder holding a link to the repository's ``examples/`` (the page's paths start at
the repository root); the commands of its ``console`` blocks then run there through ``symft.cli.main`` on the
files the session wrote, and must succeed and print their answer.
"""

import doctest
import os
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "tutorial.rst"

pytest.importorskip("torch")
pytest.importorskip("onnx")
pytest.importorskip("sklearn")


def console_commands(text):
    """The ``$ symft …`` lines of the page's console blocks, as argument lists."""
    out = []
    for block in re.findall(r"^\.\. code-block:: console\n\n((?:   .*\n|\n)+)", text, re.M):
        block = re.sub(r"\\\n\s*", " ", block)          # a command continued on the next line
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("$ "):
                out.append(shlex.split(line[2:]))
    return out


def test_the_page_is_in_the_toctree():
    assert re.search(r"^\s+tutorial$", (ROOT / "docs" / "index.rst").read_text(), re.M)


def test_tutorial_session_and_commands_run(tmp_path, monkeypatch, capsys):
    from symft.cli import main

    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    failed, attempted = doctest.testfile(str(PAGE), module_relative=False, optionflags=flags, report=True,
                                         verbose=False)
    assert attempted >= 20 and failed == 0, capsys.readouterr().out
    assert (tmp_path / "my_model.onnx").exists() and (tmp_path / "digit.npy").exists()
    commands = console_commands(PAGE.read_text())
    assert len(commands) == 5 and all(c[0] == "symft" for c in commands)
    capsys.readouterr()
    expect = {"info": "act2", "exact": "E Δ", "enclose": "E Δ lo", "worst": "status: proved",
              "accuracy": "accuracy under crashes"}
    for argv in commands:
        assert main(argv[1:]) == 0, argv
        out = capsys.readouterr().out
        assert expect[argv[1]] in out, (argv, out[:500])


def test_console_blocks_are_found():
    text = ".. code-block:: console\n\n   $ symft info a.onnx\n   $ symft exact a.onnx \\\n         --p 1e-3\n\nprose\n"
    assert console_commands(text) == [["symft", "info", "a.onnx"], ["symft", "exact", "a.onnx", "--p", "1e-3"]]
    assert not os.path.isabs(console_commands(text)[0][2])
