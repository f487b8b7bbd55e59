"""Sphinx configuration of skae's documentation site.

Build it offline with ``python -m sphinx -W -b html docs docs/_build/html``;
``-D plot_gallery=0`` skips executing the gallery's examples.
"""

from __future__ import annotations

from numpydoc.xref import DEFAULT_LINKS

import skae

project = "skae"
author = "the skae developers"
copyright = "2026, the skae developers"
release = version = skae.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

root_doc = "index"
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "**.codeobj.json"]
templates_path = ["_templates"]

# Markdown pages: $...$ and $$...$$ maths, (label)= targets, ::: fences.
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

# The API reference: one page per public class and function.
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Types such as "ndarray of shape (n_samples, n_features_in_)" are read as types, not
# markup; names without a link stay plain text.
numpydoc_xref_param_type = True
numpydoc_xref_ignore = "all"
# numpydoc's default aliases point "int", "array-like" and the like at the Python and
# NumPy sites (intersphinx, which needs the network): here each names itself, plain text.
numpydoc_xref_aliases = {name: name for name in DEFAULT_LINKS}

# scikit-learn's own methods that its docstrings link to its site (metadata routing,
# set_output): documented there, not here, as the build has no link to it.
_FROM_SCIKIT_LEARN_KEPT = {"fit_transform", "fit_predict", "get_params", "set_params"}


def _skip_scikit_learn_members(app, what, name, obj, skip, options):
    module = getattr(obj, "__module__", "") or ""
    if module.startswith("sklearn.") and name not in _FROM_SCIKIT_LEARN_KEPT:
        return True
    return skip


def setup(app):
    app.connect("autodoc-skip-member", _skip_scikit_learn_members)


# No network, at build time or when reading: no intersphinx, and MathJax served from
# the site itself (docs/_static/mathjax, every TeX extension in one file, SVG output).
html_static_path = ["_static"]
html_css_files = ["skae.css"]
mathjax_path = "mathjax/tex-svg-full.js"

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"plot_",
    "plot_gallery": "True",  # -D plot_gallery=0 builds the pages without running them
    "download_all_examples": False,
    "remove_config_comments": True,
}

html_theme = "pydata_sphinx_theme"
html_title = f"skae {version}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False
# "fit()", not "AutoEncoder.fit()", in a page's table of contents: the class is the page.
toc_object_entries_show_parents = "hide"
