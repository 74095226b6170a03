"""The gallery and the built docs: every gallery script draws its figure headless, and the built pages hold them.

* fast: each ``gallery/plot_*.py`` runs in a fresh interpreter with matplotlib's Agg backend, draws at least one
  figure and cites the theory page; the sources of the pages say what the figures are;
* fast: the docs extra installs MathJax (``sphinx-mathjax-offline``) and ``docs/conf.py`` uses it; without a
  Chromium the browser checks skip, or fail when ``SYMFT_REQUIRE_BROWSER=1`` (``.ci/run`` sets it);
* slow (``-m slow``): the built HTML — the CI-built tree ``docs/_build/html`` when it exists, else a build into a
  scratch folder — has the gallery pages with their ``<img>`` files, the theory page and the tutorial; every
  page with math loads MathJax from the build itself (the file and its fonts are there) and no page loads a
  script or style sheet from the web; no page has a ``<pre>`` line so long that it would spill out (the theme
  scrolls ``pre`` sideways, checked here); and a headless Chromium, at 1280, 1024 and 800 pixels, finds every
  formula typeset by MathJax (no TeX source left showing, no TeX error), nothing clipped, nothing past the
  right edge and nothing fetched from the network.  Two controls show the browser check can fail: a page
  built to be clipped and left untypeset, and TeX errors typeset by the shipped MathJax.
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


def test_the_docs_extra_ships_mathjax_and_the_build_uses_it():
    """Offline math: the docs extra installs MathJax from a package registry and the build copies it."""
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(re.match(r"sphinx-mathjax-offline\b", r) for r in extras["docs"]), extras["docs"]
    conf = (ROOT / "docs" / "conf.py").read_text()
    assert '"sphinx-mathjax-offline"' in conf and "sphinx.ext.mathjax" in conf
    assert not re.search(r"mathjax_path\s*=\s*[\'\"](https?:)?//", conf)          # no CDN put back by hand
    assert (ROOT / "docs" / "_static" / "custom.css").exists()


def test_a_missing_browser_fails_when_ci_requires_one(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("SYMFT_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception):
        chromium()
    monkeypatch.setenv("SYMFT_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="no Chromium"):
        chromium()


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


def chromium():
    """The headless browser, or a skip; with ``SYMFT_REQUIRE_BROWSER=1`` (set by ``.ci/run``) a failure instead."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    if os.environ.get("SYMFT_REQUIRE_BROWSER") == "1":
        pytest.fail("SYMFT_REQUIRE_BROWSER=1 but no Chromium is installed "
                    "(apt-get install -y --no-install-recommends chromium)")
    pytest.skip("no Chromium: the static checks above still run")


#: The window widths checked: a wide screen, a small laptop, a narrow window (or a tablet held upright).
WIDTHS = (1280, 1024, 800)


def run_page(browser, uri, width, profile):
    """Load ``uri`` in a fresh headless Chromium (nothing from the network) and return its final DOM."""
    r = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={profile}", f"--window-size={width},900",
                        "--virtual-time-budget=5000", "--dump-dom", uri],
                       capture_output=True, text=True, timeout=120)
    return r


def attribute(dom, name):
    m = re.search(rf'{name}="([^"]*)"', dom)
    return None if m is None else json.loads(html.unescape(m.group(1)))


