"""Tests of lbpevidence.meta.

Expected values come from R metafor (tests/data/metafor_*.json, made by
scripts/metafor_fixtures.R: rma.uni, predict, confint (Q-profile), leave1out, regtest) or
from hand calculations written out here, never from the code under test.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lbpevidence.effects import effect_sizes
from lbpevidence.errors import StatisticsError
from lbpevidence.meta import (
    BEGG_COLUMNS,
    EGGER_COLUMNS,
    LEAVE_ONE_OUT_COLUMNS,
    RESULT_COLUMNS,
    BeggResult,
    ConvergenceWarning,
    EggerResult,
    MetaResult,
    begg_test,
    egger_test,
    leave_one_out,
    meta_analysis,
    meta_by,
    subgroup_differences,
)

DATA = Path(__file__).parent / "data"
FIXTURES = ("bcg", "normand1999", "homogeneous", "zero_cell", "wide_tau2", "reml_stepadj", "stress", "k2")
CI = {"z": "wald", "knha": "hksj", "t": "t", "adhoc": "hksj-modified"}


def load(name: str) -> dict:
    return json.loads((DATA / f"metafor_{name}.json").read_text())


LOADED = {name: load(name) for name in FIXTURES}


def effects_of(name: str, measure: str) -> pd.DataFrame:
    """metafor's own yi/vi, so that these tests check pooling alone."""
    fixture = LOADED[name]
    escalc = fixture["escalc"][measure]
    return pd.DataFrame({"key": fixture["data"]["key"], "yi": escalc["yi"], "vi": escalc["vi"],
                         "measure": measure})


FITS = [(name, i) for name in FIXTURES for i in range(len(LOADED[name]["fits"]))]
# leave1out() with k = 2 refits one study (metafor's k = 1 "fit"); leave_one_out() gives NaN and a note
LOO_FITS = [(name, i) for name, i in FITS if LOADED[name]["fits"][i]["k"] > 2]


def fit_id(case: tuple[str, int]) -> str:
    fit = LOADED[case[0]]["fits"][case[1]]
    return f"{case[0]}-{fit['measure']}-{fit['method']}-{fit['test']}-{fit['level']}"


def tolerance(method: str) -> float:
    # 1e-6 relative for every estimator: the fixtures ran metafor with threshold = tol = 1e-12
    return 1e-6


def close(actual: float, expected: float | None, rel: float, scale: float) -> bool:
    if expected is None:
        return math.isnan(actual)
    # absolute tolerance for values that are (near) zero, relative to the data's own scale
    return math.isclose(actual, expected, rel_tol=rel, abs_tol=1e-9 * scale)


def test_fixtures_record_their_provenance() -> None:
    for name, fixture in LOADED.items():
        assert fixture["metafor_version"] == "3.8.1", name
        assert fixture["r_version"].startswith("R version 4.2"), name
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", fixture["date"]), name
        assert "threshold = 1e-12" in fixture["control"]
        for fit in fixture["fits"]:
            assert fit["calls"]["fit"].startswith("rma(")
            assert f'test = "{fit["test"]}"' in fit["calls"]["fit"]
            assert ("level = " in fit["calls"]["fit"]) == (fit["level"] != 95)


# ---- parity with metafor: every measure x estimator x CI method --------------------------

@pytest.mark.parametrize("case", FITS, ids=[fit_id(c) for c in FITS])
def test_meta_analysis_parity(case: tuple[str, int]) -> None:
    name, index = case
    expected = LOADED[name]["fits"][index]
    effects = effects_of(name, expected["measure"])
    # metafor's argument names (test, level), and ours (ci, alpha), give the same result
    result = meta_analysis(effects, method=expected["method"], test=expected["test"], level=expected["level"])
    ours = meta_analysis(effects, method=expected["method"], ci=CI[expected["test"]],
                         alpha=(100 - expected["level"]) / 100)
    assert result == ours
    assert result.converged and result.test == expected["test"] and result.level == pytest.approx(expected["level"])
    assert result.ci_df == pytest.approx(expected["ddf"]) if expected["test"] != "z" else math.isnan(result.ci_df)
    rel = tolerance(expected["method"])
    scale = float(np.mean(effects["vi"]))
    fields = ["estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "h2", "q", "q_pvalue",
              "statistic", "pvalue"]
    for field in fields:
        field_scale = 100.0 if field in ("i2", "h2") else scale
        assert close(getattr(result, field), expected[field], rel, field_scale), (
            field, getattr(result, field), expected[field])
    assert result.k == expected["k"]
    assert result.q_df == expected["q_df"]
    assert result.method == expected["method"] and result.ci_method == CI[expected["test"]]
    if expected["method"] != "FE" and expected["test"] in ("knha", "adhoc"):
        # the scaling factor itself, through the SE: s2w = (se / se_unscaled)²
        unscaled = meta_analysis(effects, method=expected["method"], test="t")
        assert (result.se / unscaled.se) ** 2 == pytest.approx(expected["s2w"], rel=1e-6, abs=1e-12)
    assert result.measure == expected["measure"]
    np.testing.assert_allclose(result.weights, expected["weights"], rtol=rel)
    assert result.keys == tuple(LOADED[name]["data"]["key"])
    if expected["method"] == "FE":
        # metafor's predict() has no PI for FE models: the interval is the CI
        assert (result.pi_low, result.pi_high) == (result.ci_low, result.ci_high)
        assert math.isnan(result.tau2_ci_low) and math.isnan(result.i2_ci_high)
    else:
        confint = expected["confint"]
        for field in ("tau2_ci_low", "tau2_ci_high"):
            assert close(getattr(result, field), confint[field], 1e-5, scale), (field, getattr(result, field))
        for field in ("i2_ci_low", "i2_ci_high"):
            assert close(getattr(result, field), confint[field], 1e-5, 100.0), (field, getattr(result, field))


