"""Sphinx configuration of the documentation site: the user guide (docs/, refs/README.md, README.md) and the API
reference from the numpydoc docstrings.

Build it (the tests build it too, tests/test_docs.py, and fail on any warning)::

    sphinx-build -W -c docs -b html . build/docs     # then open build/docs/index.html

The source folder is the repository root, so that the pages link to each other as they do on GitHub
(``../refs/README.md``); only the files in ``include_patterns`` are read.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))  # a checkout without `pip install -e .` documents its own code

project = "lbpevidence"
author = "lbpevidence developers"
copyright = "lbpevidence developers, MIT licence"

extensions = ["myst_parser", "sphinx.ext.autodoc", "numpydoc"]
root_doc = "docs/index"
include_patterns = ["README.md", "refs/README.md", "docs/**.md"]
exclude_patterns = [".*", "build", "report", "notebooks", "src", "tests", "benchmarks", "scripts", "**/.venv",
                    "**/node_modules"]

myst_heading_anchors = 3          # links to a heading (refs/README.md#add-a-trial) resolve
myst_enable_extensions = ["colon_fence"]

autodoc_member_order = "bysource"
autodoc_typehints = "none"        # the numpydoc sections say the types; the signatures stay short
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "alabaster"
html_title = "lbpevidence"
html_theme_options = {"description": "The evidence for non-drug treatments of low back pain, reviewed",
                      "fixed_sidebar": True}


def _front_door(app, exception) -> None:
    """``index.html`` at the top of the site opens the front page (docs/index.html)."""
    if exception is None and app.builder.format == "html":
        Path(app.outdir, "index.html").write_text(
            '<!DOCTYPE html><meta charset="utf-8"><title>lbpevidence</title>'
            '<meta http-equiv="refresh" content="0; url=docs/index.html"><a href="docs/index.html">lbpevidence</a>\n',
            encoding="utf-8")


def setup(app):
    """docs/architecture.md's ```layers blocks (read by tests/test_architecture.py) are shown as plain text."""
    from pygments.lexers.special import TextLexer
    from sphinx.highlighting import lexers

    lexers["layers"] = TextLexer()
    app.connect("build-finished", _front_door)
