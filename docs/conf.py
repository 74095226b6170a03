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
    "sphinx.ext.viewcode",
    "numpydoc",
]

# numpydoc
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# autodoc: signatures are documented in the numpydoc Parameters sections.
autodoc_typehints = "none"
autodoc_member_order = "bysource"

templates_path = []
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

html_theme = "alabaster"
html_static_path = []