@pytest.mark.parametrize("case", LOO_FITS, ids=[fit_id(c) for c in LOO_FITS])
def test_leave_one_out_parity(case: tuple[str, int]) -> None:
    name, index = case
    expected = LOADED[name]["fits"][index]
    effects = effects_of(name, expected["measure"])
    table = leave_one_out(effects, method=expected["method"], test=expected["test"], level=expected["level"])
    assert list(table.columns) == LEAVE_ONE_OUT_COLUMNS
    l1o = expected["leave1out"]
    assert table["omitted"].tolist() == l1o["slab"]
    rel = tolerance(expected["method"])
    scale = float(np.mean(effects["vi"]))
    for column in ("estimate", "se", "ci_low", "ci_high", "q", "q_pvalue", "tau2", "i2", "h2"):
        atol = 1e-9 * (100.0 if column in ("i2", "h2") else scale)
        expected_values = np.array(l1o[column], dtype=float)
        np.testing.assert_allclose(table[column].to_numpy(float), expected_values, rtol=rel, atol=atol,
                                   err_msg=column)


def test_presets_reproduce_their_methods() -> None:
    effects = effects_of("bcg", "RR")
    fits = {(f["measure"], f["method"], f["test"]): f for f in LOADED["bcg"]["fits"] if f["level"] == 95}
    revman = meta_analysis(effects, method="PM", ci="hksj", preset="revman5")
    assert (revman.method, revman.ci_method) == ("DL", "wald")
    assert revman.ci_low == pytest.approx(fits[("RR", "DL", "z")]["ci_low"], rel=1e-6)
    cochrane = meta_analysis(effects, method="FE", ci="wald", preset="cochrane2025", prediction=False)
    assert (cochrane.method, cochrane.ci_method) == ("REML", "hksj")
    assert cochrane.pi_low == pytest.approx(fits[("RR", "REML", "knha")]["pi_low"], rel=1e-5)
    default = meta_analysis(effects)
    assert (default.method, default.ci_method) == ("REML", "hksj")
    assert default.pi_high == pytest.approx(fits[("RR", "REML", "knha")]["pi_high"], rel=1e-5)


def test_no_prediction_interval_when_not_asked() -> None:
    result = meta_analysis(effects_of("bcg", "OR"), prediction=False)
    assert math.isnan(result.pi_low) and math.isnan(result.pi_high)


def test_dl_truncates_tau2_at_zero_and_reml_agrees() -> None:
    fits = LOADED["homogeneous"]["fits"]
    effects = effects_of("homogeneous", "MD")
    q = next(f["q"] for f in fits if f["measure"] == "MD")
    assert q < 5                                  # Q < k - 1: the raw DL estimate is negative
    dl = meta_analysis(effects, method="DL", ci="wald")
    reml = meta_analysis(effects, method="REML", ci="wald")
    pm = meta_analysis(effects, method="PM", ci="wald")
    assert dl.tau2 == 0.0 and pm.tau2 == 0.0
    assert reml.tau2 == pytest.approx(0.0, abs=1e-9)
    assert dl.i2 == 0.0 and dl.h2 == 1.0
    assert "truncated at 0" in dl.note
    # Q below the lower chi² quantile: the Q-profile CI is [0, 0], as metafor's ci.null
    assert all(f["confint"]["ci_null"] for f in fits if f["method"] != "FE")
    assert (dl.tau2_ci_low, dl.tau2_ci_high) == (0.0, 0.0)


def test_tau2_ci_lower_bound_zero_upper_positive() -> None:
    # zero_cell RR: metafor's QP CI is [0, 21.59...]
    expected = next(f for f in LOADED["zero_cell"]["fits"] if f["measure"] == "RR" and f["method"] == "DL")
    result = meta_analysis(effects_of("zero_cell", "RR"), method="DL")
    assert result.tau2_ci_low == 0.0
    assert result.tau2_ci_high == pytest.approx(expected["confint"]["tau2_ci_high"], rel=1e-6)


@pytest.mark.parametrize(("name", "measure"), [("normand1999", "MD"), ("wide_tau2", "MD")])
def test_tau2_ci_upper_bound_beyond_metafors_default_search(name: str, measure: str) -> None:
    # metafor's default search stops at tau2.max = max(100, 10 * tau2) and reports "> tau2.max";
    # the fixture widened the search until the bound was found; we must find it without help.
    for expected in LOADED[name]["fits"]:
        if expected["measure"] != measure or expected["method"] != "DL":
            continue
        assert expected["confint"]["default_ub_sign"] == ">"
        assert expected["confint"]["tau2_ci_high"] > max(100, 10 * expected["tau2"])
        result = meta_analysis(effects_of(name, measure), method="DL", ci=CI[expected["test"]])
        assert result.tau2_ci_high == pytest.approx(expected["confint"]["tau2_ci_high"], rel=1e-6)


def test_hksj_not_truncated() -> None:
    # Homogeneous set: the HKSJ scaling factor is below 1 and metafor ("knha") keeps it, so the HKSJ
    # CI is narrower than the Wald CI here.
    fits = {(f["measure"], f["method"], f["test"]): f for f in LOADED["homogeneous"]["fits"]}
    knha, wald = fits[("MD", "REML", "knha")], fits[("MD", "REML", "z")]
    assert knha["se"] < wald["se"]
    result = meta_analysis(effects_of("homogeneous", "MD"), method="REML", ci="hksj")
    assert result.se == pytest.approx(knha["se"], rel=1e-5)


def test_reml_where_full_fisher_steps_oscillate() -> None:
    # metafor stops here ("did not converge"); with control = list(stepadj = 0.5) it gives the
    # fixture's values, and so must we, without being asked.
    fixture = LOADED["reml_stepadj"]
    assert "did not converge" in fixture["default_error"]
    expected = fixture["fits"][0]
    result = meta_analysis(effects_of("reml_stepadj", "MD"), method="REML", ci="wald")
    assert result.tau2 == pytest.approx(expected["tau2"], rel=1e-9)
    assert "stepadj = 0.5" in result.note


