"""The documentation site builds without a warning: the user guide and the API reference from the docstrings.

``sphinx-build -W`` turns every warning into an error: a broken link between the pages, a
docstring numpydoc cannot read, a module that does not import. The site is built into a
temporary folder, so the tree stays as it was.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_documentation_site_builds_without_warnings(tmp_path):
    out = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-c", str(ROOT / "docs"), "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(ROOT), str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    pages = {path.relative_to(out).as_posix() for path in out.rglob("*.html")}
    assert {"index.html", "docs/index.html", "README.html", "refs/README.html", "docs/add-a-trial.html",
            "docs/evidence-and-verdicts.html", "docs/architecture.html", "docs/api/computing.html"} <= pages
    api = (out / "docs" / "api" / "computing.html").read_text(encoding="utf-8")
    assert 'id="lbpevidence.meta.pooling.meta_analysis"' in api  # the reference is made from the docstrings
    trial = (out / "docs" / "add-a-trial.html").read_text(encoding="utf-8")
    assert "Check it without writing" in trial  # the walkthrough of refs/README.md, included, not copied
