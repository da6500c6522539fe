"""The article's claims: claims.csv read and validated, and each claim judged against the evidence.

Expected values are written out by hand from refs/claims.csv and the verdict rules.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pandas as pd
import pytest

import lbpevidence as lbp
from lbpevidence.claims import CLAIM_VERDICTS, ClaimRules, check_claims, read_claims
from lbpevidence.errors import ClaimsTableError

ARTICLE = lbp.bundled_refs() / "article.bib"
CLAIMS = lbp.bundled_refs() / "claims.csv"


# ------------------------------------------------------------------------------------------------
# read_claims
# ------------------------------------------------------------------------------------------------

HEADER = "claim_id,location,modality,outcome,population,claimed_direction,claimed_strength,citation,claim,notes\n"


def test_read_the_bundled_claims():
    claims = read_claims()
    assert len(claims) == 22
    assert claims["claim_id"].tolist()[:3] == ["C01", "C02", "C03"]
    c07 = claims.set_index("claim_id").loc["C07"]
    assert (c07["modality"], c07["outcome"], c07["population"], c07["claimed_direction"], c07["claimed_strength"],
            int(c07["citation"])) == ("lumbar-extension-machine", "pain", "chronic", "benefit", "strong", 1)
    assert pd.isna(claims.set_index("claim_id").loc["C02", "citation"])
    assert claims["valid"].all()
    assert int(claims.loc[0, "line"]) == 2


def test_read_claims_reports_every_problem(write):
    path = write(HEADER
                 + "C01,paragraph 1,acupunture,pain,chronic,benefit,strong,,Acupuncture helps.,\n"
                 + "C01,paragraph 2,yoga,pian,chronc,helps,very strong,7,,\n"
                 + "X9,paragraph 3,MBSR,any,mixed,no-benefit,weak,2,Mindfulness does not help.,\n",
                 "claims.csv")
    table, problems = read_claims(path, strict=False, printed=ARTICLE)
    assert problems["message"].tolist() == [
        f"{path}:2 C01 modality: found 'acupunture', expected a known modality (did you mean 'acupuncture'?); "
        "see refs/README.md",
        f"{path}:3 C01 citation: found '7', expected a printed_number of article.bib (1, 2, 3, 4) or an empty cell",
        f"{path}:3 C01 claim: found an empty cell, expected the claim, paraphrased in our words",
        f"{path}:3 C01 claim_id: found duplicate claim_id 'C01', expected unique ids (first at line 2)",
        f"{path}:3 C01 claimed_direction: found 'helps', expected one of benefit, no-benefit, harm",
        f"{path}:3 C01 claimed_strength: found 'very strong', expected one of strong, moderate, weak, unspecified",
        f"{path}:3 C01 outcome: found 'pian', expected a known outcome or 'any' (did you mean 'pain'?); "
        "see refs/README.md",
        f"{path}:3 C01 population: found 'chronc', expected a known population (did you mean 'chronic'?); "
        "see refs/README.md",
        f"{path}:4 X9 claim_id: found 'X9', expected an id of the form Cnn (C01, C02, ...)",
    ]
    assert table["valid"].tolist() == [False, False, False]
    assert table.loc[2, "modality"] == "mindfulness"  # synonyms become terms


def test_read_claims_strict_raises_claims_table_error(write):
    path = write(HEADER + "C01,p,acupunture,pain,chronic,benefit,strong,,A claim.,\n", "claims.csv")
    with pytest.raises(ClaimsTableError, match="did you mean 'acupuncture'") as info:
        read_claims(path)
    assert len(info.value.problems) == 1


def test_read_claims_checks_citations_against_a_sibling_article_bib(write, tmp_path):
    (tmp_path / "article.bib").write_text(ARTICLE.read_text(encoding="utf-8"), encoding="utf-8")
    path = write(HEADER + "C01,p,yoga,pain,mixed,benefit,weak,5,Yoga helps.,\n", "claims.csv")
    _, problems = read_claims(path, strict=False)
    assert problems["field"].tolist() == ["citation"]
    path.unlink()
    (tmp_path / "article.bib").unlink()
    path = write(HEADER + "C01,p,yoga,pain,mixed,benefit,weak,5,Yoga helps.,\n", "claims.csv")
    _, problems = read_claims(path, strict=False)  # no article.bib: the number is not checked
    assert problems.empty


def test_read_claims_missing_file_and_columns(write, tmp_path):
    _, problems = read_claims(tmp_path / "nope.csv", strict=False)
    assert problems["found"].tolist() == ["no such file"]
    path = write("claim_id,modality\nC01,yoga\n", "claims.csv")
    _, problems = read_claims(path, strict=False)
    assert {"outcome", "population", "claimed_direction", "claimed_strength", "claim"} <= set(problems["field"])


def test_validate_command_reads_claims(write):
    path = write(HEADER + "C01,p,acupunture,pain,chronic,benefit,strong,,A claim.,\n", "claims.csv")
    result = subprocess.run([sys.executable, "-m", "lbpevidence", "validate", str(path)], capture_output=True,
                            text=True)
    assert result.returncode == 1
    assert "did you mean 'acupuncture'" in result.stdout


# ------------------------------------------------------------------------------------------------
# check_claims
# ------------------------------------------------------------------------------------------------


def evidence_row(modality="acupuncture", outcome="pain", comparator_class="inactive", window="short-term",
                 certainty="moderate", verdict="important benefit", participants=300, measure="SMD",
                 estimate=-0.7, ci_low=-0.9, ci_high=-0.6, basis="pooled", evidence=("a2001", "b2002"),
                 population="chronic", k=None, year=2010, reported_certainty=""):
    return {"modality": modality, "outcome": outcome, "population": population,
            "comparator_class": comparator_class, "window": window, "k": k if k is not None else len(evidence),
            "participants": participants, "year": year, "measure": measure, "estimate": estimate, "ci_low": ci_low,
            "ci_high": ci_high, "certainty": certainty, "rated_by": "lbpevidence (GRADE rules)", "verdict": verdict,
            "basis": basis, "reasons": "", "evidence": list(evidence), "off_scale": False,
            "reported_certainty": reported_certainty}


def claim(modality="acupuncture", outcome="pain", direction="benefit", strength="moderate", claim_id="C01",
          population="chronic"):
    return {"claim_id": claim_id, "modality": modality, "outcome": outcome, "population": population,
            "claimed_direction": direction, "claimed_strength": strength, "citation": None}


def judge(claims, rows, rules=None):
    return check_claims(pd.DataFrame(claims), pd.DataFrame(rows), rules)


@pytest.mark.parametrize(("strength", "row", "expected"), [
    ("moderate", {}, "supported"),
    ("strong", {"certainty": "low"}, "overstated"),
    ("strong", {"certainty": "moderate"}, "supported"),
    ("strong", {"certainty": "very low"}, "overstated"),
    ("moderate", {"certainty": "very low"}, "unsupported"),    # very uncertain supports nothing
    ("weak", {"certainty": "very low"}, "unsupported"),
    ("weak", {"certainty": "low"}, "supported"),
    ("moderate", {"verdict": "benefit, possibly important", "certainty": "low"}, "supported"),
    ("moderate", {"verdict": "benefit below MID"}, "overstated"),
    ("strong", {"verdict": "benefit below MID"}, "overstated"),
    ("weak", {"verdict": "benefit below MID", "certainty": "low"}, "supported"),
    ("moderate", {"verdict": "insufficient evidence", "certainty": "very low"}, "unsupported"),
    ("moderate", {"verdict": "no important difference", "certainty": "low"}, "unsupported"),
    ("weak", {"verdict": "no important difference", "certainty": "moderate"}, "contradicted"),
    ("weak", {"verdict": "no important difference", "certainty": "high"}, "contradicted"),
    # as good as another active treatment is not evidence that it does not work
    ("weak", {"verdict": "no important difference", "certainty": "high", "comparator_class": "active"},
     "unsupported"),
    ("weak", {"verdict": "harm below MID", "certainty": "low"}, "contradicted"),
    ("weak", {"verdict": "important harm", "certainty": "very low"}, "contradicted"),
    ("moderate", {"verdict": "benefit reported, not quantified", "certainty": "very low"}, "unsupported"),
    ("weak", {"verdict": "no comparative estimate", "certainty": "very low", "basis": "non-comparative"},
     "unsupported"),
])
def test_claim_of_benefit_verdicts(strength, row, expected):
    result = judge([claim(strength=strength)], [evidence_row(**row)])
    assert result.loc[0, "verdict"] == expected


@pytest.mark.parametrize(("direction", "row", "expected"), [
    ("no-benefit", {"verdict": "no important difference"}, "supported"),
    ("no-benefit", {"verdict": "important benefit", "certainty": "high"}, "contradicted"),
    ("no-benefit", {"verdict": "important benefit", "certainty": "low"}, "unsupported"),
    ("no-benefit", {"verdict": "insufficient evidence"}, "unsupported"),
    ("harm", {"verdict": "harm below MID", "estimate": 0.4, "ci_low": 0.1, "ci_high": 0.5}, "supported"),
    ("harm", {"verdict": "important benefit"}, "unsupported"),
])
def test_claims_of_no_benefit_and_harm(direction, row, expected):
    result = judge([claim(direction=direction)], [evidence_row(**row)])
    assert result.loc[0, "verdict"] == expected


def test_no_row_means_no_evidence_in_table():
    result = judge([claim(modality="foam-rolling"), claim(outcome="disability", claim_id="C02")], [evidence_row()])
    assert result["verdict"].tolist() == ["no evidence in table", "no evidence in table"]
    assert result.loc[0, "reason"] == "The evidence table has no answer for foam-rolling, pain and chronic."
    assert result.loc[0, "evidence"] == []


def test_the_result_carries_the_evidence_row_it_relied_on():
    row = evidence_row(window="intermediate", basis="published review", evidence=("hayden2021exercise",))
    result = judge([claim()], [row]).iloc[0]
    assert (result["evidence_outcome"], result["evidence_population"], result["comparator_class"], result["window"],
            result["evidence_verdict"], result["certainty"], result["basis"], result["evidence"]) == (
        "pain", "chronic", "inactive", "intermediate", "important benefit", "moderate", "published review",
        ["hayden2021exercise"])
    assert result["reason"] == ("The evidence agrees with a moderate claim of benefit. Evidence: pain, chronic pain, "
                                "vs usual care / no treatment (intermediate): important benefit, moderate certainty, "
                                "published review.")


def test_the_strongest_evidence_answers_then_the_comparison_a_reader_asks_about():
    rows = [evidence_row(comparator_class="active", basis="published review", reported_certainty="moderate",
                         k=10, verdict="no important difference"),
            evidence_row(comparator_class="sham", k=3, verdict="benefit below MID"),
            evidence_row(comparator_class="inactive", k=1, basis="single trial", verdict="important benefit")]
    result = judge([claim()], rows).iloc[0]
    # a review with its authors' certainty (tier 1) beats a pooling of 3 (tier 2) and a single trial (tier 4)
    assert (result["comparator_class"], result["verdict"], result["rows_considered"]) == (
        "active", "unsupported", 3)
    assert len(result["other_rows"]) == 2
    same_tier = [evidence_row(comparator_class="sham", k=3), evidence_row(comparator_class="inactive", k=3,
                                                                          participants=100)]
    assert judge([claim()], same_tier).loc[0, "comparator_class"] == "inactive"


def test_a_review_pooling_mixed_controls_ranks_as_inactive():
    rows = [evidence_row(comparator_class="sham", participants=900, k=4),
            evidence_row(comparator_class="mixed", participants=100, k=4, verdict="benefit below MID")]
    assert judge([claim()], rows).loc[0, "comparator_class"] == "mixed"


def test_claims_are_matched_by_population():
    rows = [evidence_row(population="chronic", verdict="important benefit"),
            evidence_row(population="acute", verdict="no important difference", comparator_class="sham")]
    acute = judge([claim(population="acute")], rows).iloc[0]
    assert (acute["evidence_population"], acute["evidence_verdict"]) == ("acute", "no important difference")
    # no acute evidence: an acute claim is not judged on chronic-pain evidence
    only_chronic = judge([claim(population="acute")], rows[:1]).iloc[0]
    assert only_chronic["verdict"] == "no evidence in table"
    # but mixed populations stand in, and the reason says so
    mixed = [evidence_row(population="mixed")]
    stand_in = judge([claim(population="acute")], mixed).iloc[0]
    assert stand_in["evidence_population"] == "mixed" and "mixed populations" in stand_in["reason"]


def test_keys_given_as_text_are_split():
    row = evidence_row(verdict="important harm", certainty="very low", estimate=20.0, ci_low=16.0, ci_high=24.0,
                       measure="MD100")
    row["evidence"] = "a2001; b2002"
    result = judge([claim(strength="weak")], [row]).iloc[0]
    assert (result["verdict"], result["evidence"]) == ("contradicted", ["a2001", "b2002"])
    assert result["reason"].startswith("The claim says it helps, but the evidence favours the comparator.")


def test_outcome_any_is_judged_on_the_strongest_outcome_then_pain():
    rows = [evidence_row(outcome="disability", certainty="high"), evidence_row(outcome="pain", certainty="low"),
            evidence_row(modality="yoga", certainty="high")]
    result = judge([claim(outcome="any")], rows).iloc[0]
    assert (result["evidence_outcome"], result["rows_considered"]) == ("pain", 1)  # same tier: pain first
    only_disability = judge([claim(outcome="any")], rows[:1]).iloc[0]
    assert only_disability["evidence_outcome"] == "disability"
    # pain rests on two trials (tier 3), disability on three (tier 2): disability answers
    stronger = [evidence_row(outcome="pain", k=2, verdict="insufficient evidence", certainty="very low"),
                evidence_row(outcome="disability", k=3, verdict="benefit, possibly important", certainty="low")]
    result = judge([claim(outcome="any")], stronger).iloc[0]
    assert (result["evidence_outcome"], result["verdict"]) == ("disability", "supported")


def test_every_bundled_claim_gets_a_verdict():
    rows = [evidence_row("exercise", "pain", certainty="moderate", verdict="important benefit"),
            evidence_row("lumbar-extension-machine", "pain", certainty="very low", population="any",
                         comparator_class="any", basis="study-level only, not pooled",
                         verdict="benefit reported, not quantified"),
            evidence_row("spinal-manipulation", "pain", certainty="moderate", verdict="no important difference",
                         population="mixed"),
            evidence_row("acupuncture", "pain", comparator_class="sham", certainty="low",
                         verdict="benefit below MID", population="mixed"),
            evidence_row("massage", "pain", certainty="low", verdict="insufficient evidence", population="mixed")]
    claims = read_claims(CLAIMS)
    result = check_claims(claims, pd.DataFrame(rows))
    assert result["claim_id"].tolist() == claims["claim_id"].tolist()
    assert result["verdict"].isin(CLAIM_VERDICTS).all()
    verdicts = dict(zip(result["claim_id"], result["verdict"], strict=True))
    assert verdicts["C07"] == "overstated"      # MedX, strong claim, very low certainty
    assert verdicts["C08"] == "no evidence in table"  # MedX disability: no row
    assert verdicts["C11"] == "contradicted"    # manipulation, no important difference at moderate certainty
    assert verdicts["C12"] == "supported"       # acupuncture, weak claim, benefit below MID at low certainty
    assert verdicts["C13"] == "unsupported"     # massage, insufficient evidence
    assert verdicts["C22"] == "no evidence in table"  # foam rolling


def test_check_claims_fails_at_once_on_a_bad_verdict_table():
    with pytest.raises(ValueError, match="must have the columns"):
        check_claims(pd.DataFrame([claim()]), pd.DataFrame([{"modality": "yoga"}]))
    with pytest.raises(ValueError, match=r"The value for `verdict` must be one of .*, but 'great' was passed\."):
        judge([claim()], [evidence_row(verdict="great")])
    with pytest.raises(ValueError, match="`certainty`"):
        judge([claim()], [evidence_row(certainty="medium")])


def test_claim_rules_are_frozen_documented_and_checked():
    rules = ClaimRules()
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.strong_needs = "low"
    assert rules.needed("strong") == "moderate" and rules.needed("moderate") == "low"
    with pytest.raises(ValueError, match="`strong_needs`"):
        ClaimRules(strong_needs="certain")
    lenient = ClaimRules(strong_needs="very low")
    assert judge([claim(strength="strong")], [evidence_row(certainty="low")], lenient).loc[0, "verdict"] == "supported"
