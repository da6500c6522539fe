"""Verdicts (GRADE minimally contextualised), certainty rules, overrides and summary of findings.

Cases sit at, just above and just below each threshold; the expected verdict and certainty are
worked out by hand from the rules in the grading module's docstrings (start at high = 4 levels).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lbpevidence.grading import (
    GROUP_COLUMNS,
    GradeRules,
    grade,
    judge_effect,
    risk_of_bias_table,
    rob_category,
    summary_of_findings,
    verdict_for,
)
from lbpevidence.overrides import read_overrides
from lbpevidence.vocabulary import VERDICTS

GROUP = {"modality": "yoga", "outcome": "pain", "population_group": "chronic", "comparator_class": "inactive",
         "window": "short-term", "measure": "MD100"}


def trials(k: int = 3, yi: float = -20.0, vi: float = 4.0, n: int = 100, keys: list[str] | None = None):
    """k trial rows of one analysis; n participants per arm."""
    keys = keys or [f"t{i}" for i in range(k)]
    se = math.sqrt(vi)
    return pd.DataFrame({
        **{c: [GROUP[c]] * k for c in GROUP_COLUMNS}, "key": keys, "level": "trial", "pool": True, "usable": True,
        "instrument": "pain-0-100", "yi": yi, "vi": vi, "yi_ci_low": yi - 1.96 * se, "yi_ci_high": yi + 1.96 * se,
        "n_int": n, "n_ctl": n, "n_total": pd.NA, "study": keys, "k_studies": pd.NA, "reported_certainty": "",
        "data_type": "final", "year": 2020,
    })


def pooled(estimate=-20.0, ci=(-25.0, -15.0), pi=(-28.0, -12.0), i2=10.0, tau2=1.0, k=3):
    return pd.DataFrame([{**GROUP, "k": k, "estimate": estimate, "ci_low": ci[0], "ci_high": ci[1],
                          "pi_low": pi[0], "pi_high": pi[1], "i2": i2, "tau2": tau2, "note": ""}])


ALL_ITEMS = "1111111111"


def references(keys, rob=None, pedro=None, items=None, unverified=None):
    return pd.DataFrame({"key": keys, "design": "rct", "first_author": "Doe", "year": 2020,
                         "rob": rob or [""] * len(keys), "pedro": pd.array(pedro or [8] * len(keys), dtype="Int64"),
                         "rob_domains": [[] for _ in keys], "pedro_items": items or [ALL_ITEMS] * len(keys),
                         "rob_source": "", "pedro_source": "", "modality": [["yoga"]] * len(keys),
                         "finding": "benefit", "participants": pd.array([200] * len(keys), dtype="Int64"),
                         "unverified": unverified or [[] for _ in keys]})


def graded(effects, pool, refs=None, rules=None, overrides=None):
    table = grade(effects, pool, rules or GradeRules(), references=refs, overrides=overrides)
    return table[table["basis"].isin(["pooled", "single trial"])].iloc[0]


# --- verdicts: GRADE's minimally contextualised approach, MID 15 -----------------------------------------


@pytest.mark.parametrize(("ci", "expected", "levels"), [
    ((-30, -15.0), "important benefit", 0),            # the whole CI at or beyond the MID
    ((-30, -14.9), "benefit, possibly important", 1),  # upper bound just short of the MID: crosses it
    ((-14.9, -0.1), "benefit below MID", 0),           # short of the MID, excludes no effect
    ((-15.0, -0.1), "benefit below MID", 0),           # touching the MID does not cross it
    ((-10, 0.0), "no important difference", 0),        # touching 0 includes no effect
    ((-14.9, 14.9), "no important difference", 0),     # inside ±MID
    ((-15.0, 5.0), "insufficient evidence", 2),        # includes no effect and the MID for benefit
    ((-5.0, 15.0), "insufficient evidence", 2),        # includes no effect and the MID for harm
    ((-146.0, 134.6), "insufficient evidence", 3),     # everything
    ((0.1, 14.9), "harm below MID", 0),
    ((0.1, 15.1), "harm, possibly important", 1),
    ((15.0, 30.0), "important harm", 0),
])
def test_verdict_and_imprecision_against_no_effect_and_the_mid(ci, expected, levels):
    estimate = (ci[0] + ci[1]) / 2
    judgement = judge_effect(estimate, ci[0], ci[1], 15.0)
    assert (judgement.verdict, judgement.imprecision) == (expected, levels)
    assert verdict_for(estimate, ci[0], ci[1], 15.0)[0] == expected


def test_the_reported_defects_get_honest_verdicts():
    # yoga disability -10.1 (-20.1 to -0.06), MID 10: the CI crosses the MID, so not "important benefit"
    assert judge_effect(-10.1, -20.1, -0.06, 10.0).verdict == "benefit, possibly important"
    # exercise pain -15 (-18 to -12), MID 15: half the CI is short of the MID
    assert judge_effect(-15.0, -18.0, -12.0, 15.0).verdict == "benefit, possibly important"
    # spinal manipulation -5.7 (-146 to 135): nothing can be said, three levels for imprecision
    judgement = judge_effect(-5.7, -146.0, 134.6, 15.0)
    assert (judgement.verdict, judgement.imprecision) == ("insufficient evidence", 3)


@pytest.mark.parametrize("mid", [float("nan"), 0.0, -1.0, None])
def test_a_missing_mid_is_never_zero(mid):
    # a benefit that would be "important" against a MID of 0 stays "size not judged"
    assert judge_effect(-20.0, -30.0, -10.0, mid).verdict == "benefit, size not judged"
    assert judge_effect(20.0, 10.0, 30.0, mid).verdict == "harm, size not judged"
    assert judge_effect(-2.0, -5.0, 1.0, mid).verdict == "insufficient evidence"


def test_no_usable_estimate_is_insufficient_evidence():
    nan = float("nan")
    assert judge_effect(nan, nan, nan, 15.0).verdict == "insufficient evidence"
    assert judge_effect(-5.0, float("-inf"), 1.0, 15.0).imprecision == 3


MIRROR = {"important benefit": "important harm", "benefit, possibly important": "harm, possibly important",
          "benefit below MID": "harm below MID", "no important difference": "no important difference",
          "insufficient evidence": "insufficient evidence",
          "benefit, size not judged": "harm, size not judged"}
finite = st.floats(min_value=-200, max_value=200, allow_nan=False)


@given(a=finite, b=finite, mid=st.floats(min_value=0.5, max_value=40))
def test_verdict_properties_over_a_grid(a, b, mid):
    low, high = min(a, b), max(a, b)
    estimate = (low + high) / 2
    judgement = judge_effect(estimate, low, high, mid)
    assert judgement.verdict in VERDICTS and 0 <= judgement.imprecision <= 3
    # an important benefit only when the whole CI lies at or beyond the MID
    assert (judgement.verdict == "important benefit") == (high <= -mid)
    assert (judgement.verdict == "important harm") == (low >= mid)
    # a CI that includes no effect never shows a benefit or a harm
    if low <= 0 <= high:
        assert VERDICTS[judgement.verdict].direction in ("none", "unknown")
    # both directions are judged alike
    mirrored = judge_effect(-estimate, -high, -low, mid)
    assert mirrored.verdict == MIRROR.get(judgement.verdict, {v: k for k, v in MIRROR.items()}.get(judgement.verdict))
    assert mirrored.imprecision == judgement.imprecision


@settings(max_examples=25)
@given(a=finite, b=finite, mid=st.floats(min_value=0.5, max_value=40))
def test_important_benefit_never_reaches_moderate_when_the_ci_crosses_the_mid(a, b, mid):
    low, high = min(a, b), max(a, b)
    effects = trials(k=1, yi=(low + high) / 2, n=1000)
    effects["yi_ci_low"], effects["yi_ci_high"] = low, high
    effects["instrument"] = "pain-0-100"
    row = graded(effects, pooled().iloc[0:0], references(["t0"]), rules=GradeRules(ois_participants=1))
    crosses = low < -15.0 < high or low <= 0 <= high
    if row["verdict"] == "important benefit":
        assert not crosses
    if crosses and row["verdict"].startswith("benefit"):
        assert row["certainty"] != "high"


# --- certainty: one rule at a time ------------------------------------------------------------------------


def test_clean_evidence_stays_high():
    row = graded(trials(), pooled(), references(["t0", "t1", "t2"]))
    assert row["certainty"] == "high" and row["rule_certainty"] == "high"
    assert row["rated_by"] == "lbpevidence (GRADE rules)"
    assert row[[c for c in row.index if c.startswith("down_")]].sum() == 0


@pytest.mark.parametrize(("high_risk", "expected"), [(1, "high"), (2, "moderate")])
def test_risk_of_bias_share_of_weight(high_risk, expected):
    # Equal weights: 1 of 3 trials (33%) or 2 of 3 (67%) at high risk (PEDro 3 < 4), against 50%.
    pedro = [3] * high_risk + [8] * (3 - high_risk)
    row = graded(trials(), pooled(), references(["t0", "t1", "t2"], pedro=pedro))
    assert row["certainty"] == expected
    assert (row["down_risk_of_bias"] == 1) == (expected == "moderate")


def test_risk_of_bias_at_exactly_the_threshold_does_not_downgrade():
    row = graded(trials(k=2), pooled(k=2), references(["t0", "t1"], pedro=[3, 8]))  # 50% exactly
    assert row["down_risk_of_bias"] == 0


def test_trials_without_an_assessment_count_as_unclear_and_the_reason_says_so():
    refs = references(["t0", "t1", "t2"], pedro=[None, None, 8])
    row = graded(trials(), pooled(), refs)
    assert row["down_risk_of_bias"] == 1
    assert "2 of 3 trials not assessed, counted as unclear" in row["reasons"]


def test_one_unassessed_trial_is_named_even_without_a_downgrade():
    row = graded(trials(), pooled(), references(["t0", "t1", "t2"], pedro=[None, 8, 8]))
    assert row["down_risk_of_bias"] == 0 and "1 of 3 trials not assessed" in row["reasons"]


def test_rob2_high_judgement_counts_as_high_risk():
    refs = references(["t0", "t1", "t2"], rob=["high", "high", "low"], pedro=[None, None, None])
    row = graded(trials(), pooled(), refs)
    assert row["down_risk_of_bias"] == 1 and "high risk" in row["reasons"]


@pytest.mark.parametrize(("pedro", "items", "expected"), [
    (8, ALL_ITEMS, "low"),
    (6, "1100001111", "low"),             # at the total threshold, allocation items met
    (5, ALL_ITEMS, "some concerns"),      # below 6
    (8, "1011111111", "some concerns"),   # concealed allocation (item 3) not met
    (8, "0111111111", "high"),            # random allocation (item 2) not met
    (8, "", "some concerns"),             # a total without its items never counts as low
    (3, ALL_ITEMS, "high"),               # PEDro's "poor" band
])
def test_pedro_mapping(pedro, items, expected):
    assert rob_category({"rob": "", "pedro": pedro, "pedro_items": items})[0] == expected


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
    (67, (-25, -15), 0),     # 3 x 134 = 402 participants: above 400, CI beyond the MID
    (66, (-25, -15), 1),     # 396: below the optimal information size
    (67, (-25, -14), 1),     # the CI crosses the MID (15)
    (66, (-25, -14), 2),     # both criteria: the CI crosses the MID and 396 < 400
    (67, (-25, 0.5), 2),     # CI includes no effect and the MID
    (67, (-25, 16), 3),      # and the MID for harm
    (66, (-25, 16), 3),      # never more than three
])
def test_imprecision_against_the_thresholds_then_the_information_size(n_per_arm, ci, expected_down):
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


def test_single_trial_is_graded_and_says_consistency_cannot_be_checked():
    row = graded(trials(k=1, yi=-20, vi=4, n=300), pooled(k=1).iloc[0:0], references(["t0"]))
    assert row["basis"] == "single trial" and row["k"] == 1 and row["down_inconsistency"] == 0
    assert "one trial, so consistency cannot be checked" in row["reasons"]


def test_two_trials_are_flagged_few_studies_with_a_sensitivity_analysis():
    effects = trials(k=2, keys=["a", "b"])
    effects["yi"], effects["vi"] = [-10.0, -30.0], [4.0, 4.0]
    row = graded(effects, pooled(k=2, estimate=-20.0, ci=(-150.0, 110.0), pi=(math.nan, math.nan)),
                 references(["a", "b"]))
    assert bool(row["few_studies"]) and row["basis"] == "pooled"
    # fixed effect with equal variances: the mean, -20, with SE sqrt(4/2) = 1.414 -> CI -22.8 to -17.2
    assert row["sensitivity"].startswith("fixed effect -20.0 (-22.8 to -17.2)")
    assert "REML with the modified Knapp-Hartung CI" in row["sensitivity"]
    assert "REML with a Wald CI" in row["sensitivity"]


def test_a_failed_pooling_leaves_each_trial_on_its_own_never_labelled_pooled():
    effects = trials(k=2, keys=["a", "b"])
    failed = pooled(k=2, estimate=math.nan, ci=(math.nan, math.nan)).assign(note="MD rows mix instruments")
    table = grade(effects, failed, references=references(["a", "b"]))
    quantified = table[table["basis"].isin(["pooled", "single trial"])]
    assert quantified["basis"].tolist() == ["single trial", "single trial"]
    assert quantified["evidence"].tolist() == [["a"], ["b"]]
    assert all("pooling failed (MD rows mix instruments)" in r for r in quantified["reasons"])


def test_an_off_scale_pooling_puts_its_trials_forward_as_candidates():
    effects = trials(k=2, keys=["a", "b"])
    table = grade(effects, pooled(k=2, ci=(-146.0, 134.6)), references=references(["a", "b"]))
    assert table.loc[table["basis"] == "pooled", "off_scale"].tolist() == [True]
    assert sorted(map(tuple, table.loc[table["basis"] == "single trial", "evidence"])) == [("a",), ("b",)]


def test_an_unidentified_entry_feeds_no_candidate():
    refs = references(["t0", "t1", "t2"], unverified=[["doi", "pmid"], [], []])
    table = grade(trials(), pooled(), references=refs)
    assert not any("t0" in keys for keys in table["evidence"])


# --- overrides --------------------------------------------------------------------------------------------


def write_overrides(tmp_path, rows: str):
    path = tmp_path / "overrides.csv"
    path.write_text("modality,outcome,comparator_class,window,domain,change,rationale,source_url\n" + rows)
    return path


def test_override_downgrades_for_indirectness_and_shows_the_rationale(tmp_path):
    path = write_overrides(tmp_path, "yoga,pain,inactive,any,indirectness,-1,Trials used chair yoga only,\n")
    row = graded(trials(), pooled(), references(["t0", "t1", "t2"]), overrides=read_overrides(path))
    assert row["rule_certainty"] == "high" and row["certainty"] == "moderate"
    assert row["down_indirectness"] == 1 and row["rated_by"] == "lbpevidence (GRADE rules) with a human override"
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


# --- published estimates, non-comparative and study-level rows -----------------------------------------------


def review_row(**values):
    base = trials(k=1).assign(level="review", k_studies=12, n_total=900, reported_certainty="low", key="r1",
                              study="Roe 2021", data_type="reported-effect", effect_type="MD", estimate=20.0,
                              ci_low=15.0, ci_high=25.0, sign_convention="improvement")
    return base.assign(**values)


def test_published_estimates_keep_their_authors_certainty_and_say_who_rated_it():
    row = grade(review_row(), pooled().iloc[0:0]).iloc[0]
    assert (row["basis"], row["certainty"], row["k"], row["participants"]) == ("published review", "low", 12, 900)
    assert row["rated_by"] == "review authors (Roe 2021)"
    assert "the project's rules alone would give" in row["reasons"]


def test_a_published_estimate_shows_the_ci_it_printed():
    # printed as improvement 20 (15 to 25): oriented -20 (-25 to -15), not a symmetric interval rebuilt from an SE
    row = grade(review_row(yi=-20.0, yi_ci_low=-23.0, yi_ci_high=-17.0), pooled().iloc[0:0]).iloc[0]
    assert (row["estimate"], row["ci_low"], row["ci_high"], bool(row["ci_as_printed"])) == (-20.0, -25.0, -15.0,
                                                                                            True)


def test_an_unrated_published_estimate_gets_our_rating_with_reasons():
    row = grade(review_row(reported_certainty="", yi=-20.0, yi_ci_low=-25.0, yi_ci_high=-15.0),
                pooled().iloc[0:0]).iloc[0]
    # high - 1 (risk of bias not in the table, counted as unclear); CI beyond the MID; 900 >= 400
    assert (row["certainty"], row["rated_by"]) == ("moderate", "lbpevidence (GRADE rules)")
    assert "counted as unclear" in row["reasons"]


def test_unreported_participants_cost_a_level_for_imprecision():
    row = grade(review_row(reported_certainty="", n_total=pd.NA), pooled().iloc[0:0]).iloc[0]
    assert row["down_imprecision"] == 1 and "participants not reported" in row["reasons"]


def test_a_within_group_change_never_gives_a_benefit_verdict():
    row = grade(review_row(comparator_class="none", yi=-30.0), pooled().iloc[0:0]).iloc[0]
    assert (row["basis"], row["verdict"], row["certainty"]) == ("non-comparative", "no comparative estimate",
                                                                "very low")


def test_every_modality_gets_a_verdict_even_without_data():
    table = grade(trials(k=1), pooled().iloc[0:0], references=references(["t0"]))
    study_level = table[table["basis"] == "study-level only, not pooled"]
    assert {"foam-rolling", "cold", "lumbar-extension-machine"} <= set(study_level["modality"])
    foam = study_level[study_level["modality"] == "foam-rolling"].iloc[0]
    assert foam["verdict"] == "insufficient evidence" and "no studies in the table" in foam["reasons"]
    assert foam["certainty"] == "very low" and foam["rated_by"] == "lbpevidence (GRADE rules)"


def test_study_level_benefit_is_not_given_a_size():
    refs = references(["t0"]).assign(modality=[["mattress"]], finding="benefit")
    table = grade(trials(k=1).iloc[0:0], pooled().iloc[0:0], references=refs)
    row = table[(table["modality"] == "mattress") & (table["outcome"] == "pain")].iloc[0]
    assert row["verdict"] == "benefit reported, not quantified" and row["certainty"] == "very low"


def test_statements_come_from_the_verdict_and_certainty():
    row = graded(trials(), pooled(), references(["t0", "t1", "t2"]))
    assert row["statement"] == ("Yoga results in an important reduction in pain compared with usual care / no "
                                "treatment.")


# --- summary of findings and risk of bias ------------------------------------------------------------------


def test_summary_of_findings_columns_and_plain_language():
    table = grade(trials(), pooled(), references=references(["t0", "t1", "t2"]))
    sof = summary_of_findings(table, "yoga")
    row = sof[sof["basis"] == "pooled"].iloc[0]
    assert list(sof.columns) == ["outcome", "population", "comparison", "window", "studies", "participants",
                                 "effect", "effect_0_100", "certainty", "rated_by", "reasons", "verdict", "basis",
                                 "statement"]
    assert row["effect"] == "MD100 -20.0 (-25.0 to -15.0) points (0-100)"
    assert row["statement"].startswith("Yoga results in an important reduction in pain")


def test_summary_of_findings_rejects_an_unknown_modality():
    with pytest.raises(ValueError, match=r"The value for `modality` must be one of \[.*\], but 'yogaa' was passed"):
        summary_of_findings(pd.DataFrame(columns=["modality"]), "yogaa")


def test_risk_of_bias_table_scores_pedro_items_without_item_1():
    refs = references(["t0", "t1"], pedro=[7, None], items=["1110001111", ""])
    table = risk_of_bias_table(refs)
    first = table.iloc[0]
    assert [first[f"P{i}"] for i in range(2, 12)] == [1, 1, 1, 0, 0, 0, 1, 1, 1, 1]
    assert "P1" not in table.columns
    assert table["category"].tolist() == ["low", "not assessed"]
    assert risk_of_bias_table(refs, keys=["t1"])["key"].tolist() == ["t1"]


@pytest.mark.parametrize(("rob1", "expected"), [
    (["Random sequence generation (selection bias): Low risk", "Allocation concealment (selection bias): Low risk",
      "Blinding of outcome assessment (detection bias) All outcomes: Low risk",
      "Incomplete outcome data (attrition bias) All outcomes: Low risk"], "low"),
    (["Random sequence generation (selection bias): Low risk", "Allocation concealment (selection bias): Low risk"],
     "some concerns"),                                   # a table cut short is not low risk
    (["Sequence generation: Low", "Participants and assessor blinding: High"], "high"),
    (["Adequate sequence generation: Low risk", "Blinding? Outcome assessor: Unclear risk"], "some concerns"),
])
def test_rob1_domains_from_a_review_table(rob1, expected):
    assert rob_category({"rob": "", "rob1": rob1, "pedro": 9, "pedro_items": ALL_ITEMS})[0] == expected