def test_end_to_end_from_counts() -> None:
    # effect_sizes() on dat.bcg's 2x2 tables, then REML + HKSJ: metafor's numbers.
    data = LOADED["bcg"]["data"]
    raw = pd.DataFrame({"key": data["key"], "events_int": data["tpos"],
                        "n_int": np.add(data["tpos"], data["tneg"]), "events_ctl": data["cpos"],
                        "n_ctl": np.add(data["cpos"], data["cneg"])})
    expected = next(f for f in LOADED["bcg"]["fits"]
                    if (f["measure"], f["method"], f["test"]) == ("RR", "REML", "knha"))
    result = meta_analysis(effect_sizes(raw, "RR"))
    for field in ("estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "tau2"):
        assert getattr(result, field) == pytest.approx(expected[field], rel=1e-5), field


# ---- bad rows never reach a pooled result -----------------------------------------------------

def test_bad_rows_are_excluded_and_listed() -> None:
    nd = LOADED["normand1999"]["data"]
    good = pd.DataFrame({"key": nd["key"], "mean_int": nd["m1i"], "sd_int": nd["sd1i"], "n_int": nd["n1i"],
                         "mean_ctl": nd["m2i"], "sd_ctl": nd["sd2i"], "n_ctl": nd["n2i"]})
    bad = pd.DataFrame({"key": ["neg_sd", "zero_n", "nan_mean", "inf_sd", "bad_ci"],
                        "mean_int": [10, 10, np.nan, 10, np.nan], "sd_int": [-3, 5, 5, np.inf, np.nan],
                        "n_int": [20, 0, 20, 20, np.nan], "mean_ctl": [12, 12, 12, 12, np.nan],
                        "sd_ctl": [5, 5, 5, 5, np.nan], "n_ctl": [20, 20, 20, 20, np.nan],
                        "effect_type": [None, None, None, None, "MD"],
                        "estimate": [None, None, None, None, 3.0],
                        "ci_low": [None, None, None, None, 4.0], "ci_high": [None, None, None, None, 9.0]})
    mixed = pd.concat([bad.iloc[:2], good, bad.iloc[2:]], ignore_index=True)
    effects = effect_sizes(mixed, "MD")
    expected = next(f for f in LOADED["normand1999"]["fits"]
                    if (f["measure"], f["method"], f["test"]) == ("MD", "REML", "knha"))
    result = meta_analysis(effects)
    assert result.k == 9
    assert result.estimate == pytest.approx(expected["estimate"], rel=1e-5)
    assert result.tau2 == pytest.approx(expected["tau2"], rel=1e-5)
    reasons = dict(result.excluded)
    assert set(reasons) == {"neg_sd", "zero_n", "nan_mean", "inf_sd", "bad_ci"}
    assert "sd_int must be > 0 (found -3)" in reasons["neg_sd"]
    assert "n_int must be > 0 (found 0)" in reasons["zero_n"]
    assert "mean_int is missing" in reasons["nan_mean"]
    assert "sd_int is not finite (inf)" in reasons["inf_sd"]
    assert "does not contain the estimate 3" in reasons["bad_ci"]
    assert "5 row(s) not pooled" in result.note
    frame = result.to_frame()
    assert frame.loc[0, "k_excluded"] == 5
    assert "neg_sd: unusable: sd_int must be > 0" in frame.loc[0, "excluded"]


def test_plain_yi_vi_rows_that_cannot_be_pooled() -> None:
    effects = pd.DataFrame({"key": ["a", "b", "c", "d", "e"], "yi": [0.1, np.nan, 0.3, np.inf, 0.2],
                            "vi": [0.01, 0.02, 0.0, 0.02, 0.03]})
    result = meta_analysis(effects, method="FE", ci="wald")
    assert result.keys == ("a", "e")
    assert dict(result.excluded) == {"b": "yi is missing or not finite", "c": "vi is missing or not positive",
                                     "d": "yi is missing or not finite"}
    # by hand: weights 100 and 33.33 -> (0.1 * 100 + 0.2 * 100/3) / (400/3) = 0.125
    assert result.estimate == pytest.approx(0.125, rel=1e-12)
    assert result.se == pytest.approx(math.sqrt(3 / 400), rel=1e-12)
    assert result.weights == pytest.approx((75.0, 25.0))


def test_k_below_two_raises() -> None:
    one = pd.DataFrame({"key": ["a", "b"], "yi": [0.1, 0.2], "vi": [0.01, np.nan]})
    with pytest.raises(StatisticsError, match=r"^k=1: not pooled"):
        meta_analysis(one)
    with pytest.raises(StatisticsError, match=r"^k=0: not pooled"):
        meta_analysis(one.iloc[1:])


def test_mixed_measures_raise() -> None:
    effects = pd.DataFrame({"yi": [0.1, 0.2], "vi": [0.01, 0.02], "measure": ["MD", "SMD"]})
    with pytest.raises(StatisticsError, match=r"mix measures \['MD', 'SMD'\]"):
        meta_analysis(effects)


# ---- argument errors ---------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "message"), [
    ({"method": "XYZ"},
     "The value for `method` must be one of ['FE', 'DL', 'REML', 'PM'], but 'XYZ' was passed."),
    ({"ci": "knha"},
     "The value for `ci` must be one of ['wald', 'hksj', 't', 'hksj-modified'], but 'knha' was passed."),
    ({"test": "hksj"}, "The value for `test` must be one of ['z', 'knha', 't', 'adhoc'], but 'hksj' was passed."),
    ({"ci": "wald", "test": "knha"},
     "The values for `ci` and `test` disagree: ci='wald' is test='z', but test='knha' was passed; pass one of them."),
    ({"level": 0.3}, "The value for `level` must be a confidence level in percent, 1 < level < 100 "
                     "(or, as metafor reads it, a proportion 0.5 < level < 1), but 0.3 was passed."),
    ({"level": 100}, "The value for `level` must be a confidence level in percent"),
    ({"level": 95, "alpha": 0.1},
     "The values for `alpha` and `level` disagree: level=95 means alpha=0.05, but alpha=0.1 was passed"),
    ({"control": {"tol": 1e-8}},
     "The value for `control key` must be one of ['threshold', 'maxiter', 'stepadj'], but 'tol' was passed."),
    ({"control": {"maxiter": 0}}, "The value for `control['maxiter']` must be an integer >= 1, but 0 was passed."),
    ({"control": {"stepadj": 2}}, "The value for `control['stepadj']` must be a number in (0, 1], but 2 was passed."),
    ({"control": {"threshold": -1}}, "The value for `control['threshold']` must be a number between 0 and 1"),
    ({"control": [1]}, "The value for `control` must be a dict with keys among"),
    ({"preset": "revman"},
     "The value for `preset` must be one of [None, 'cochrane2025', 'revman5'], but 'revman' was passed."),
    ({"alpha": 1.5}, "The value for `alpha` must be a number between 0 and 1, but 1.5 was passed."),
])
def test_argument_errors_seaborn_style(kwargs: dict, message: str) -> None:
    effects = effects_of("bcg", "RR")
    for call in (meta_analysis, leave_one_out):
        with pytest.raises(ValueError, match=re.escape(message)):
            call(effects, **kwargs)
    with pytest.raises(ValueError, match=re.escape(message)):
        meta_by(effects.assign(group="g"), by="group", **kwargs)


