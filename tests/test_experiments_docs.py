"""docs/experiments.rst: the page, its figures and its numbers match the experiments' JSON results.

The numbers are read back from the page's tables by a parser written here (not by the generator) and compared
with the JSON files; the generator's own check (``experiments/docs_page.py --check``) must pass too."""

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "experiments.rst"
EXP = ROOT / "experiments"


def rows_of(text, first_cell):
    """Cells of the grid-table rows of the page whose first cell is ``first_cell``."""
    out = []
    for line in text.splitlines():
        if line.startswith("| "):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            if cells[0] == first_cell:
                out.append(cells)
    return out


def test_page_is_in_the_toctree_and_its_images_exist():
    assert PAGE.exists()
    assert re.search(r"^\s+experiments$", (ROOT / "docs" / "index.rst").read_text(), re.M)
    images = re.findall(r"^\.\. image:: (\S+)$", PAGE.read_text(), re.M)
    assert len(images) == 4
    for im in images:
        path = ROOT / "docs" / im
        assert path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_page_is_what_the_json_results_give():
    spec = importlib.util.spec_from_file_location("docs_page", EXP / "docs_page.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--check"]) == 0


def test_numbers_in_the_page_equal_the_json():
    text = PAGE.read_text()
    reg = json.loads((EXP / "regularized_digits.json").read_text())
    for name, row in reg["rows"].items():
        got = {r[2]: r for r in rows_of(text, name)}
        assert set(got) == set(row["var"])
        for k, v in row["var"].items():
            assert float(got[k][1]) == pytest.approx(row["accuracy"], abs=5e-5)
            for col, key in ((3, "var_delta_lo"), (4, "var_delta_hi"), (5, "t1")):
                assert float(got[k][col]) == pytest.approx(v[key], rel=1e-4)
    alg = json.loads((EXP / "algorithm1_digits.json").read_text())
    for rnd in alg["rounds"]:
        (r,) = rows_of(text, str(rnd["round"]))
        assert r[1] == "-".join(map(str, rnd["widths"]))
        assert float(r[8]) == pytest.approx(rnd["delta_bound"], rel=5e-3)
        assert float(r[7]) == pytest.approx(rnd["var_hi"], rel=5e-3)
    assert f"median of {alg['copies']} copies" in text
    rn = json.loads((EXP / "random_networks.json").read_text())
    for st in rn["settings"].values():
        assert f"{st['n']} × {'-'.join(map(str, st['widths']))}, p = {st['p']:g}" in text
    # Each setting's table follows its heading; read the rows in order.
    blocks = text.split("**")[1:]
    for name, st in rn["settings"].items():
        block = next(blocks[i + 1] for i in range(0, len(blocks), 2) if blocks[i] == name)
        table = {}
        for line in block.splitlines():
            if line.startswith("| E Δ") or line.startswith("| std Δ"):
                cells = [c.strip() for c in line.strip("|").split(" | ")]
                table[(cells[0], cells[1])] = cells
        n = 0
        for q, label in (("mean", "E Δ"), ("std", "std Δ")):
            for k, v in st["summary"][q].items():
                cells = table[(label, k)]
                assert float(cells[2]) == pytest.approx(v["rank_loss_folded"], abs=5e-4)
                assert float(cells[3]) == pytest.approx(v["rank_loss"], abs=5e-4)
                assert float(cells[4]) == pytest.approx(v["median_relative_error"], abs=5e-4)
                n += 1
        assert n == len(table) >= 10


@pytest.mark.parametrize("name", ["regularized_digits", "algorithm1_digits"])
def test_figures_redraw_from_the_committed_json(name, tmp_path):
    spec = importlib.util.spec_from_file_location(name, EXP / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--replot", str(EXP / f"{name}.json"), "--figures", str(tmp_path)]) in (None, 0)
    png = tmp_path / f"{name}.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
