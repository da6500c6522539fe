"""Shared fixtures: a valid studies.bib entry to mutate, and file writers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run by default, so CI is never red by chance;
# HYPOTHESIS_PROFILE=explore draws new ones (run it locally to hunt for new failures).
settings.register_profile("default", derandomize=True, deadline=None)
settings.register_profile("explore", derandomize=False, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"

VALID_FIELDS = {
    "author": "Doe, Jane and M{\\\"u}ller, Hans",
    "title": "A {Trial} of something",
    "journal": "Spine",
    "year": "2020",
    "volume": "45",
    "number": "3",
    "pages": "100--110",
    "doi": "10.1000/xyz123",
    "pmid": "12345678",
    "modality": "acupuncture",
    "design": "rct",
    "population": "chronic",
    "participants": "120",
    "comparator": "sham",
    "finding": "small-benefit",
    "source": "https://pubmed.ncbi.nlm.nih.gov/12345678/",
    "location": "PubMed abstract",
    "verified": "2026-01-01",
}


def bib_entry(key: str = "doe2020trial", entry_type: str = "article", drop: tuple[str, ...] = (),
              **fields: str) -> str:
    """A studies.bib entry, valid unless fields are dropped or overridden (one field per line)."""
    values = {**VALID_FIELDS, **fields}
    body = "".join(f"  {name} = {{{value}}},\n" for name, value in values.items() if name not in drop)
    return f"@{entry_type}{{{key},\n{body}}}\n"


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    """Tests never read or write the user's cache (~/.cache/lbpevidence)."""
    import os

    folder = tmp_path_factory.mktemp("lbpevidence-cache")
    previous = os.environ.get("LBPEVIDENCE_CACHE_DIR")
    os.environ["LBPEVIDENCE_CACHE_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("LBPEVIDENCE_CACHE_DIR", None)
    else:
        os.environ["LBPEVIDENCE_CACHE_DIR"] = previous


@pytest.fixture
def write(tmp_path):
    """Write text (or bytes) to a file in tmp_path and return its path."""

    def _write(text: str | bytes, name: str = "studies.bib") -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture(scope="session")
def review():
    """The review of the bundled refs/ (load_review caches it: every test sees the same object)."""
    import lbpevidence as lbp

    return lbp.load_review()


@pytest.fixture
def close_figures():
    """Close every matplotlib figure a test opened (figure tests: ``pytestmark``)."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
