"""Controlled vocabularies: synonyms, did-you-mean, windows, MIDs with their sources."""

from __future__ import annotations

import pytest

from lbpevidence.vocabulary import (
    INSTRUMENTS,
    MID_SOURCE,
    MODALITIES,
    OUTCOME_MIDS,
    REBUILT_MARK,
    TIME_WINDOWS,
    interval_text,
    is_rebuilt,
    resolve,
    time_window,
    vocabulary,
)


@pytest.mark.parametrize(("kind", "value", "term"), [
    ("modality", "MBSR", "mindfulness"), ("modality", "MedX", "lumbar-extension-machine"),
    ("modality", "Spinal Manipulative Therapy", "spinal-manipulation"), ("comparator", "wait list", "waitlist"),
    ("design", "Randomized Controlled Trial", "rct"), ("rob", "some concerns", "some-concerns"),
])
def test_synonyms_resolve_to_terms(kind, value, term):
    assert resolve(kind, value) == (term, None)


def test_near_misses_get_a_suggestion_and_nonsense_gets_none():
    assert resolve("modality", "accupuncture") == (None, "acupuncture")
    assert resolve("modality", "homeopathy") == (None, None)


def test_unknown_vocabulary_kind_names_the_allowed_kinds():
    with pytest.raises(ValueError, match=r"The value for `kind` must be one of \[.*'modality'.*\], but 'x' was passed"):
        vocabulary("x")


def test_every_modality_the_article_names_is_a_term():
    named = {"exercise", "lumbar-extension-machine", "acupuncture", "spinal-manipulation", "yoga", "tai-chi",
             "mindfulness", "massage", "biofeedback", "heat", "cold", "muscle-relaxants", "stay-active", "mattress",
             "foam-rolling"}
    assert named <= {t for t, m in MODALITIES.items() if m.in_article}


def test_mesh_ids_are_only_set_with_a_source():
    for modality in MODALITIES.values():
        assert (modality.mesh_id is None) or modality.mesh_source, modality.term


@pytest.mark.parametrize(("weeks", "window"), [(0.5, "immediate"), (1.0, "immediate"), (1.01, "short-term"),
                                               (13.0, "short-term"), (13.2, "intermediate"),
                                               (52.2, "intermediate"), (52.3, "long-term")])
def test_window_boundaries(weeks, window):
    assert time_window(weeks) == window


def test_unspecified_window_is_never_derived_from_weeks():
    assert "unspecified" in TIME_WINDOWS
    assert all(time_window(w) != "unspecified" for w in (0.1, 5, 30, 100))


def test_instrument_mids_are_the_outcome_mids_rescaled():
    # Hayden 2021: 15 points pain and 10 points function on 0-100 (written out, not taken from the code).
    assert OUTCOME_MIDS == {"pain": 15.0, "disability": 10.0}
    assert INSTRUMENTS["pain-0-10"].mid == 1.5
    assert INSTRUMENTS["rmdq-24"].mid == pytest.approx(2.4)
    assert INSTRUMENTS["odi-0-100"].mid == 10.0
    assert "CD009790" in MID_SOURCE and INSTRUMENTS["rmdq-24"].mid_source.startswith(MID_SOURCE)
    assert INSTRUMENTS["pain-smd"].mid is None  # no scale: no rescaled MID


def test_higher_is_better_instruments_are_marked():
    assert {t for t, i in INSTRUMENTS.items() if not i.lower_is_better} == {
        "pain-relief-0-5", "sf36-bodily-pain", "hfaq-0-100", "responders", "global-improvement-smd"}


# --- numbers as readers see them ------------------------------------------------------------------------


def test_a_rebuilt_interval_is_marked():
    row = {"basis": "published review", "ci_as_printed": False}
    assert is_rebuilt(row) and not is_rebuilt({**row, "ci_as_printed": True})
    assert not is_rebuilt({"basis": "pooled", "ci_as_printed": False})  # our own analysis: computed, not rebuilt
    assert interval_text(-2.5, -4.0, -1.0, rebuilt=True).endswith(REBUILT_MARK)


@pytest.mark.parametrize(("values", "text"), [
    ((-15.0, -18.0, -12.0), "−15 (−18 to −12)"),
    ((-10.26, -17.11, -3.4), "−10.3 (−17.1 to −3.4)"),
    ((-3.54, -7.08, 0.0), "−3.5 (−7.1 to 0.0)"),
    ((-10.1, -20.1, -0.04), "−10.1 (−20.1 to −0.04)"),  # never '−0.0' for an interval that excludes 0
])
def test_interval_text(values, text):
    assert interval_text(*values) == text