def test_by_must_name_columns() -> None:
    message = "The value for `by` must be one of ['key', 'yi', 'vi', 'measure'], but 'modality' was passed."
    with pytest.raises(ValueError, match=re.escape(message)):
        meta_by(effects_of("bcg", "RR"), by=["modality"])
    with pytest.raises(ValueError, match="The value for `subgroup` must be one of"):
        subgroup_differences(effects_of("bcg", "RR"), "nope")


# ---- meta_by -------------------------------------------------------------------------------

def test_meta_by_groups_sorted_and_k1_kept() -> None:
    effects = effects_of("bcg", "RR").assign(
        alloc=LOADED["bcg"]["data"]["alloc"])
    effects.loc[effects["key"] == "bcg6", "alloc"] = np.nan        # a missing label is a group too
    extra = pd.DataFrame({"key": ["solo"], "yi": [0.1], "vi": [0.2], "measure": ["RR"],
                          "alloc": ["aaa-solo"]})
    table = meta_by(pd.concat([effects, extra], ignore_index=True), by="alloc", method="DL", ci="wald")
    assert list(table.columns) == ["alloc", *RESULT_COLUMNS]
    labels = table["alloc"].tolist()
    assert labels[:4] == ["aaa-solo", "alternate", "random", "systematic"] and pd.isna(labels[4])
    solo = table.iloc[0]
    assert solo["k"] == 1 and math.isnan(solo["estimate"]) and solo["note"].startswith("k=1: not pooled")
    alternate = table.iloc[1]                                           # 'alternate' without bcg6
    assert alternate["k"] == 1 and alternate["note"].startswith("k=1: not pooled")
    # the 'random' group, by metafor: rma(yi, vi, subset = alloc == "random", method = "DL")
    random_group = next(s for s in LOADED["bcg"]["subgroups"]
                        if (s["measure"], s["method"], s["test"]) == ("RR", "DL", "z"))
    position = random_group["groups"].index("random")
    assert table.iloc[2]["estimate"] == pytest.approx(random_group["estimate"][position], rel=1e-6)
    assert table.iloc[2]["se"] == pytest.approx(random_group["se"][position], rel=1e-6)


def test_meta_by_md_mixing_instruments_not_pooled() -> None:
    rows = pd.DataFrame({
        "modality": ["yoga"] * 4 + ["heat"] * 2,
        "instrument": ["rmdq-24", "odi-0-100", "rmdq-24", "odi-0-100", "pain-0-10", "pain-0-10"],
        "effect_type": ["MD"] * 6, "estimate": [-2.4, -10.0, -1.2, -5.0, -1.0, -0.5],
        "se": [0.6, 2.5, 0.5, 2.0, 0.3, 0.25]})
    md = meta_by(effect_sizes(rows, "MD"), by="modality", preset="revman5")
    yoga = md[md["modality"] == "yoga"].iloc[0]
    assert math.isnan(yoga["estimate"])
    assert yoga["note"] == "MD rows mix instruments (odi-0-100, rmdq-24): not pooled; use MD100 or SMD"
    heat = md[md["modality"] == "heat"].iloc[0]
    # DerSimonian-Laird by hand: yi -1.0 and -0.5, vi 0.09 and 0.0625
    w = np.array([1 / 0.09, 1 / 0.0625])
    y = np.array([-1.0, -0.5])
    fe = (w @ y) / w.sum()
    q = w @ (y - fe) ** 2                                   # 1.639 > k - 1 = 1
    tau2 = (q - 1) / (w.sum() - (w @ w) / w.sum())          # 0.04875
    w_re = 1 / (np.array([0.09, 0.0625]) + tau2)
    assert heat["k"] == 2
    assert heat["q"] == pytest.approx(q, rel=1e-12)
    assert heat["tau2"] == pytest.approx(tau2, rel=1e-12)
    assert heat["estimate"] == pytest.approx((w_re @ y) / w_re.sum(), rel=1e-12)
    md100 = meta_by(effect_sizes(rows, "MD100"), by="modality", preset="revman5")
    yoga100 = md100[md100["modality"] == "yoga"].iloc[0]
    assert yoga100["k"] == 4 and not math.isnan(yoga100["estimate"]) and "mix" not in yoga100["note"]


def test_meta_by_requires_a_column() -> None:
    with pytest.raises(ValueError, match="The value for `by` must name at least one column"):
        meta_by(effects_of("bcg", "RR"), by=[])


# ---- subgroup differences ------------------------------------------------------------------------

