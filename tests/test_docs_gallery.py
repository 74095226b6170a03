"""The gallery and the built docs: every gallery script draws its figure headless, and the built pages hold them.

* fast: each ``gallery/plot_*.py`` runs in a fresh interpreter with matplotlib's Agg backend, draws at least one
  figure and cites the theory page; the sources of the pages say what the figures are;
* slow (``-m slow``): the built HTML — the CI-built tree ``docs/_build/html`` when it exists, else a build into a
  scratch folder — has the gallery pages with their ``<img>`` files, the theory page and the tutorial; no page
  has a ``<pre>`` line so long that it would spill out (the theme scrolls ``pre`` sideways, checked here); and,
  when a Chromium is installed, a headless browser finds no clipped element and no sideways-scrolling page.
"""

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GALLERY = ROOT / "gallery"
SCRIPTS = sorted(GALLERY.glob("plot_*.py"))
PNG = b"\x89PNG\r\n\x1a\n"

pytest.importorskip("matplotlib")


def test_six_gallery_scripts_with_plain_words_and_theory_links():
    assert [p.stem for p in SCRIPTS] == ["plot_accuracy_vs_p", "plot_bounds_rank_loss", "plot_continuous_limit",
                                         "plot_law_of_delta", "plot_mean_exact_t1_mc", "plot_p1_reduction"]
    assert (GALLERY / "GALLERY_HEADER.rst").exists()
    for p in SCRIPTS:
        text = p.read_text(encoding="utf-8")
        assert text.startswith('r"""\n'), p.name                       # the page's title and text
        assert ":ref:`theory §" in text, p.name                        # links a section of the theory page
        assert not re.search(r"from (symft|reductions)\S* import _|\._[a-z]\w*\(", text), p.name   # public API
        assert "matplotlib.use(" not in text, p.name                   # the build chooses the backend


def test_every_gallery_script_runs_headless_and_draws(tmp_path):
    code = (
        "import os, runpy, sys\n"
        "import matplotlib.pyplot as plt\n"
        "out = sys.argv[1]\n"
        "for path in sys.argv[2:]:\n"
        "    plt.close('all')\n"
        "    runpy.run_path(path, run_name='__main__')\n"
        "    nums = plt.get_fignums()\n"
        "    assert nums, path + ': no figure'\n"
        "    for i in nums:\n"
        "        plt.figure(i).savefig(os.path.join(out, os.path.basename(path)[:-3] + f'_{i}.png'))\n"
    )
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path), *map(str, SCRIPTS)], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    for p in SCRIPTS:
        figs = list(tmp_path.glob(p.stem + "_*.png"))
        assert figs and all(f.read_bytes()[:8] == PNG for f in figs), p.name


def test_index_and_readme_link_the_gallery_and_tutorial():
    index = (ROOT / "docs" / "index.rst").read_text()
    assert re.search(r"^\s+auto_gallery/index$", index, re.M) and re.search(r"^\s+tutorial$", index, re.M)
    readme = (ROOT / "README.md").read_text()
    assert "docs/tutorial.rst" in readme and "gallery/" in readme


# ---------------------------------------------------------------------------------------------- the built pages

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The CI-built tree when present and holding the gallery, else a fresh build (about a minute)."""
    tree = ROOT / "docs" / "_build" / "html"
    if (tree / "auto_gallery" / "index.html").exists():
        return tree
    pytest.importorskip("sphinx_gallery")
    out = tmp_path_factory.mktemp("html")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "docs", str(out)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return out


def pages(built):
    return ([built / "auto_gallery" / "index.html"] + [built / "auto_gallery" / f"{p.stem}.html" for p in SCRIPTS]
            + [built / "tutorial.html", built / "theory.html", built / "index.html"])


@pytest.mark.slow
def test_built_gallery_pages_hold_their_figures(built):
    for p in SCRIPTS:
        page = built / "auto_gallery" / f"{p.stem}.html"
        assert page.exists(), page
        srcs = re.findall(r'<img[^>]*\bsrc="([^"]+)"', page.read_text(encoding="utf-8"))
        figs = [s for s in srcs if f"sphx_glr_{p.stem}_" in s]
        assert figs, f"{page.name}: no figure"
        for s in figs:
            f = (page.parent / html.unescape(s)).resolve()
            assert f.exists() and f.read_bytes()[:8] == PNG and f.stat().st_size > 10_000, f
    gallery = (built / "auto_gallery" / "index.html").read_text(encoding="utf-8")
    assert all(f"{p.stem}.html" in gallery for p in SCRIPTS)
    theory = (built / "theory.html").read_text(encoding="utf-8")
    assert all(f'id="theory-s{n}"' in theory for n in range(1, 8))
    assert "analyse your own model" in (built / "tutorial.html").read_text(encoding="utf-8").lower()


@pytest.mark.slow
def test_no_pre_block_spills_out_of_the_page(built):
    """Static check (no browser needed): the theme scrolls ``pre`` sideways, and no line or table row is so long
    that even a scrolled block would be unreadable."""
    css = "".join(p.read_text(encoding="utf-8", errors="replace") for p in (built / "_static").glob("*.css"))
    assert re.search(r"pre\s*\{[^}]*overflow(-x)?:\s*(auto|scroll)", css), "no sideways scroll style for pre"
    for page in pages(built):
        text = page.read_text(encoding="utf-8")
        for pre in re.findall(r"<pre[^>]*>(.*?)</pre>", text, re.S):
            for line in html.unescape(re.sub(r"<[^>]+>", "", pre)).splitlines():
                assert len(line) <= 160, f"{page.name}: a {len(line)}-character line: {line[:80]}…"
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", text, re.S):
            cells = html.unescape(re.sub(r"<[^>]+>", " ", row))
            assert len(" ".join(cells.split())) <= 400, f"{page.name}: a table row of {len(cells)} characters"


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")),
                    reason="no Chromium: the static check above still runs")
def test_headless_browser_finds_no_clipped_content(built, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    site = tmp_path / "site"
    shutil.copytree(built, site)
    script = (ROOT / "tests" / "data" / "clipped_content.js").read_text()
    problems = {}
    for page in pages(built):
        copy = site / page.relative_to(built)
        copy.write_text(copy.read_text(encoding="utf-8").replace("</body>", f"<script>{script}</script></body>"),
                        encoding="utf-8")
        for width in (1280, 1024):
            r = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--window-size={width},900",
                                "--virtual-time-budget=3000", "--dump-dom", copy.as_uri()],
                               capture_output=True, text=True, timeout=120)
            m = re.search(r'data-clipped="([^"]*)"', r.stdout)
            assert m, f"{page.name}: the check did not run ({r.stderr[-300:]})"
            found = json.loads(html.unescape(m.group(1)))
            if found:
                problems[f"{page.relative_to(built)} at {width}px"] = found[:5]
    assert not problems, problems


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")), reason="no Chromium")
def test_the_browser_check_can_fail(tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    script = (ROOT / "tests" / "data" / "clipped_content.js").read_text()
    page = tmp_path / "bad.html"
    page.write_text(f'<html><body><div style="width:300px;overflow:hidden;white-space:nowrap">{"x" * 300}</div>'
                    f'<pre style="white-space:pre">{"y" * 400}</pre><script>{script}</script></body></html>')
    r = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
                        "--virtual-time-budget=3000", "--dump-dom", page.as_uri()], capture_output=True, text=True,
                       timeout=120)
    found = json.loads(html.unescape(re.search(r'data-clipped="([^"]*)"', r.stdout).group(1)))
    assert any(f.startswith("clipped div") for f in found) and any("scrolls sideways" in f for f in found), found
