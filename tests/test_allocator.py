"""Freed memory kept in the process: fewer page faults for the same numbers (measured in fresh processes,
as the setting is for the whole process)."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest

_CHILD = r"""
import json, resource, sys
import numpy as np
if sys.argv[1] == "keep":
    from symft.allocator import keep_freed_memory
    assert keep_freed_memory()
from symft.engines.forward import forward_masked, forward_trace
from symft.graph.network import random_network
# blocks of a stratified sampler on a digits-sized net: 38 crash patterns x 450 inputs each
net = random_network([64, 32, 16, 10], seed=0, activation="sigmoid")
X = np.random.default_rng(1).normal(size=(450, 64))
trace = forward_trace(net, X)
rng = np.random.default_rng(2)
masks = [{1: rng.random((38, 32)) < 0.05, 2: rng.random((38, 16)) < 0.05} for _ in range(30)]
f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
outs = [forward_masked(net, X, m, trace=trace).sum(axis=(1, 2)).tolist() for m in masks]
print(json.dumps({"faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0, "outs": outs}))
"""


def _run(mode):
    out = subprocess.run([sys.executable, "-c", _CHILD, mode], capture_output=True, text=True, check=True,
                         timeout=120)
    return json.loads(out.stdout)


@pytest.mark.skipif(not (platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"), reason="glibc only")
def test_kept_memory_is_reused_instead_of_faulted_in_afresh_and_the_numbers_are_the_same():
    plain, kept = _run("plain"), _run("keep")
    assert kept["outs"] == plain["outs"]
    # glibc's own thresholds give the memory of each block back and fault it in again at the next (measured:
    # about 88,000 faults for the 30 blocks), kept memory is faulted in for the first blocks only (about 4,000)
    assert kept["faults"] < plain["faults"] / 5


def test_the_command_keeps_freed_memory(monkeypatch):
    from symft import cli
    from symft.allocator import keep_freed_memory

    calls = []
    monkeypatch.setattr(cli, "keep_freed_memory", lambda: calls.append(1) or keep_freed_memory())
    assert cli.main(["info", "examples/digits_sigmoid.json", "--json"]) == 0
    assert calls == [1]