SUBGROUPS = [(i, s) for i, s in enumerate(LOADED["bcg"]["subgroups"])]


@pytest.mark.parametrize(("index", "expected"), SUBGROUPS,
                         ids=[f"{s['measure']}-{s['method']}-{s['test']}" for _, s in SUBGROUPS])
def test_subgroup_differences_parity(index: int, expected: dict) -> None:
    effects = effects_of("bcg", expected["measure"]).assign(alloc=LOADED["bcg"]["data"]["alloc"])
    table = subgroup_differences(effects, "alloc", method=expected["method"], ci=CI[expected["test"]])
    assert len(table) == 1
    row = table.iloc[0]
    rel = tolerance(expected["method"])
    assert row["n_subgroups"] == 3 and row["df"] == expected["df"]
    assert row["q_between"] == pytest.approx(expected["q_between"], rel=rel)
    assert row["p"] == pytest.approx(expected["p"], rel=rel, abs=1e-12)
    for group, k in zip(expected["groups"], expected["k"], strict=True):
        assert f"{group} (k={k}," in row["subgroups"]


def test_subgroup_differences_within_and_single_study_subgroup() -> None:
    # One within-group whose 'b' subgroup has one study: it enters with its own yi and SE.
    # By hand (FE): subgroup a pools 0.1 (vi 0.01) and 0.3 (vi 0.01): 0.2, se sqrt(0.005);
    # subgroup b is 0.8 with se 0.1. Q = (0.2 - m)²/0.005 + (0.8 - m)²/0.01 with
    # m = (0.2/0.005 + 0.8/0.01) / (1/0.005 + 1/0.01) = 0.4 -> Q = 8 + 16 = 24.
    effects = pd.DataFrame({"outcome": ["pain"] * 3 + ["function"] * 2, "arm": ["a", "a", "b", "a", "a"],
                            "yi": [0.1, 0.3, 0.8, 0.2, 0.4], "vi": [0.01, 0.01, 0.01, 0.01, 0.02]})
    table = subgroup_differences(effects, "arm", within="outcome", method="FE", ci="wald")
    assert table["outcome"].tolist() == ["function", "pain"]
    function, pain = table.iloc[0], table.iloc[1]
    assert math.isnan(function["q_between"]) and "no test" in function["note"]
    assert pain["q_between"] == pytest.approx(24.0, rel=1e-12)
    assert pain["df"] == 1
    assert pain["i2_between"] == pytest.approx(100 * 23 / 24, rel=1e-12)


# ---- Egger --------------------------------------------------------------------------------------

@pytest.mark.parametrize("measure", ["RR", "OR", "RD"])
def test_egger_parity(measure: str) -> None:
    expected = LOADED["bcg"]["regtest"][measure]
    result = egger_test(effects_of("bcg", measure))
    assert result.run and result.reason == ""
    assert result.k == 13 and result.df == expected["df"] == 11
    assert result.t == pytest.approx(expected["t"], rel=1e-6)
    assert result.p == pytest.approx(expected["p"], rel=1e-6)
    assert result.intercept == pytest.approx(expected["bias"], rel=1e-6)
    assert result.se == pytest.approx(expected["bias_se"], rel=1e-6)
    assert result.limit_estimate == pytest.approx(expected["limit_estimate"], rel=1e-6)
    assert result.limit_ci_low == pytest.approx(expected["limit_ci_low"], rel=1e-6)
    assert result.limit_ci_high == pytest.approx(expected["limit_ci_high"], rel=1e-6)
    assert "regtest" in result.method
    assert list(result.to_frame().columns) == EGGER_COLUMNS


def test_egger_not_run_below_ten() -> None:
    effects = effects_of("bcg", "RR").iloc[:7]
    result = egger_test(effects)
    assert isinstance(result, EggerResult)
    assert not result.run
    assert result.reason == "Egger needs k >= 10 (k=7)"
    assert math.isnan(result.p) and result.k == 7


def test_egger_constant_standard_errors() -> None:
    effects = pd.DataFrame({"yi": np.linspace(-1, 1, 12), "vi": [0.04] * 12})
    result = egger_test(effects)
    assert not result.run and "do not vary" in result.reason


# ---- results -------------------------------------------------------------------------------------

def test_result_frame_and_summary() -> None:
    result = meta_analysis(effects_of("bcg", "RR"))
    assert isinstance(result, MetaResult)
    frame = result.to_frame()
    assert list(frame.columns) == RESULT_COLUMNS and len(frame) == 1
    assert frame.loc[0, "estimate"] == result.estimate
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.estimate = 0.0  # type: ignore[misc]
    text = result.summary()
    assert "restricted maximum likelihood" in text
    assert "Hartung-Knapp-Sidik-Jonkman (t with 12 df" in text
    assert "prediction interval: estimate ± t(12) × sqrt(tau² + SE²)" in text
    assert "I² and H²: from tau² and the typical within-study variance" in text
    fixed = meta_analysis(effects_of("bcg", "RR"), method="FE", ci="wald").summary()
    assert "Fixed-effect" in fixed and "I² and H²: from Q" in fixed and "Wald" in fixed


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 5), st.floats(0.001, 4)), min_size=2, max_size=30),
       st.sampled_from(["FE", "DL", "REML", "PM"]), st.sampled_from(["wald", "hksj"]))
def test_properties(studies: list[tuple[float, float]], method: str, ci: str) -> None:
    yi, vi = (np.array(v) for v in zip(*studies, strict=True))
    result = meta_analysis(pd.DataFrame({"yi": yi, "vi": vi}), method=method, ci=ci)
    # a weighted mean lies within the data; weights are percentages; intervals are ordered
    assert yi.min() - 1e-9 <= result.estimate <= yi.max() + 1e-9
    assert sum(result.weights) == pytest.approx(100.0)
    assert result.tau2 >= 0 and 0 <= result.i2 <= 100
    assert result.ci_low <= result.estimate <= result.ci_high
    assert result.pi_low <= result.ci_low + 1e-12 and result.pi_high >= result.ci_high - 1e-12
    if method != "FE":
        assert 0 <= result.tau2_ci_low <= result.tau2_ci_high


