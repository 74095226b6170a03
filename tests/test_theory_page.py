"""The documentation ships its own theory page, and nothing in the repository cites a file outside it.

The statements symft implements are restated in ``docs/theory.rst`` (the project's own words, the
papers' labels kept); docstrings, docs and tests refer to it as "theory §N" or "theory D3".
"""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
TEXT = (".py", ".rst", ".md", ".toml", ".txt", ".cfg", ".json")


def _tracked_text_files():
    for top in ("symft", "reductions", "docs", "tests", "examples", "experiments", "benchmarks", "gallery"):
        for p in (ROOT / top).rglob("*"):
            if p.suffix in TEXT and "_build" not in p.parts and p.is_file():
                yield p
    yield ROOT / "README.md"


def test_the_theory_page_is_in_the_docs_and_states_every_label():
    page = (ROOT / "docs" / "theory.rst").read_text(encoding="utf-8")
    index = (ROOT / "docs" / "index.rst").read_text(encoding="utf-8")
    assert re.search(r"^\s+theory$", index, re.M), "docs/index.rst: the theory page is not in the toctree"
    for section in ("§1", "§2", "§3", "§4", "§5", "§6", "§7"):
        assert re.search(rf"^{section} ", page, re.M), section
    for label in ("D1", "D2", "D3", "D4", "D5", "P1", "P2", "P3", "P5", "AP1", "AP2", "AP7", "AC1", "AC2", "T1",
                  "AP10", "E3", "E4", "E5", "E6", "E7", "Algorithm 1", "Eq. 1"):
        assert label in page, label
    assert ".. math::" in page and ":math:" in page        # real math, rendered by MathJax


def test_no_file_cites_a_document_outside_the_repository():
    bad = []
    for p in _tracked_text_files():
        if p.name == pathlib.Path(__file__).name:
            continue
        text = p.read_text(encoding="utf-8", errors="replace")
        for pat in (r"\bTHEORY\b", r"\.\./shared", r"\bseeds/"):
            for m in re.finditer(pat, text):
                line = text.count("\n", 0, m.start()) + 1
                bad.append(f"{p.relative_to(ROOT)}:{line}: {pat}")
    assert not bad, "cites a file outside the repository:\n" + "\n".join(bad[:20])
