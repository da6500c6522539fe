"""Certainty rules, verdicts, overrides and summary-of-findings tables (issue 5).

Cases are constructed at, just above and just below each threshold of GradeRules; the
expected certainty is worked out by hand from the rules (start at high = 4 levels).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from lbpevidence.grading import (
    GROUP_COLUMNS,
    GradeRules,
    grade,
    headline,
    read_overrides,
    risk_of_bias_table,
    summary_of_findings,
    verdict_for,
)

GROUP = {"modality": "yoga", "outcome": "pain", "comparator_class": "inactive", "window": "short-term",
         "measure": "MD100"}


def trials(k: int = 3, yi: float = -20.0, vi: float = 4.0, n: int = 100, keys: list[str] | None = None):
    """k trial rows of one analysis; n participants per arm."""
    keys = keys or [f"t{i}" for i in range(k)]
    se = math.sqrt(vi)
    return pd.DataFrame({
        **{c: [GROUP[c]] * k for c in GROUP_COLUMNS}, "key": keys, "level": "trial", "pool": True, "usable": True,
        "instrument": "pain-0-100", "yi": yi, "vi": vi, "yi_ci_low": yi - 1.96 * se, "yi_ci_high": yi + 1.96 * se,
        "n_int": n, "n_ctl": n, "n_total": pd.NA, "study": keys, "k_studies": pd.NA, "reported_certainty": "",
    })


def pooled(estimate=-20.0, ci=(-25.0, -15.0), pi=(-28.0, -12.0), i2=10.0, tau2=1.0, k=3):
    return pd.DataFrame([{**GROUP, "k": k, "estimate": estimate, "ci_low": ci[0], "ci_high": ci[1],
                          "pi_low": pi[0], "pi_high": pi[1], "i2": i2, "tau2": tau2}])


def references(keys, rob=None, pedro=None):
    return pd.DataFrame({"key": keys, "design": "rct", "first_author": "Doe", "year": 2020,
                         "rob": rob or [""] * len(keys), "pedro": pd.array(pedro or [8] * len(keys), dtype="Int64"),
                         "rob_domains": [[] for _ in keys], "pedro_items": "", "rob_source": "",
                         "pedro_source": "", "modality": [["yoga"]] * len(keys), "finding": "benefit",
                         "participants": pd.array([200] * len(keys), dtype="Int64")})


def graded(effects, pool, refs=None, rules=None, overrides=None):
    table = grade(effects, pool, rules or GradeRules(), references=refs, overrides=overrides)
    return table[table["basis"].isin(["pooled", "single trial"])].iloc[0]


# --- verdicts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("estimate", "ci", "expected"), [
    (-15.0, (-20, -10), "important benefit"),        # exactly at the MID
    (-14.99, (-20, -10), "benefit below MID"),        # just inside it
    (-20.0, (-30, -0.01), "important benefit"),       # CI just excludes no effect
    (-5.0, (-10, 0.0), "no benefit shown"),           # CI touches no effect, rules out the MID
    (-5.0, (-14.9, 4.9), "no benefit shown"),         # lower bound just above -MID
    (-5.0, (-15.0, 5.0), "insufficient evidence"),    # lower bound at -MID: cannot rule out importance
    (3.0, (0.5, 5.5), "no benefit shown"),            # favours the comparator
    (float("nan"), (float("nan"), float("nan")), "insufficient evidence"),
])
def test_verdict_thresholds(estimate, ci, expected):
    assert verdict_for(estimate, ci[0], ci[1], 15.0)[0] == expected


def test_verdict_uses_the_outcome_mid_on_the_0_100_scale():
    row = graded(trials(yi=-12.0), pooled(estimate=-12.0, ci=(-14, -10), pi=(-16, -8)), references(["t0", "t1", "t2"]))
    assert row["mid"] == 15.0 and row["verdict"] == "benefit below MID"
    disability = trials(yi=-12.0).assign(outcome="disability", instrument="rmdq-24")
    pool = pooled(estimate=-12.0, ci=(-14, -10), pi=(-16, -8)).assign(outcome="disability")
    row = graded(disability, pool, references(["t0", "t1", "t2"]))
    assert row["mid"] == 10.0 and row["verdict"] == "important benefit"


# --- certainty: one rule at a time ------------------------------------------------------------------------


def test_clean_evidence_stays_high():
    row = graded(trials(), pooled(), references(["t0", "t1", "t2"]))
    assert row["certainty"] == "high" and row["rule_certainty"] == "high"
    assert row[[c for c in row.index if c.startswith("down_")]].sum() == 0


@pytest.mark.parametrize(("high_risk", "expected"), [(1, "high"), (2, "moderate")])
def test_risk_of_bias_share_of_weight(high_risk, expected):
    # Equal weights: 1 of 3 trials (33%) or 2 of 3 (67%) at high risk, against a 50% threshold.
    pedro = [3] * high_risk + [8] * (3 - high_risk)
    row = graded(trials(), pooled(), references(["t0", "t1", "t2"], pedro=pedro))
    assert row["certainty"] == expected
    assert (row["down_risk_of_bias"] == 1) == (expected == "moderate")


def test_risk_of_bias_at_exactly_the_threshold_does_not_downgrade():
    row = graded(trials(k=2), pooled(k=2), references(["t0", "t1"], pedro=[3, 8]))  # 50% exactly
    assert row["down_risk_of_bias"] == 0


def test_unassessed_risk_of_bias_downgrades_and_says_so():
    refs = references(["t0", "t1", "t2"], pedro=[None, None, 8])
    row = graded(trials(), pooled(), refs)
    assert row["down_risk_of_bias"] == 1 and "unassessed" in row["reasons"]


def test_rob2_high_judgement_counts_as_high_risk():
    refs = references(["t0", "t1", "t2"], rob=["high", "high", "low"], pedro=[None, None, None])
    row = graded(trials(), pooled(), refs)
    assert row["down_risk_of_bias"] == 1 and "high risk" in row["reasons"]


@pytest.mark.parametrize(("i2", "pi", "expected_down"), [
    (49.9, (-40, 5), 0),    # just below 50%
    (50.0, (-40, 5), 1),    # at 50%, PI crosses 0
    (74.9, (-40, 5), 1),
    (75.0, (-40, 5), 2),    # at 75%
    (90.0, (-40, -2), 0),   # high I2 but the PI does not cross no effect
])
def test_inconsistency(i2, pi, expected_down):
    row = graded(trials(), pooled(i2=i2, pi=pi), references(["t0", "t1", "t2"]))
    assert row["down_inconsistency"] == expected_down
    assert row["certainty"] == ("high", "moderate", "low")[expected_down]


@pytest.mark.parametrize(("n_per_arm", "ci", "expected_down"), [
    (67, (-25, -15), 0),     # 3 x 134 = 402 participants: above 400
    (66, (-25, -15), 1),     # 396: below the optimal information size
    (67, (-25, 0.5), 1),     # CI crosses no effect
    (66, (-25, 0.5), 2),     # both
])
def test_imprecision(n_per_arm, ci, expected_down):
    row = graded(trials(n=n_per_arm), pooled(ci=ci), references(["t0", "t1", "t2"]))
    assert row["down_imprecision"] == expected_down


def test_participants_exactly_at_the_optimal_information_size():
    rules = GradeRules(ois_participants=600)
    row = graded(trials(n=100), pooled(), references(["t0", "t1", "t2"]), rules=rules)  # exactly 600
    assert row["down_imprecision"] == 0 and row["participants"] == 600


def test_publication_bias_only_from_ten_trials():
    # Small studies with large effects: Egger's test flags asymmetry when it is run at all.
    def asymmetric(k):
        vi = [0.5 + 0.6 * i for i in range(k)]
        yi = [-2.0 - 3.0 * math.sqrt(v) for v in vi]
        frame = trials(k=k)
        frame["yi"], frame["vi"] = yi, vi
        return frame

    keys9, keys10 = [f"t{i}" for i in range(9)], [f"t{i}" for i in range(10)]
    nine = graded(asymmetric(9), pooled(k=9), references(keys9))
    ten = graded(asymmetric(10), pooled(k=10), references(keys10))
    assert nine["down_publication_bias"] == 0
    assert ten["down_publication_bias"] == 1 and "Egger" in ten["reasons"]


def test_certainty_never_drops_below_very_low():
    refs = references(["t0", "t1", "t2"], pedro=[2, 2, 2])
    row = graded(trials(n=10), pooled(ci=(-30, 5), pi=(-60, 20), i2=90), refs)
    assert row["certainty"] == "very low"


def test_single_trial_is_graded_without_inconsistency():
    row = graded(trials(k=1, yi=-20, vi=4, n=300), pooled(k=1).iloc[0:0], references(["t0"]))
    assert row["basis"] == "single trial" and row["k"] == 1 and row["down_inconsistency"] == 0


# --- overrides --------------------------------------------------------------------------------------------


def write_overrides(tmp_path, rows: str):
    path = tmp_path / "overrides.csv"
    path.write_text("modality,outcome,comparator_class,window,domain,change,rationale,source_url\n" + rows)
    return path


def test_override_downgrades_for_indirectness_and_shows_the_rationale(tmp_path):
    path = write_overrides(tmp_path, "yoga,pain,inactive,any,indirectness,-1,Trials used chair yoga only,\n")
    row = graded(trials(), pooled(), references(["t0", "t1", "t2"]), overrides=read_overrides(path))
    assert row["rule_certainty"] == "high" and row["certainty"] == "moderate"
    assert row["down_indirectness"] == 1
    assert row["override"] == "indirectness -1: Trials used chair yoga only"


def test_override_can_restore_a_rule_downgrade(tmp_path):
    path = write_overrides(tmp_path, "yoga,pain,any,short-term,risk_of_bias,+1,Blinded assessors in all trials,\n")
    refs = references(["t0", "t1", "t2"], pedro=[None, None, None])
    row = graded(trials(), pooled(), refs, overrides=read_overrides(path))
    assert row["rule_certainty"] == "moderate" and row["certainty"] == "high" and row["down_risk_of_bias"] == 0


def test_override_for_another_analysis_does_not_apply(tmp_path):
    path = write_overrides(tmp_path, "yoga,disability,any,any,indirectness,-1,Other outcome,\n")
    row = graded(trials(), pooled(), references(["t0", "t1", "t2"]), overrides=read_overrides(path))
    assert row["certainty"] == "high" and row["override"] == ""


def test_bad_override_rows_are_reported_with_line_and_field(tmp_path):
    path = write_overrides(tmp_path, "yogaa,pain,inactive,any,indirectness,-3,,\n")
    _, problems = read_overrides(path, strict=False)
    assert {(p.line, p.field) for p in problems.itertuples()} == {(2, "modality"), (2, "change"), (2, "rationale")}


# --- published estimates, study-level verdicts and the headline -------------------------------------------


def test_published_estimates_keep_their_authors_certainty():
    review_row = trials(k=1).assign(level="review", k_studies=12, n_total=900, reported_certainty="low",
                                    key="r1", study="Roe 2021")
    table = grade(review_row, pooled().iloc[0:0])
    row = table.iloc[0]
    assert (row["basis"], row["certainty"], row["k"], row["participants"]) == ("published review", "low", 12, 900)


def test_every_modality_gets_a_verdict_even_without_data():
    refs = references(["t0"])
    table = grade(trials(k=1), pooled().iloc[0:0], references=refs)
    study_level = table[table["basis"] == "study-level only, not pooled"]
    assert {"foam-rolling", "cold", "lumbar-extension-machine"} <= set(study_level["modality"])
    foam = study_level[study_level["modality"] == "foam-rolling"].iloc[0]
    assert foam["verdict"] == "insufficient evidence" and "no studies in the table" in foam["reasons"]


def test_study_level_benefit_is_not_given_a_size():
    refs = references(["t0"]).assign(modality=[["mattress"]], finding="benefit")
    table = grade(trials(k=1).iloc[0:0], pooled().iloc[0:0], references=refs)
    row = table[(table["modality"] == "mattress") & (table["outcome"] == "pain")].iloc[0]
    assert row["verdict"] == "benefit reported, not quantified" and row["certainty"] == "very low"


def test_headline_prefers_inactive_comparators_then_rated_larger_evidence():
    sham = trials(k=3).assign(comparator_class="sham")
    inactive = trials(k=2, keys=["u0", "u1"])
    effects = pd.concat([sham, inactive], ignore_index=True)
    pool = pd.concat([pooled(k=3).assign(comparator_class="sham"), pooled(k=2)], ignore_index=True)
    table = grade(effects, pool, references=references(["t0", "t1", "t2", "u0", "u1"]))
    top = headline(table)
    yoga_pain = top[(top["modality"] == "yoga") & (top["outcome"] == "pain")].iloc[0]
    assert yoga_pain["comparator_class"] == "inactive" and yoga_pain["k"] == 2


# --- summary of findings and risk of bias ------------------------------------------------------------------


def test_summary_of_findings_columns_and_plain_language():
    table = grade(trials(), pooled(), references=references(["t0", "t1", "t2"]))
    sof = summary_of_findings(table, "yoga")
    row = sof[sof["basis"] == "pooled"].iloc[0]
    assert list(sof.columns) == ["outcome", "comparison", "window", "studies", "participants", "effect",
                                 "effect_0_100", "certainty", "verdict", "basis", "statement"]
    assert row["effect"] == "MD100 -20.0 (-25.0 to -15.0) points (0-100)"
    assert row["statement"] == ("Yoga reduces pain by a clinically important amount compared with usual care, "
                                "no treatment, waitlist or minimal care.")


def test_summary_of_findings_rejects_an_unknown_modality():
    with pytest.raises(ValueError, match=r"The value for `modality` must be one of \[.*\], but 'yogaa' was passed"):
        summary_of_findings(pd.DataFrame(columns=["modality"]), "yogaa")


def test_risk_of_bias_table_scores_pedro_items_without_item_1():
    refs = references(["t0", "t1"], pedro=[7, None]).assign(pedro_items=["1110001111", ""])
    table = risk_of_bias_table(refs)
    first = table.iloc[0]
    assert [first[f"P{i}"] for i in range(2, 12)] == [1, 1, 1, 0, 0, 0, 1, 1, 1, 1]
    assert "P1" not in table.columns
    assert table["category"].tolist() == ["low", "not assessed"]