def test_blank_keys_fall_back_to_the_index() -> None:
    effects = pd.DataFrame({"key": [None, " ", "c"], "yi": [0.1, 0.2, 0.3], "vi": [0.01, 0.02, 0.03]},
                           index=[5, 6, 7])
    assert meta_analysis(effects, method="FE", ci="wald").keys == ("5", "6", "c")
    assert meta_analysis(effects.drop(columns="key"), method="FE", ci="wald").keys == ("5", "6", "7")


def test_meta_by_on_a_result_column_name_keeps_one_column() -> None:
    effects = pd.DataFrame({"measure": ["MD", "MD", "MD"], "yi": [1.0, 2.0, 3.0], "vi": [1.0, 1.0, 1.0]})
    table = meta_by(effects, by=["measure"])
    assert list(table.columns).count("measure") == 1
    assert table.set_index("measure").loc["MD", "k"] == 3


# ---- convergence (issue #18) ----------------------------------------------------------------------

SWEEP = LOADED["stress"]["sweep"]


def test_stress_sweep_matches_metafor_where_one_variance_is_huge() -> None:
    # vi = 1e11 on each study of four data sets in turn. A stop scaled by mean(vi) left REML up to
    # 99.97% off here (bcg RD, study 4: 5.03e-07 against metafor's 1.58e-03), without a warning.
    sources = {(name, measure): effects_of(name, measure) for name, measure in
               {(s["source"], s["measure"]) for s in SWEEP}}
    assert len(SWEEP) == 2 * (13 + 13 + 13 + 9)
    for case in SWEEP:
        assert "replace(vi, " in case["call"] and "threshold = 1e-12" in case["call"]
        effects = sources[(case["source"], case["measure"])].copy()
        effects.loc[case["position"] - 1, "vi"] = 1e11
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            result = meta_analysis(effects, method=case["method"], test="z")
        assert result.converged, case
        assert result.tau2 == pytest.approx(case["tau2"], rel=1e-6), case
        assert result.estimate == pytest.approx(case["estimate"], rel=1e-6), case
        assert result.se == pytest.approx(case["se"], rel=1e-6), case


def test_stopping_rule_is_scale_free() -> None:
    # The same data rescaled by 1e-6 and 1e6 (yi x f, vi x f²): tau2 scales by f², iterations do not change.
    fits = {f["measure"]: f for f in LOADED["stress"]["fits"] if (f["method"], f["test"]) == ("REML", "z")}
    results = {name: meta_analysis(effects_of("stress", name), method="REML", test="z")
               for name in ("RR", "RR_SMALL", "RR_LARGE")}
    for name, factor in (("RR", 1.0), ("RR_SMALL", 1e-6), ("RR_LARGE", 1e6)):
        assert results[name].tau2 == pytest.approx(fits[name]["tau2"], rel=1e-6)
        assert results[name].tau2 == pytest.approx(fits["RR"]["tau2"] * factor**2, rel=1e-6)
    assert results["RR_SMALL"].iterations == results["RR"].iterations == results["RR_LARGE"].iterations


def test_iterations_and_converged_are_reported() -> None:
    effects = effects_of("bcg", "RR")
    reml = meta_analysis(effects, method="REML")
    assert reml.converged and reml.iterations >= 2
    pm = meta_analysis(effects, method="PM")
    assert pm.converged and pm.iterations >= 1
    for method in ("DL", "FE"):
        result = meta_analysis(effects, method=method)
        assert result.converged and result.iterations == 0
    frame = reml.to_frame()
    assert frame.loc[0, "converged"] and frame.loc[0, "iterations"] == reml.iterations
    table = meta_by(effects.assign(group="g"), by="group")
    assert table.loc[0, "iterations"] == reml.iterations


def test_not_converged_warns_and_says_so() -> None:
    effects = effects_of("bcg", "RR")
    with pytest.warns(ConvergenceWarning, match=r"REML with k=13: REML: Fisher scoring did not converge in 2 "):
        result = meta_analysis(effects, method="REML", control={"maxiter": 2})
    assert not result.converged and result.iterations == 2
    assert "did not converge in 2 iterations" in result.note
    assert "tau² is the last iterate" in result.note
    expected = next(f for f in LOADED["bcg"]["fits"] if (f["measure"], f["method"], f["test"], f["level"])
                    == ("RR", "REML", "knha", 95))
    assert result.tau2 != pytest.approx(expected["tau2"], rel=1e-6)
    with pytest.warns(ConvergenceWarning):
        leave_one_out(effects, method="REML", control={"maxiter": 2})


def test_control_stepadj_as_metafor() -> None:
    # Asked for, stepadj = 0.5 is what metafor ran for this fixture; no fallback note is needed.
    fixture = LOADED["reml_stepadj"]
    expected = fixture["fits"][0]
    assert "stepadj = 0.5" in expected["calls"]["fit"]
    result = meta_analysis(effects_of("reml_stepadj", "MD"), method="REML", test="z", control={"stepadj": 0.5})
    assert result.converged and result.note == ""
    assert result.tau2 == pytest.approx(expected["tau2"], rel=1e-9)
    # full steps only, as metafor's default: no convergence, and said so
    with pytest.warns(ConvergenceWarning):
        full = meta_analysis(effects_of("reml_stepadj", "MD"), method="REML", test="z", control={"stepadj": 1})
    assert not full.converged


# ---- the modified Knapp-Hartung interval (test = "adhoc") ------------------------------------------

def _fit(name: str, measure: str, method: str, test: str) -> dict:
    return next(f for f in LOADED[name]["fits"]
                if (f["measure"], f["method"], f["test"], f["level"]) == (measure, method, test, 95))


