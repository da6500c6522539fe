"""load_review on the bundled table, and `diff` between two versions of refs/ (issues 7 and 8)."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest

import lbpevidence as lbp
from lbpevidence.review import analysis_effects, compare_reviews, coverage
from lbpevidence.vocabulary import MODALITIES


@pytest.fixture(scope="module")
def review():
    return lbp.load_review()


def test_review_holds_every_table(review):
    for name in ("references", "outcomes", "effects", "pooled", "verdicts", "answers", "headline", "rob", "audit",
                 "claims", "problems"):
        assert isinstance(getattr(review, name), pd.DataFrame), name
    assert len(review.effects) == len(review.outcomes)  # nothing dropped


def test_analysis_effects_by_population_group(review):
    rows, pooled = analysis_effects(review, "exercise", "disability", "inactive", "short-term", "MD100",
                                    "chronic")
    assert set(rows["population_group"]) == {"chronic"} and len(rows) == int(pooled["k"]) == 2
    with pytest.raises(ValueError, match=r"The value for `population` must be one of \['acute', 'chronic', "
                                         r"'mixed'\], but 'elderly' was passed."):
        analysis_effects(review, "exercise", "disability", population="elderly")


def test_review_is_computed_once_per_content(review):
    assert lbp.load_review() is review


def test_every_modality_of_the_article_gets_a_verdict(review):
    named = {term for term, m in MODALITIES.items() if m.in_article}
    for outcome in ("pain", "disability"):
        have = set(review.headline[review.headline["outcome"] == outcome]["modality"])
        assert named <= have, named - have
    assert review.headline["verdict"].ne("").all()


def test_every_claim_gets_a_verdict(review):
    claims = lbp.read_claims()
    assert sorted(review.claims["claim_id"]) == sorted(claims["claim_id"])
    assert review.claims["verdict"].ne("").all()


def test_coverage_counts_match_the_tables(review):
    table = coverage(review.references, review.outcomes).set_index("modality")
    exercise = review.references[review.references["modality"].map(lambda m: "exercise" in m)]
    assert table.loc["exercise", "entries"] == len(exercise)
    assert table.loc["foam-rolling", "outcome_rows"] == 0


def changed_copy(tmp_path, key, outcome, new_values):
    folder = tmp_path / "refs"
    shutil.copytree(lbp.bundled_refs(), folder)
    path = folder / "outcomes.csv"
    rows = list(csv.DictReader(path.open(newline="")))
    hits = [r for r in rows if r["key"] == key and r["outcome"] == outcome and r["pool"] == "yes"]
    assert len(hits) == 1
    hits[0].update(new_values)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return folder


def test_changing_one_outcome_row_moves_exactly_that_analysis(review, tmp_path):
    folder = changed_copy(tmp_path, "xia2016similar", "pain", {"estimate": "-27.1", "ci_low": "-37.5",
                                                                "ci_high": "-16.7"})
    changes = compare_reviews(review, lbp.load_review(folder))
    analyses = changes["analyses"]
    # Xia 2016 (mixed population, vs wait list) is the single trial answering that question
    assert analyses[["modality", "outcome", "population", "comparator_class"]].values.tolist() == [
        ["spinal-manipulation", "pain", "mixed", "inactive"]]
    assert analyses.iloc[0]["old_estimate"] == pytest.approx(-17.1)
    assert analyses.iloc[0]["new_estimate"] == pytest.approx(-27.1)
    assert changes["rows"][["change", "key", "fields"]].values.tolist() == [
        ["changed", "xia2016similar", "estimate, ci_low, ci_high"]]
    assert changes["studies"].empty


def test_diff_command_markdown_and_json(tmp_path):
    folder = changed_copy(tmp_path, "xia2016similar", "pain", {"estimate": "-27.1", "ci_low": "-37.5",
                                                                "ci_high": "-16.7"})
    run = [sys.executable, "-m", "lbpevidence", "diff", "--base", str(lbp.bundled_refs()), "--refs", str(folder)]
    markdown = subprocess.run(run, capture_output=True, text=True)
    assert markdown.returncode == 0, markdown.stderr
    assert "| changed | spinal-manipulation | pain | mixed | inactive | single trial | short-term |" in markdown.stdout
    assert "- changed `xia2016similar` (pain, line" in markdown.stdout
    payload = json.loads(subprocess.run([*run, "--format", "json"], capture_output=True, text=True).stdout)
    assert [a["modality"] for a in payload["analyses"]] == ["spinal-manipulation"]


def test_diff_rejects_a_base_that_is_neither_folder_nor_revision(tmp_path):
    result = subprocess.run([sys.executable, "-m", "lbpevidence", "diff", "--base", "no-such-rev-xyz"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "The value for `--base` must be" in result.stderr
