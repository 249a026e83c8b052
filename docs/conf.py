"""Sphinx configuration for skfashion's documentation."""

import os
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("MPLBACKEND", "Agg")

import skfashion  # noqa: E402

project = "skfashion"
author = "The skfashion developers"
copyright = "2026, The skfashion developers"
version = release = skfashion.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "results"]
root_doc = "index"

autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

html_theme = "pydata_sphinx_theme"
html_title = f"skfashion {version}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "doc_module": ("skfashion",),
    "backreferences_dir": "generated/backreferences",
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    "show_memory": False,
    "matplotlib_animations": False,
}

# skorch and torch emit warnings we cannot fix from here
warnings.filterwarnings("ignore", category=UserWarning, message=".*TypedStorage.*")


def _serve_settings_table(path):
    """The Serving page's settings reference, written from the one settings
    value (``skfashion.serve.ServeSettings``) and the options derived from it."""
    from skfashion.serve import LIMITS, options

    rows = []
    for option in options():
        rule = LIMITS.get(option.name)
        bounds = ""
        if rule is not None:
            low, high = rule.low / option.scale, rule.high
            high = "" if high is None else f"{high / option.scale:g}"
            bounds = f"{'(' if rule.low_open else '['}{low:g}, {high or 'no limit'}"
            bounds += "]" if high else ")"
            unit = option.kwargs.get("metavar", "")
            units = {"MB": "MB", "KB": "KB", "MS": "ms", "S": "s"}
            bounds += f" {units[unit]}" if unit in units else ""
        text = option.kwargs["help"].replace("%%", "%").replace("*", r"\*")
        rows.append(
            f"   * - ``{option.name}``\n     - ``{option.flag}``\n"
            f"     - {bounds or '--'}\n     - {text}\n"
        )
    head = (
        ".. list-table::\n   :header-rows: 1\n   :widths: 20 20 15 45\n\n"
        "   * - setting\n     - option\n     - range\n     - what it is\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + "".join(rows))


_serve_settings_table(HERE / "generated" / "serve_settings.inc")