@pytest.mark.parametrize("measure", ["MD", "MD_HOMOG"])
@pytest.mark.parametrize("method", ["FE", "REML"])
def test_two_studies_sensitivity_analysis(method: str, measure: str) -> None:
    # The k = 2 sensitivity analysis: fixed effect, and REML with the modified Knapp-Hartung CI,
    # against metafor on two studies (the k2 fixture; in MD_HOMOG the KH factor is below 1).
    expected = _fit("k2", measure, method, "adhoc")
    if measure == "MD_HOMOG":
        assert _fit("k2", measure, method, "knha")["s2w"] < 1 and expected["s2w"] == 1
    effects = effects_of("k2", measure)
    result = meta_analysis(effects, method=method, ci="hksj-modified")
    assert result.k == 2 and result.ci_method == "hksj-modified" and result.test == "adhoc"
    for field in ("estimate", "se", "ci_low", "ci_high", "tau2", "pvalue"):
        assert getattr(result, field) == pytest.approx(expected[field], rel=1e-6, abs=1e-12), field
    assert "modified Hartung-Knapp-Sidik-Jonkman" in result.summary()


def test_adhoc_is_never_narrower_than_t_nor_than_knha() -> None:
    for name in FIXTURES:
        for fit in LOADED[name]["fits"]:
            if fit["test"] != "adhoc" or fit["level"] != 95:
                continue
            knha, t = _fit(name, fit["measure"], fit["method"], "knha"), _fit(name, fit["measure"], fit["method"], "t")
            assert fit["se"] == pytest.approx(max(knha["se"], t["se"]), rel=1e-9)
            assert fit["s2w"] >= 1


# ---- subgroups with a common tau² (metafor rma(mods = ~ factor(alloc))) -------------------------

COMMON = [(i, s) for i, s in enumerate(LOADED["bcg"]["subgroups_common"])]


@pytest.mark.parametrize(("index", "expected"), COMMON,
                         ids=[f"{s['measure']}-{s['method']}-{s['test']}" for _, s in COMMON])
def test_subgroup_differences_common_tau2_parity(index: int, expected: dict) -> None:
    assert "mods = ~ factor(alloc)" in expected["calls"]["between"]
    effects = effects_of("bcg", expected["measure"]).assign(alloc=LOADED["bcg"]["data"]["alloc"])
    table = subgroup_differences(effects, "alloc", tau2="common", method=expected["method"], test=expected["test"])
    row = table.iloc[0]
    assert row["tau2_model"] == "common" and row["n_subgroups"] == 3 and row["df"] == expected["df"] == 2
    assert row["q_between"] == pytest.approx(expected["q_between"], rel=1e-6)
    assert row["p"] == pytest.approx(expected["p"], rel=1e-6)
    assert row["tau2"] == pytest.approx(expected["tau2"], rel=1e-6, abs=1e-12)
    if expected["test"] == "z":
        assert math.isnan(row["df2"])
    else:
        assert row["df2"] == expected["df2"] == 10
    for group, est, se in zip(expected["groups"], expected["estimate"], expected["se"], strict=True):
        found = re.search(rf"{group} \(k=\d+, (\S+), SE (\S+)\)", row["subgroups"])
        assert found and float(found.group(1)) == pytest.approx(est, rel=1e-3)
        assert float(found.group(2)) == pytest.approx(se, rel=1e-3)


def test_subgroup_differences_separate_is_the_default_and_differs_from_common() -> None:
    effects = effects_of("bcg", "RR").assign(alloc=LOADED["bcg"]["data"]["alloc"])
    separate = subgroup_differences(effects, "alloc", method="REML", test="z").iloc[0]
    common = subgroup_differences(effects, "alloc", tau2="common", method="REML", test="z").iloc[0]
    expected_separate = next(s for s in LOADED["bcg"]["subgroups"]
                             if (s["measure"], s["method"], s["test"]) == ("RR", "REML", "z"))
    expected_common = next(s for s in LOADED["bcg"]["subgroups_common"]
                           if (s["measure"], s["method"], s["test"]) == ("RR", "REML", "z"))
    assert separate["tau2_model"] == "separate" and math.isnan(separate["tau2"])
    assert separate["q_between"] == pytest.approx(expected_separate["q_between"], rel=1e-6)
    assert common["q_between"] == pytest.approx(expected_common["q_between"], rel=1e-6)
    assert abs(expected_common["q_between"] - expected_separate["q_between"]) > 0.05
    with pytest.raises(ValueError, match=re.escape(
            "The value for `tau2` must be one of ['separate', 'common'], but 'pooled' was passed.")):
        subgroup_differences(effects, "alloc", tau2="pooled")


def test_subgroup_differences_common_tau2_needs_residual_df() -> None:
    effects = pd.DataFrame({"arm": ["a", "b"], "yi": [0.1, 0.3], "vi": [0.01, 0.02]})
    row = subgroup_differences(effects, "arm", tau2="common").iloc[0]
    assert math.isnan(row["q_between"]) and "no residual df" in row["note"]


# ---- Egger's test, rma form (metafor regtest(model = "rma")) ----------------------------------------

REGTEST_RMA = LOADED["bcg"]["regtest_rma"]


@pytest.mark.parametrize("expected", REGTEST_RMA,
                         ids=[f"{r['measure']}-{r['method']}-{r['test']}" for r in REGTEST_RMA])
def test_egger_rma_parity(expected: dict) -> None:
    assert 'model = "rma"' in expected["call"]
    result = egger_test(effects_of("bcg", expected["measure"]), model="rma", method=expected["method"],
                        test=expected["test"])
    assert result.run and result.model == "rma" and result.k == 13
    assert result.t == pytest.approx(expected["statistic"], rel=1e-6)
    assert result.p == pytest.approx(expected["p"], rel=1e-6)
    assert result.intercept == pytest.approx(expected["bias"], rel=1e-6)
    assert result.se == pytest.approx(expected["bias_se"], rel=1e-6)
    assert result.tau2 == pytest.approx(expected["tau2"], rel=1e-6, abs=1e-12)
    for field in ("limit_estimate", "limit_ci_low", "limit_ci_high"):
        assert getattr(result, field) == pytest.approx(expected[field], rel=1e-6), field
    if expected["test"] == "z":
        assert math.isnan(result.df)
    else:
        assert result.df == expected["df"] == 11
    assert list(result.to_frame().columns) == EGGER_COLUMNS


