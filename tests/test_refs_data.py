"""The bundled reference table itself: provenance, plausibility and coverage (issue 3)."""

from __future__ import annotations

import math

import pytest

import lbpevidence as lbp
from lbpevidence.vocabulary import INSTRUMENTS, MODALITIES


@pytest.fixture(scope="module")
def refs():
    return lbp.read_references()


@pytest.fixture(scope="module")
def outcomes(refs):
    return lbp.read_outcomes(references=refs)


def test_bundled_table_validates_without_errors(refs, outcomes):
    assert len(refs) >= 100 and len(outcomes) >= 100


def test_every_entry_has_an_identifier_or_declares_none_was_seen(refs):
    for row in refs.itertuples():
        declared = {"doi", "pmid"} <= set(row.unverified)
        assert row.doi or row.pmid or declared, row.key


def test_every_entry_names_the_pages_it_was_checked_against(refs):
    for row in refs.itertuples():
        assert row.source and all(url.startswith(("http://", "https://")) for url in row.source), row.key
        assert row.location and row.verified, row.key


def test_every_outcome_row_has_a_source_and_a_known_study(refs, outcomes):
    keys = set(refs.key)
    for row in outcomes.itertuples():
        assert row.key in keys, row.line
        assert row.source_url.startswith(("http://", "https://")) and row.source_location, row.line


def test_arm_level_numbers_are_plausible(outcomes):
    arms = outcomes[outcomes.data_type.isin(["final", "change"])]
    assert len(arms) > 0
    for row in arms.itertuples():
        instrument = INSTRUMENTS[row.instrument]
        assert row.n_int > 0 and row.n_ctl > 0 and row.sd_int > 0 and row.sd_ctl > 0, row.line
        for mean in (row.mean_int, row.mean_ctl):
            if row.data_type == "final":
                assert instrument.scale_min <= mean <= instrument.scale_max, row.line
            else:
                assert abs(mean) <= instrument.scale_range, row.line


def test_reported_effects_lie_inside_their_confidence_intervals(outcomes):
    reported = outcomes[(outcomes.data_type == "reported-effect") & outcomes.ci_low.notna()]
    for row in reported.itertuples():
        assert row.ci_low <= row.estimate <= row.ci_high, row.line
        assert not any(math.isnan(v) for v in (row.estimate, row.ci_low, row.ci_high))


def test_every_modality_the_article_names_is_in_the_table(refs):
    named = {term for term, modality in MODALITIES.items() if modality.in_article}
    present = set(refs.modality.explode())
    assert named <= present, named - present


@pytest.mark.parametrize("modality", ["exercise", "acupuncture", "spinal-manipulation"])
def test_at_least_eight_trials_for_the_main_modalities(refs, modality):
    trials = refs[(refs.design == "rct") & refs.modality.map(lambda m: modality in m)]
    assert len(trials) >= 8, trials.key.tolist()


def test_the_real_papers_behind_the_printed_citations_are_present(refs):
    keys = set(refs.key)
    for key in ("cherkin2009randomized", "hides1996multifidus", "osullivan1997evaluation", "giles2003chronic",
                "vantulder1999effectiveness", "assendelft2003spinal", "cherkin1998comparison"):
        assert key in keys, key
    cherkin = refs.set_index("key").loc["cherkin2009randomized"]
    assert (cherkin.journal, cherkin.year, cherkin.volume, cherkin.issue, cherkin.pages) == (
        "Arch Intern Med", 2009, "169", "9", "858–866")


def test_readme_coverage_table_matches_the_data(refs, outcomes):
    from conftest import REPO
    from lbpevidence.cli import format_table
    from lbpevidence.review import coverage

    readme = (REPO / "refs" / "README.md").read_text(encoding="utf-8")
    printed = readme.split("<!-- coverage:start -->\n", 1)[1].split("<!-- coverage:end -->", 1)[0]
    assert printed == format_table(coverage(refs, outcomes), "markdown")
