"""The evidence selector: which candidate answers each question, and the headline built from it.

Candidates are written by hand with the columns :func:`lbpevidence.grading.grade` gives; the
expected winner follows from the ranking in the evidence module's docstring.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

import lbpevidence as lbp
from lbpevidence.evidence import QUESTION_COLUMNS, TIERS, answers, choose, for_claim, headline, tier


def candidate(basis="pooled", k=3, participants=300, year=2015, window="short-term", comparator_class="inactive",
              population="chronic", modality="yoga", outcome="pain", reported="", off_scale=False,
              estimate=-10.0, evidence=("a",), verdict="benefit below MID", certainty="low"):
    return {"modality": modality, "outcome": outcome, "population": population, "comparator_class": comparator_class,
            "window": window, "measure": "MD100", "k": k, "participants": participants, "year": year,
            "estimate": estimate, "ci_low": estimate - 5, "ci_high": estimate + 5, "basis": basis,
            "reported_certainty": reported, "off_scale": off_scale, "evidence": list(evidence), "verdict": verdict,
            "certainty": certainty}


def winner(*rows):
    table = answers(pd.DataFrame(list(rows)))
    assert len(table) == 1
    return table.iloc[0]


@pytest.mark.parametrize(("row", "expected"), [
    (candidate("published review", k=10, reported="moderate"), 1),
    (candidate("published review", k=10), 2),
    (candidate("published review", k=0), 3),   # number of studies not recorded
    (candidate("published review", k=1), 4),
    (candidate("pooled", k=3), 2),
    (candidate("pooled", k=2), 3),
    (candidate("single trial", k=1), 4),
    (candidate("study-level only, not pooled", k=4), 5),
    (candidate("pooled", k=12, off_scale=True), 6),
    (candidate("non-comparative", k=5), 7),
])
def test_tiers(row, expected):
    assert tier(row) == expected and expected in TIERS


def test_a_rated_review_beats_our_own_pooling_of_many_trials():
    best = winner(candidate("pooled", k=12, participants=5000), candidate("published review", k=4, reported="low",
                                                                          participants=400, evidence=("r",)))
    assert best["basis"] == "published review" and best["tier"] == 1
    assert best["beaten"] == ["pooled (k=12, a), short-term -10.0 (-15.0 to -5.0) MD100: pooled estimate, 3 or more "
                              "studies ranks below published review with its authors' certainty"]


def test_k3_beats_k2_beats_a_single_trial_beats_conclusions():
    rows = [candidate("study-level only, not pooled", k=5), candidate("single trial", k=1, participants=2000),
            candidate("pooled", k=2, participants=500), candidate("pooled", k=3, participants=150)]
    assert winner(*rows)["k"] == 3
    assert winner(*rows[:3])["k"] == 2
    assert winner(*rows[:2])["basis"] == "single trial"


def test_an_interval_beyond_the_scale_never_beats_a_finite_one():
    best = winner(candidate("pooled", k=2, off_scale=True, participants=900, evidence=("a", "b")),
                  candidate("single trial", k=1, participants=100, evidence=("b",)))
    assert best["basis"] == "single trial"
    assert best["beaten"][0].endswith("CI beyond the scale ranks below single trial")


def test_ties_go_to_participants_then_recency_then_window():
    assert winner(candidate(participants=300), candidate(participants=301, evidence=("b",)))["evidence"] == ["b"]
    assert winner(candidate(year=2019), candidate(year=2021, evidence=("b",)))["evidence"] == ["b"]
    best = winner(candidate(window="long-term"), candidate(window="short-term", evidence=("b",)))
    assert best["evidence"] == ["b"] and best["beaten"] == [
        "pooled (k=3, a), long-term -10.0 (-15.0 to -5.0) MD100: window long-term comes after short-term"]
    unknown = winner(candidate("published review", k=5, participants=math.nan), candidate("published review", k=5,
                                                                                        participants=50))
    assert unknown["participants"] == 50


def test_one_answer_per_question():
    rows = [candidate(), candidate(comparator_class="sham"), candidate(population="acute"), candidate(k=5)]
    table = answers(pd.DataFrame(rows))
    assert len(table) == 3 and not table.duplicated(QUESTION_COLUMNS).any()
    assert table["candidates"].tolist() == [1, 2, 1]  # sorted: acute, chronic/inactive, chronic/sham


def test_the_primary_answer_prefers_the_strongest_tier_then_the_comparison_a_reader_asks_about():
    rows = pd.DataFrame([candidate("published review", k=10, reported="moderate", comparator_class="active"),
                         candidate("pooled", k=5, comparator_class="inactive", participants=5000)])
    assert choose(answers(rows))["comparator_class"] == "active"
    same_tier = pd.DataFrame([candidate(comparator_class="active", participants=900),
                              candidate(comparator_class="sham", participants=100),
                              candidate(comparator_class="mixed", participants=50)])
    assert choose(answers(same_tier))["comparator_class"] == "mixed"


def test_core_modalities_show_each_comparison_others_only_the_primary():
    rows = [candidate(modality=m, comparator_class=c, participants=p)
            for m in ("acupuncture", "yoga") for c, p in (("inactive", 100), ("sham", 200), ("active", 300))]
    head = headline(answers(pd.DataFrame(rows)), outcomes=["pain"])
    acupuncture = head[head["modality"] == "acupuncture"]
    assert acupuncture["comparator_class"].tolist() == ["inactive", "sham", "active"]
    assert acupuncture["primary"].tolist() == [True, False, False]
    assert head[head["modality"] == "yoga"]["comparator_class"].tolist() == ["inactive"]


def test_a_claim_about_chronic_pain_is_judged_on_chronic_evidence_else_mixed():
    table = answers(pd.DataFrame([candidate(population="acute", participants=5000),
                                  candidate(population="mixed", participants=100, evidence=("m",))]))
    row, considered, note = for_claim(table, "yoga", "pain", "chronic")
    assert row["population"] == "mixed" and len(considered) == 1 and "mixed populations" in note
    row, _, note = for_claim(table, "yoga", "pain", "acute")
    assert row["population"] == "acute" and note == ""
    row, _, _ = for_claim(table, "yoga", "pain", "mixed")   # no population named: the primary answer
    assert row["participants"] == 5000


# --- the bundled review ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def review():
    return lbp.load_review()


def test_every_headline_row_carries_a_certainty_and_who_rated_it(review):
    head = review.headline
    assert head["certainty"].isin(["high", "moderate", "low", "very low"]).all()
    assert head["rated_by"].str.len().gt(0).all()


def test_no_headline_ci_runs_beyond_the_scale(review):
    head = review.headline
    quantified = head[head["estimate_0_100"].notna()]
    assert (quantified["ci_low_0_100"] >= -100).all() and (quantified["ci_high_0_100"] <= 100).all()
    assert not head["off_scale"].any()


def test_no_important_benefit_at_moderate_or_high_with_a_ci_crossing_the_mid(review):
    head = review.headline
    strong = head[(head["verdict"] == "important benefit") & head["certainty"].isin(["moderate", "high"])]
    assert (strong["ci_high"] <= -strong["mid"]).all()


def test_every_modality_has_a_primary_answer_for_pain_and_disability(review):
    primary = review.headline[review.headline["primary"]]
    assert len(primary) == 2 * len(lbp.vocabulary.MODALITIES)
    assert not primary.duplicated(["modality", "outcome"]).any()


def test_the_claim_audit_uses_the_answer_of_the_same_question(review):
    answers_by_question = review.answers.set_index(QUESTION_COLUMNS)
    checked = review.claims[review.claims["verdict"] != "no evidence in table"]
    assert len(checked)
    for claim in checked.to_dict("records"):
        question = (claim["modality"], claim["evidence_outcome"], claim["evidence_population"],
                    claim["comparator_class"])
        answer = answers_by_question.loc[question]
        assert (answer["basis"], answer["verdict"], answer["certainty"], list(answer["evidence"])) == (
            claim["basis"], claim["evidence_verdict"], claim["certainty"], claim["evidence"])


def test_the_claim_with_no_population_uses_the_headline_primary_row(review):
    head = review.headline[review.headline["primary"]].set_index(["modality", "outcome"])
    for claim in review.claims[review.claims["population"] == "mixed"].to_dict("records"):
        if claim["verdict"] == "no evidence in table":
            continue
        primary = head.loc[(claim["modality"], claim["evidence_outcome"])]
        assert (primary["comparator_class"], primary["population"]) == (claim["comparator_class"],
                                                                        claim["evidence_population"])