@pytest.mark.slow
def test_math_is_served_from_the_build_not_a_cdn(built):
    """Offline docs: every page with math loads MathJax from the build's own ``_static`` (shipped by the docs
    extra's package), the file is there with its fonts, and no page loads a script or stylesheet from the web."""
    with_math = 0
    for page in sorted(built.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        external = [u for u in re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', text)
                    if re.match(r"(https?:)?//", u) and not re.search(r'rel="(canonical|alternate)"', text)]
        assert not external, f"{page.relative_to(built)} loads {external[:3]}"
        for src in re.findall(r'<script\b[^>]*\bsrc="([^"]*mathjax[^"]*)"', text, re.I):
            with_math += 1
            f = (page.parent / html.unescape(src).split("?")[0]).resolve()
            assert f.is_file() and f.stat().st_size > 100_000, f"{page.relative_to(built)}: {src} is not in the build"
    assert with_math >= 3                                # the theory page, the tutorial, gallery pages
    fonts = list((built / "_static" / "mathjax" / "output" / "chtml" / "fonts").rglob("*.woff"))
    assert len(fonts) >= 10, "MathJax's fonts are missing from the build"


@pytest.mark.slow
def test_headless_browser_finds_math_rendered_and_nothing_clipped(built, tmp_path):
    browser = chromium()
    site = tmp_path / "site"
    shutil.copytree(built, site)
    script = (ROOT / "tests" / "data" / "clipped_content.js").read_text()
    problems, typeset = {}, 0
    for page in pages(built):
        copy = site / page.relative_to(built)
        copy.write_text(copy.read_text(encoding="utf-8").replace("</body>", f"<script>{script}</script></body>"),
                        encoding="utf-8")
        for width in WIDTHS:
            r = run_page(browser, copy.as_uri(), width, tmp_path / f"profile-{width}")
            found, math = attribute(r.stdout, "data-clipped"), attribute(r.stdout, "data-math")
            assert found is not None and math is not None, f"{page.name}: the check did not run ({r.stderr[-300:]})"
            where = f"{page.relative_to(built)} at {width}px"
            if found:
                problems[where] = found[:5]
            if math["math"]:
                if math["mathjax"] != "typeset" or math["rendered"] < math["math"] or math["raw"] or math["errors"]:
                    problems[where + " (math)"] = math
                typeset += 1
    assert not problems, problems
    assert typeset >= 3 * len(WIDTHS), "no page had math to check"


@pytest.mark.slow
def test_the_browser_check_can_fail(tmp_path):
    browser = chromium()
    script = (ROOT / "tests" / "data" / "clipped_content.js").read_text()
    page = tmp_path / "bad.html"
    page.write_text(f'<html><body><div style="width:300px;overflow:hidden;white-space:nowrap">{"x" * 300}</div>'
                    f'<pre style="white-space:pre">{"y" * 400}</pre>'
                    r'<span class="math notranslate nohighlight">\(x^2\)</span>'
                    f'<script>{script}</script></body></html>')
    r = run_page(browser, page.as_uri(), 1280, tmp_path / "profile")
    found, math = attribute(r.stdout, "data-clipped"), attribute(r.stdout, "data-math")
    assert any(f.startswith("clipped div") for f in found) and any("scrolls sideways" in f for f in found), found
    assert math == {"math": 1, "rendered": 0, "raw": [r"\(x^2\)"], "errors": 0, "mathjax": "absent"}, math


@pytest.mark.slow
def test_the_browser_check_sees_math_typeset_by_the_shipped_mathjax(built, tmp_path):
    """Positive control: the built MathJax typesets TeX in a bare page (and a TeX error would show)."""
    browser = chromium()
    script = (ROOT / "tests" / "data" / "clipped_content.js").read_text()
    page = built / "_static" / "mathjax_probe_for_test.html"
    try:
        page.write_text('<html><body><span class="math">\\(\\frac{a}{b}\\)</span>'
                        '<span class="math">\\(\\undefinedmacro\\)</span><span class="math">\\(\\frac{a}\\)</span>'
                        '<script defer src="mathjax/tex-chtml.js"></script>'
                        f'<script>{script}</script></body></html>')
        r = run_page(browser, page.as_uri(), 1280, tmp_path / "profile")
    finally:
        page.unlink()
    math = attribute(r.stdout, "data-math")
    assert math is not None, r.stderr[-300:]
    assert math == {"math": 3, "rendered": 3, "raw": [], "errors": 2, "mathjax": "typeset"}, math
