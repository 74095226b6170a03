"""Sphinx configuration for the symft documentation."""

import os
import sys

# Import symft and reductions from this checkout, without installation.
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

project = "symft"
author = "the symft developers"
copyright = "2025, the symft developers"
release = "0.1.0"
version = "0.1"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",   # MathJax from the docs extra's package, not a CDN: the math renders offline
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# sphinx-gallery: the scripts of gallery/ run at build time, their figures become the pages of
# auto_gallery/ (generated, not committed). matplotlib draws off-screen (Agg) in the build only.
sphinx_gallery_conf = {
    "examples_dirs": "../gallery",
    "gallery_dirs": "auto_gallery",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "abort_on_example_error": True,
    "show_memory": False,
    "remove_config_comments": True,
    # no pages of build timings: they load jQuery and DataTables from a CDN (the docs must work offline)
    "write_computation_times": False,
}

# numpydoc
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# autodoc: signatures are documented in the numpydoc Parameters sections.
autodoc_typehints = "none"
autodoc_member_order = "bysource"

templates_path = []
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "auto_gallery/*.ipynb", "auto_gallery/*.py"]

html_theme = "alabaster"
# A wider text column than the default 940 px, so that 79-character code lines (the gallery,
# the tutorial) show without sideways scrolling; still narrower than a 1024-pixel window.
html_theme_options = {"page_width": "1000px"}
html_static_path = ["_static"]      # custom.css: the narrow-window fix for the theme
