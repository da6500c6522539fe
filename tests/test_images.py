"""The figures, compared with reference images: what a reader sees, pixel by pixel, within a tolerance.

test_plots.py and test_maps.py check each figure through its artists (rows, labels, colours, gids); these tests
check the rendered picture, so that a change of layout, a clipped label or a legend drawn over
the data fails too. Each figure is drawn under pinned settings and compared with its baseline in
tests/baseline/ by :func:`matplotlib.testing.compare.compare_images` (RMS difference of the
pixels, 0-255, at most :data:`TOLERANCE`).

What is pinned, so that the pictures are the same on every run and machine: the Agg renderer,
matplotlib's default style, the DejaVu Sans font shipped inside matplotlib (not a system font),
no font hinting (as matplotlib's own image tests), 100 dpi, a tight bounding box, and PNG files
without metadata (no software version, no date: :func:`lbpevidence.plots.figure_png`).

Regenerate the baselines after an intended change of a figure (or of refs/, for the figures of
the bundled review), look at the new PNGs, and commit them:

    LBPEVIDENCE_UPDATE_BASELINES=1 pytest tests/test_images.py

On a failure, the figure drawn and a picture of the difference are left in pytest's temporary
folder; the message names them.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest
from matplotlib import font_manager
from matplotlib.testing.compare import compare_images

from lbpevidence import maps, plots, tables

BASELINE = Path(__file__).parent / "baseline"
TOLERANCE = 2.0  # RMS, 0-255: antialiasing differences between FreeType builds stay below it
UPDATE = os.environ.get("LBPEVIDENCE_UPDATE_BASELINES") == "1"

PINNED = {"font.family": ["DejaVu Sans"], "text.hinting": "none", "figure.dpi": 100,
          "savefig.dpi": 100, "axes.unicode_minus": True}


@contextmanager
def pinned():
    """matplotlib's default style with the font and the rendering pinned (see the module docstring)."""
    with matplotlib.style.context("default"), matplotlib.rc_context(PINNED):
        yield


pytestmark = pytest.mark.usefixtures("close_figures")


def test_the_pinned_font_is_matplotlibs_own():
    """A system DejaVu Sans of another version would draw other glyphs: the font must come from matplotlib."""
    with pinned():
        path = Path(font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans")))
    assert path.name == "DejaVuSans.ttf"
    assert Path(matplotlib.get_data_path()) in path.parents


def _effects() -> pd.DataFrame:
    return pd.DataFrame({
        "key": ["cole2010", "ames2001", "burt2005", "dunn2012"],
        "study": ["Cole 2010", "Ames 2001", "Burt 2005", "Dunn 2012"],
        "modality": "yoga", "outcome": "pain", "comparator_class": "inactive", "window": "short-term",
        "measure": "MD100", "yi": [-12.0, -4.0, -20.0, -1.0], "vi": [9.0, 16.0, 25.0, 4.0]})


def _rob() -> pd.DataFrame:
    return pd.DataFrame({"key": ["cole2010", "ames2001", "burt2005"], "category": ["low", "high", "some concerns"]})


def _trials() -> pd.DataFrame:
    return pd.DataFrame({"key": ["a", "b", "c", "d", "e", "f"],
                         "modality": ["exercise", "exercise", "yoga", "yoga", "yoga", "heat"],
                         "category": ["low", "not assessed", "some concerns", "high", "not assessed", "not assessed"]})


def _funnel() -> pd.DataFrame:
    return pd.DataFrame({"yi": [-0.42, -0.2, -0.61, -0.1, -0.35, -0.5, -0.05, -0.3, -0.8, -0.25, -0.15, -0.45],
                         "vi": [0.02, 0.05, 0.08, 0.01, 0.03, 0.06, 0.015, 0.04, 0.1, 0.025, 0.012, 0.07]})


#: name -> a function drawing the figure (given the bundled review): the figures readers see in the report.
FIGURES = {
    "answer_map": lambda r: maps.answer_map(r.headline).figure,
    "headline_figure": lambda r: maps.headline_figure(r),
    "evidence_map": lambda r: maps.evidence_map(r.headline).figure,
    "forest_plot": lambda r: plots.forest_plot(_effects(), rob=_rob()).figure,
    "funnel_plot": lambda r: plots.funnel_plot(_funnel()).figure,
    "rob_summary": lambda r: plots.rob_summary(_trials()).figure,
    "rob_summary_headline": lambda r: plots.rob_summary(tables.headline_trials(r)).figure,
}


def render(name: str, review, folder: Path) -> Path:
    with pinned():
        png = plots.figure_png(FIGURES[name](review))
    path = folder / f"{name}.png"
    path.write_bytes(png)
    return path


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_matches_its_baseline(name, review, tmp_path):
    drawn = render(name, review, tmp_path)
    expected = BASELINE / f"{name}.png"
    if UPDATE:
        BASELINE.mkdir(exist_ok=True)
        expected.write_bytes(drawn.read_bytes())
    if not expected.is_file():
        pytest.fail(f"no baseline {expected}: run LBPEVIDENCE_UPDATE_BASELINES=1 pytest {Path(__file__).name}, look "
                    "at the image and commit it")
    failure = compare_images(str(expected), str(drawn), tol=TOLERANCE)
    assert failure is None, (f"{name} differs from its baseline: {failure}. If the change is intended, regenerate "
                             f"with LBPEVIDENCE_UPDATE_BASELINES=1 pytest {Path(__file__).name}")


def test_the_comparison_catches_a_changed_verdict(review, tmp_path):
    """One cell of the evidence map in another colour (one verdict changed) is beyond the tolerance."""
    head = review.headline.copy()
    row = head.index[(head["modality"] == "yoga") & (head["outcome"] == "pain") & head["primary"]][0]
    head.loc[row, "verdict"] = "important benefit"
    with pinned():
        png = plots.figure_png(maps.answer_map(head).figure)
    changed = tmp_path / "answer_map_changed.png"
    changed.write_bytes(png)
    baseline = BASELINE / "answer_map.png"
    if not baseline.is_file():
        pytest.skip("no baseline yet")
    assert compare_images(str(baseline), str(changed), tol=TOLERANCE) is not None
