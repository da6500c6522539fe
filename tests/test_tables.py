"""The tables readers see: values in words, numbers as printed, the answer one row per treatment."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import lbpevidence as lbp
from lbpevidence import tables
from lbpevidence.evidence import strength_order
from lbpevidence.vocabulary import REBUILT_MARK

SCRIPT_TITLE = "<script>alert('lbpevidence-xss')</script> Exercise therapy for chronic low back pain"
RAW_MARKER = "<script>alert("


def test_display_table_escapes_html():
    table = tables.display_table(pd.DataFrame({"title": [SCRIPT_TITLE]}))
    assert RAW_MARKER not in table._repr_html_() and "&lt;script&gt;" in table._repr_html_()


def test_headline_table_rows_and_order():
    review = lbp.load_review()
    table = tables.headline_table(review, statements=True)
    assert len(table) == len(review.headline)
    assert list(table["outcome"]) == sorted(table["outcome"], key=["pain", "disability"].index)
    assert table["statement"].str.len().min() > 20
    assert set(table["certainty"]) <= {"high", "moderate", "low", "very low"}
    assert table["rated_by"].str.len().gt(0).all()
    shown = table.dropna(subset=["effect_0_100"])
    assert (shown["ci_low_0_100"] <= shown["effect_0_100"]).all()
    assert (shown["effect_0_100"] <= shown["ci_high_0_100"]).all()


def test_answer_table_one_row_per_treatment_sorted_by_strength():
    review = lbp.load_review()
    table = tables.answer_table(review)
    primary = review.headline[review.headline["primary"]]
    assert list(table["term"]) == strength_order(review.headline)
    assert sorted(table["term"]) == sorted(primary["modality"].unique())
    assert table["tier"].is_monotonic_increasing  # strongest evidence first
    for row in table.to_dict("records"):  # every cell is the headline's primary answer, in its words
        for outcome in ("pain", "disability"):
            answer = primary[(primary["modality"] == row["term"]) & (primary["outcome"] == outcome)].iloc[0]
            assert row[f"{outcome}_verdict"] == answer["verdict"]
            assert row[f"{outcome}_certainty"].split(" (")[0] == answer["certainty"]
            assert row[f"{outcome}_statement"] == answer["statement"]


def test_published_estimates_are_shown_with_the_ci_they_printed():
    """Hayden 2021 printed disability 7 (5 to 8) points better: shown as −7 (−8 to −5), not a symmetric interval."""
    table = tables.headline_table(lbp.load_review(), words=True)
    hayden = table[(table["modality"] == "Exercise therapy") & (table["outcome"] == "disability")
                   & (table["certainty_rated_by"].str.contains("Hayden 2021"))]
    assert "−7 (−8 to −5)" in set(hayden["effect_ci_0_100"])
    assert REBUILT_MARK not in "".join(table["effect_ci_0_100"])  # every published CI here was printed


def test_headline_words_agree_with_the_numbers():
    review = lbp.load_review()
    numbers = tables.headline_table(review)
    words = tables.headline_table(review, words=True)
    assert len(words) == len(numbers)
    for n, w in zip(numbers.to_dict("records"), words.to_dict("records"), strict=True):
        assert w["verdict"] == n["verdict"] and w["modality"] == n["modality"]
        assert w["certainty_rated_by"].startswith(n["certainty"] + " (")
        if n["effect_0_100"] == n["effect_0_100"]:
            shown = float(w["effect_ci_0_100"].split(" ")[0].replace("−", "-"))
            assert shown == pytest.approx(n["effect_0_100"], abs=0.051)
        else:
            assert w["effect_ci_0_100"] == ""


def test_study_labels_tell_two_studies_of_one_author_and_year_apart():
    """Nadler 2003 wrote two heat-wrap trials (continuous, overnight): two studies, not a duplicate."""
    labels = tables.study_labels(lbp.load_review().references)
    assert labels["nadler2003continuous"] == "Nadler 2003a" and labels["nadler2003overnight"] == "Nadler 2003b"
    assert len(set(labels.values())) == len(labels)
    trials, _ = tables.assessed_trials(lbp.load_review())
    assert not trials["study"].duplicated().any()


def test_headline_trials_each_once_per_treatment():
    review = lbp.load_review()
    trials = tables.headline_trials(review)
    assert not trials.duplicated(["modality", "key"]).any()
    used = {k for ev in review.headline["evidence"] for k in ev}
    assert set(trials["key"]) <= used
    assessed = tables.headline_trials(review, assessed_only=True)
    assert "not assessed" not in set(assessed["category"]) and len(assessed) < len(trials)


def test_single_trials_and_pooled_tables_split_the_analyses():
    review = lbp.load_review()
    pooled, single = tables.pooled_table(review), tables.single_trials(review)
    assert (pooled["k"] >= 2).all() and len(pooled) == int((review.pooled["k"] >= 2).sum())
    assert len(single) == int((review.pooled["k"] == 1).sum())  # one trial per single-trial analysis


def test_small_study_effects_needs_ten_trials():
    note = tables.small_study_effects(lbp.load_review())
    assert isinstance(note, tables.Note) and "10 or more trials" in note.text


def test_display_table_headings_are_words_and_values_are_not_slugs():
    frame = pd.DataFrame({"modality": ["spinal-manipulation"], "window": ["short-term"], "effect_0_100": [-3.54],
                          "comparator_class": ["inactive"], "participants": [1922], "usable": [True]})
    table = tables.display_table(frame)
    html = table._repr_html_()
    assert re.findall(r"<th>([^<]+)</th>", html) == ["Treatment", "Follow-up", "Effect, 0–100", "Compared with",
                                                      "Participants", "Usable"]
    assert table.cells() == [["Spinal manipulation / chiropractic", "short term (up to 3 months)", "−3.5",
                              "usual care / no treatment", "1,922", "yes"]]


def test_display_table_folds_into_details_and_links_rows():
    table = tables.display_table(pd.DataFrame({"a": [1, 2]}), summary="Two rows", row_ids=["r1", "r2"])
    html = table._repr_html_()
    assert html.startswith('<details class="lbp-details"><summary>Two rows</summary>')
    assert '<tr id="r1">' in html and '<tr id="r2">' in html
    with pytest.raises(ValueError, match=r"The value for `row_ids` must have one id per row \(2\), but 1 were"):
        tables.display_table(pd.DataFrame({"a": [1, 2]}), row_ids=["r1"])
