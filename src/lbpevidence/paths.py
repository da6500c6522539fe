"""Where the bundled reference table lives.

In a wheel, refs/ is installed as ``lbpevidence/refs``; in a source checkout
(editable install), it is the repository's top-level ``refs/``. An explicit path
given by the user always wins over both.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["bundled_refs", "resolve_refs_file"]

_PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_refs() -> Path:
    """Return the directory of the reference table shipped with the package.

    >>> (bundled_refs() / "studies.bib").name
    'studies.bib'
    """
    installed = _PACKAGE_DIR / "refs"
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent.parent / "refs"


def resolve_refs_file(path: str | Path | None, default_name: str) -> Path:
    """``path`` as given, or the bundled ``default_name`` when ``path`` is None.

    A directory is taken as a refs/ folder and ``default_name`` is looked up in it.
    """
    if path is None:
        return bundled_refs() / default_name
    path = Path(path)
    if path.is_dir() and default_name:
        candidate = path / default_name
        if candidate.exists():
            return candidate
    return path