def test_egger_rma_defaults_to_metafors_z_test_and_lm_ignores_the_model() -> None:
    effects = effects_of("bcg", "RR")
    default = egger_test(effects, model="rma")
    expected = next(r for r in REGTEST_RMA if (r["measure"], r["method"], r["test"]) == ("RR", "REML", "z"))
    assert default.t == pytest.approx(expected["statistic"], rel=1e-6)
    lm = egger_test(effects, model="lm", level=95)
    assert lm.model == "lm" and lm.t == pytest.approx(LOADED["bcg"]["regtest"]["RR"]["t"], rel=1e-6)
    with pytest.raises(ValueError, match=re.escape("The value for `model` must be one of ['lm', 'rma'], "
                                                   "but 'glm' was passed.")):
        egger_test(effects, model="glm")
    with pytest.raises(ValueError, match="The value for `method` must be one of"):
        egger_test(effects, method="ML")


# ---- Begg's rank test (metafor ranktest()) -------------------------------------------------------

@pytest.mark.parametrize("measure", ["RR", "OR", "RD"])
def test_begg_parity(measure: str) -> None:
    expected = LOADED["bcg"]["ranktest"][measure]
    result = begg_test(effects_of("bcg", measure))
    assert isinstance(result, BeggResult) and result.run and result.exact and result.k == 13
    assert result.tau == pytest.approx(expected["tau"], rel=1e-9)
    assert result.p == pytest.approx(expected["p"], rel=1e-9)
    assert list(result.to_frame().columns) == BEGG_COLUMNS


RANKTEST = load("ranktest")


@pytest.mark.parametrize(("case", "exact"), [("ties", None), ("big_exact", True), ("big_normal", False)])
def test_begg_ties_and_large_k(case: str, exact: bool | None) -> None:
    expected = RANKTEST["cases"][case]
    effects = pd.DataFrame({"yi": expected["yi"], "vi": expected["vi"]})
    result = begg_test(effects, exact=exact)
    assert result.exact == (case == "big_exact")
    assert result.tau == pytest.approx(expected["tau"], rel=1e-9)
    assert result.p == pytest.approx(expected["p"], rel=1e-9)
    if case == "big_normal":
        assert not begg_test(effects).exact       # default: exact only below k = 50, as cor.test


def test_begg_not_run_below_min_k() -> None:
    result = begg_test(effects_of("bcg", "RR").iloc[:6])
    assert not result.run and result.reason == "Begg needs k >= 10 (k=6)" and math.isnan(result.p)
    with pytest.raises(ValueError, match=re.escape("The value for `exact` must be one of [None, True, False], "
                                                   "but 'yes' was passed.")):
        begg_test(effects_of("bcg", "RR"), exact="yes")


def test_sei_instead_of_vi_as_metafor() -> None:
    # rma(yi, sei = ) is rma(yi, vi = sei²); a non-positive sei is listed, not squared away
    effects = effects_of("bcg", "RR")
    with_sei = effects.drop(columns="vi").assign(sei=np.sqrt(effects["vi"]))
    assert meta_analysis(with_sei).estimate == pytest.approx(meta_analysis(effects).estimate, rel=1e-12)
    bad = with_sei.copy()
    bad.loc[0, "sei"] = -0.5
    result = meta_analysis(bad)
    assert dict(result.excluded) == {"bcg1": "sei is missing or not positive"}
    with pytest.raises(ValueError, match=re.escape("must have columns ['yi', 'vi'] or ['yi', 'sei'] (see "
                                                   "effect_sizes()), but a frame without ['vi', 'sei'] was passed.")):
        meta_analysis(effects.drop(columns=["vi"]))


def test_docs_list_every_argument_with_its_metafor_name() -> None:
    import inspect

    from lbpevidence.effects import effect_sizes as escalc_like

    doc = (Path(__file__).parent.parent / "docs" / "meta-analysis.md").read_text()
    for function in (meta_analysis, subgroup_differences, egger_test, begg_test, escalc_like):
        for name in inspect.signature(function).parameters:
            if name in ("effects", "data", "meta_kwargs"):
                continue
            assert f"`{name}" in doc, (function.__name__, name)
    for metafor_name in ('test="knha"', 'test="adhoc"', 'test="t"', "level=95", "regtest(", "ranktest(",
                         "mods = ~ factor(subgroup)", "confint(", "leave1out()", "escalc(", "`m1i`", "`ai`"):
        assert metafor_name in doc, metafor_name


@pytest.mark.parametrize(("yi", "vi"), [((0.0, 100.0), (1e-9, 1e3)), ((0.0, 3.0), (1e-6, 1e11)),
                                        ((0.0, 1e6), (1e-6, 1e11)), ((1.0, 1.5), (0.01, 0.02))])
def test_reml_two_studies_closed_form_across_extreme_variances(yi: tuple, vi: tuple) -> None:
    # For k = 2 the restricted likelihood depends on d = y1 - y2 alone, with variance v1 + v2 + 2 tau²,
    # so REML's tau² = max(0, (d² - v1 - v2) / 2). Weights 1e12 or more apart used to cancel
    # tr(P) and tr(PP) to 0 (ZeroDivisionError).
    expected = max(0.0, ((yi[0] - yi[1]) ** 2 - vi[0] - vi[1]) / 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        result = meta_analysis(pd.DataFrame({"yi": yi, "vi": vi}), method="REML", test="z")
    assert result.converged
    assert result.tau2 == pytest.approx(expected, rel=1e-9, abs=1e-12 * min(vi))
    assert result.typical_vi > 0 and math.isfinite(result.i2)
