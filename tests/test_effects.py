"""Tests of lbpevidence.effects.

Expected values come from R metafor (tests/data/metafor_*.json, made by
scripts/metafor_fixtures.R) or from hand calculations written out here, never from the code
under test.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lbpevidence.effects import (
    CONVENTION,
    EFFECT_COLUMNS,
    Z_95,
    effect_sizes,
    hedges_correction,
    rows_to_problems,
)
from lbpevidence.errors import Problem

DATA = Path(__file__).parent / "data"


def load(name: str) -> dict:
    return json.loads((DATA / f"metafor_{name}.json").read_text())


def arm_frame(fixture: dict) -> pd.DataFrame:
    """The fixture's data in lbpevidence's column names (m1i -> mean_int, ...)."""
    x = fixture["data"]
    if "tpos" in x:
        return pd.DataFrame({"key": x["key"], "events_int": x["tpos"], "n_int": np.add(x["tpos"], x["tneg"]),
                             "events_ctl": x["cpos"], "n_ctl": np.add(x["cpos"], x["cneg"])})
    if "ai" in x:
        return pd.DataFrame({"key": x["key"], "events_int": x["ai"], "n_int": x["n1i"],
                             "events_ctl": x["ci"], "n_ctl": x["n2i"]})
    return pd.DataFrame({"key": x["key"], "mean_int": x["m1i"], "sd_int": x["sd1i"], "n_int": x["n1i"],
                         "mean_ctl": x["m2i"], "sd_ctl": x["sd2i"], "n_ctl": x["n2i"]})


ESCALC_CASES = [(name, measure) for name in ("bcg", "zero_cell", "normand1999", "homogeneous")
                for measure in load(name)["escalc"]]


# ---- parity with metafor escalc ------------------------------------------------------------

@pytest.mark.parametrize(("name", "measure"), ESCALC_CASES, ids=[f"{n}-{m}" for n, m in ESCALC_CASES])
def test_escalc_parity(name: str, measure: str) -> None:
    fixture = load(name)
    expected = fixture["escalc"][measure]
    out = effect_sizes(arm_frame(fixture), measure=measure)
    assert out["usable"].all()
    np.testing.assert_allclose(out["yi"], expected["yi"], rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(out["vi"], expected["vi"], rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(out["sei"], np.sqrt(expected["vi"]), rtol=1e-9)
    np.testing.assert_allclose(out["yi_ci_low"], np.array(expected["yi"]) - Z_95 * np.sqrt(expected["vi"]),
                               rtol=1e-9, atol=1e-14)
    assert (out["direction"] == 1).all()          # no instrument column: metafor's orientation


def test_zero_cell_correction_only_where_a_cell_is_zero() -> None:
    # Study z1: 0/25 vs 4/24 -> cells 0, 25, 4, 20 -> +1/2 each: log((0.5/26) / (4.5/25)).
    # Study z2: 3/40 vs 6/42 has no zero cell -> log((3/40) / (6/42)), no correction.
    frame = arm_frame(load("zero_cell"))
    out = effect_sizes(frame, "RR")
    assert out.loc[0, "yi"] == pytest.approx(math.log((0.5 / 26) / (4.5 / 25)), rel=1e-12)
    assert out.loc[0, "vi"] == pytest.approx(1 / 0.5 - 1 / 26 + 1 / 4.5 - 1 / 25, rel=1e-12)
    assert out.loc[1, "yi"] == pytest.approx(math.log((3 / 40) / (6 / 42)), rel=1e-12)
    assert out.loc[1, "vi"] == pytest.approx(1 / 3 - 1 / 40 + 1 / 6 - 1 / 42, rel=1e-12)


def test_hedges_correction_matches_metafor() -> None:
    # metafor:::.cmicalc(c(38, 10000)) = 0.9801104021 0.9999249978
    assert hedges_correction(38) == pytest.approx(0.9801104021, rel=1e-9)
    assert hedges_correction(10_000) == pytest.approx(0.9999249978, rel=1e-9)
    assert math.isnan(hedges_correction(1))


def test_smd_by_hand() -> None:
    # n 10 + 10, SDs 2 and 2 -> pooled SD 2; d = (10 - 8) / 2 = 1; m = 18;
    # J = gamma(9) / (sqrt(9) gamma(8.5)) = 40320 / (3 * 14034.407293483...) = 0.957736...
    j = 40320 / (3 * 14034.407293483413)
    row = pd.DataFrame({"mean_int": [10.0], "sd_int": [2.0], "n_int": [10],
                        "mean_ctl": [8.0], "sd_ctl": [2.0], "n_ctl": [10]})
    out = effect_sizes(row, "SMD")
    assert out.loc[0, "yi"] == pytest.approx(j, rel=1e-10)
    assert out.loc[0, "vi"] == pytest.approx(1 / 10 + 1 / 10 + j**2 / 40, rel=1e-10)


# ---- orientation -------------------------------------------------------------------------------

def test_higher_is_better_instrument_flips_sign() -> None:
    # hfaq-0-100 is higher-is-better: +12 points for the intervention must read as -12.
    rows = pd.DataFrame({"key": ["h", "p"], "instrument": ["hfaq-0-100", "pain-0-10"],
                         "mean_int": [62.0, 3.0], "sd_int": [10.0, 2.0], "n_int": [40, 40],
                         "mean_ctl": [50.0, 4.0], "sd_ctl": [10.0, 2.0], "n_ctl": [40, 40]})
    out = effect_sizes(rows, "MD")
    assert out["yi"].tolist() == pytest.approx([-12.0, -1.0])
    assert out["direction"].tolist() == [-1, 1]
    assert out.loc[0, "vi"] == pytest.approx(100 / 40 + 100 / 40)
    assert out.attrs["convention"] == CONVENTION
    assert "negative yi favours the intervention" in out.attrs["convention"]


def test_higher_is_better_binary_outcome_flips_log_rr() -> None:
    # responders: 30/50 vs 20/50 -> RR 1.5 favours the intervention -> yi = -log(1.5).
    rows = pd.DataFrame({"instrument": ["responders"], "events_int": [30], "n_int": [50],
                         "events_ctl": [20], "n_ctl": [50]})
    out = effect_sizes(rows, "RR")
    assert out.loc[0, "yi"] == pytest.approx(-math.log(1.5), rel=1e-12)
    assert out.loc[0, "vi"] == pytest.approx(1 / 30 - 1 / 50 + 1 / 20 - 1 / 50, rel=1e-12)


def test_improvement_convention_flips_reported_effect() -> None:
    # "2.9 points lower than usual care" written as 2.9 with sign_convention improvement -> -2.9.
    rows = pd.DataFrame({"instrument": ["pain-0-10", "pain-0-10"], "effect_type": ["MD", "MD"],
                         "estimate": [2.9, -2.9], "ci_low": [1.5, -4.3], "ci_high": [4.3, -1.5],
                         "sign_convention": ["improvement", "scale"]})
    out = effect_sizes(rows, "MD")
    assert out["yi"].tolist() == pytest.approx([-2.9, -2.9])
    se = 2.8 / (2 * 1.959963984540054)
    assert out["vi"].tolist() == pytest.approx([se**2, se**2], rel=1e-12)


def test_improvement_convention_flips_change_score_means() -> None:
    # Improved by 3 (intervention) and by 1 (control), printed as positive -> changes -3 and -1 -> MD -2.
    rows = pd.DataFrame({"data_type": ["change", "change"], "sign_convention": ["improvement", "scale"],
                         "instrument": ["rmdq-24", "rmdq-24"],
                         "mean_int": [3.0, -3.0], "sd_int": [2.0, 2.0], "n_int": [20, 20],
                         "mean_ctl": [1.0, -1.0], "sd_ctl": [2.0, 2.0], "n_ctl": [20, 20]})
    out = effect_sizes(rows, "MD")
    assert out["yi"].tolist() == pytest.approx([-2.0, -2.0])


def test_improvement_convention_on_higher_is_better_instruments() -> None:
    # On a higher-is-better scale improvement is already positive: "function improved by 12 points
    # more than control" is +12 on the HFAQ scale and, oriented, -12. Likewise 25% more responders
    # (RR 1.25) is log(1.25) on the scale and -log(1.25) oriented. An improvement-positive number v
    # always ends as yi = -v.
    rows = pd.DataFrame({"instrument": ["hfaq-0-100", "responders", "responders"],
                         "effect_type": ["MD", "RR", "RR"], "estimate": [12.0, 1.25, 1.25],
                         "ci_low": [4.0, 1.0, 1.0], "ci_high": [20.0, 1.5625, 1.5625],
                         "sign_convention": ["improvement", "improvement", "scale"]})
    assert effect_sizes(rows.iloc[:1], "MD").loc[0, "yi"] == pytest.approx(-12.0)
    rr = effect_sizes(rows.iloc[1:], "RR")
    assert rr["yi"].tolist() == pytest.approx([-math.log(1.25)] * 2, rel=1e-12)
    assert rr["direction"].tolist() == [-1, -1]


def test_improvement_convention_ignored_for_final_values() -> None:
    # Final values are on the scale by construction: 3 vs 4 on a 0-10 pain scale is MD -1.
    rows = pd.DataFrame([{**good_arm_row("f"), "data_type": "final", "sign_convention": "improvement"}])
    assert effect_sizes(rows, "MD").loc[0, "yi"] == pytest.approx(-1.0)


def test_md100_rescales_rmdq_24() -> None:
    # MD 2.4 on the 0-24 RMDQ is 2.4 * 100 / 24 = 10 on a 0-100 scale.
    rows = pd.DataFrame({"instrument": ["rmdq-24", "rmdq-24"], "effect_type": ["MD", None],
                         "estimate": [2.4, None], "se": [0.6, None],
                         "mean_int": [None, 12.4], "sd_int": [None, 4.8], "n_int": [None, 30],
                         "mean_ctl": [None, 10.0], "sd_ctl": [None, 4.8], "n_ctl": [None, 30],
                         "data_type": ["reported-effect", "final"]})
    out = effect_sizes(rows, "MD100")
    assert out["yi"].tolist() == pytest.approx([10.0, 10.0])
    assert out.loc[0, "vi"] == pytest.approx((0.6 * 100 / 24) ** 2)
    assert out.loc[1, "vi"] == pytest.approx((4.8**2 / 30 * 2) * (100 / 24) ** 2)
    assert out["usable"].all()


def test_md100_needs_an_instrument_with_a_range() -> None:
    rows = pd.DataFrame({"key": ["s", "n"], "instrument": ["pain-smd", None], "effect_type": ["MD", "MD"],
                         "estimate": [1.0, 1.0], "se": [0.5, 0.5]})
    out = effect_sizes(rows, "MD100")
    assert not out["usable"].any()
    assert "MD100 needs an instrument with a scale range" in out.loc[0, "problem"]
    assert "no instrument" in out.loc[1, "problem"]


# ---- reported effects --------------------------------------------------------------------------

def test_reported_md_se_from_ci() -> None:
    # SE = (ci_high - ci_low) / (2 * 1.959964) = 1.6 / 3.919928 = 0.408171
    rows = pd.DataFrame({"key": ["r"], "effect_type": ["MD"], "estimate": [-1.0], "ci_low": [-1.8],
                         "ci_high": [-0.2], "se": [np.nan]})
    out = effect_sizes(rows, "MD")
    assert out.loc[0, "sei"] == pytest.approx(0.408171, abs=1e-6)
    assert out.loc[0, "yi_ci_low"] == pytest.approx(-1.8, rel=1e-12)
    assert out.loc[0, "yi_ci_high"] == pytest.approx(-0.2, rel=1e-12)
    # the printed numbers stay as printed
    assert out.loc[0, "ci_low"] == -1.8 and out.loc[0, "ci_high"] == -0.2 and math.isnan(out.loc[0, "se"])


def test_reported_ratio_on_log_scale() -> None:
    # RR 0.8 (0.64 to 1.0): yi = log 0.8; SE = (log 1 - log 0.64) / (2 * 1.959964) = 0.113853
    rows = pd.DataFrame({"effect_type": ["RR", "OR"], "estimate": [0.8, 0.5], "ci_low": [0.64, np.nan],
                         "ci_high": [1.0, np.nan], "se": [np.nan, 0.2]})
    rr = effect_sizes(rows, "RR")
    assert rr.loc[0, "yi"] == pytest.approx(math.log(0.8), rel=1e-12)
    assert rr.loc[0, "sei"] == pytest.approx(-math.log(0.64) / (2 * 1.959963984540054), rel=1e-12)
    assert not rr.loc[1, "usable"] and "RR needs event counts or a reported RR" in rr.loc[1, "problem"]
    odds = effect_sizes(rows, "OR")
    assert odds.loc[1, "yi"] == pytest.approx(math.log(0.5)) and odds.loc[1, "vi"] == pytest.approx(0.04)


def test_reported_smd_only_for_smd() -> None:
    rows = pd.DataFrame({"key": ["a", "b"], "effect_type": ["SMD", "MD"], "estimate": [-0.4, -2.0],
                         "ci_low": [-0.7, -3.0], "ci_high": [-0.1, -1.0]})
    smd = effect_sizes(rows, "SMD")
    assert smd.loc[0, "yi"] == pytest.approx(-0.4)
    assert not smd.loc[1, "usable"]
    assert smd.loc[1, "problem"] == "SMD needs arm SDs or a reported SMD (this row reports MD)"
    md = effect_sizes(rows, "MD")
    assert md["usable"].tolist() == [False, True]


def test_data_type_inferred() -> None:
    rows = pd.DataFrame({"events_int": [5, None, None], "n_int": [50, 20, None],
                         "events_ctl": [10, None, None], "n_ctl": [50, 20, None],
                         "mean_int": [None, 3.0, None], "sd_int": [None, 1.0, None],
                         "mean_ctl": [None, 4.0, None], "sd_ctl": [None, 1.0, None],
                         "effect_type": [None, None, "RD"], "estimate": [None, None, -0.1],
                         "ci_low": [None, None, -0.2], "ci_high": [None, None, 0.0]})
    rd = effect_sizes(rows, "RD")
    assert rd["usable"].tolist() == [True, False, True]
    assert rd.loc[0, "yi"] == pytest.approx(0.1 - 0.2)
    assert rd.loc[1, "problem"] == "RD needs event counts or a reported RD"
    assert effect_sizes(rows, "MD")["usable"].tolist() == [False, True, False]


# ---- bad rows ---------------------------------------------------------------------------------

BAD_ROWS = [
    # (key, changes to a good arm-level row, measure, phrase expected in problem)
    ("missing_sd", {"sd_int": np.nan}, "MD", "sd_int is missing"),
    ("negative_sd", {"sd_ctl": -2.0}, "SMD", "sd_ctl must be > 0 (found -2)"),
    ("zero_sd", {"sd_int": 0.0}, "MD", "sd_int must be > 0 (found 0)"),
    ("zero_n", {"n_int": 0}, "MD", "n_int must be > 0 (found 0)"),
    ("negative_n", {"n_ctl": -5}, "SMD", "n_ctl must be > 0 (found -5)"),
    ("nan_mean", {"mean_ctl": np.nan}, "MD", "mean_ctl is missing"),
    ("inf_mean", {"mean_int": np.inf}, "MD", "mean_int is not finite (inf)"),
    ("text_sd", {"sd_int": "n/a"}, "MD", "sd_int is not a number ('n/a')"),
    ("unknown_instrument", {"instrument": "rmdq"}, "MD", "unknown instrument 'rmdq'"),
    ("tiny_smd", {"n_int": 1, "n_ctl": 2}, "SMD", "Hedges' g needs n_int + n_ctl > 3"),
    ("wrong_measure", {}, "RR", "RR needs event counts or a reported RR"),
]


def good_arm_row(key: str) -> dict:
    return {"key": key, "line": 10, "instrument": "pain-0-10", "mean_int": 3.0, "sd_int": 2.0, "n_int": 30,
            "mean_ctl": 4.0, "sd_ctl": 2.5, "n_ctl": 31}


@pytest.mark.parametrize(("key", "change", "measure", "phrase"), BAD_ROWS, ids=[b[0] for b in BAD_ROWS])
def test_bad_arm_row_reported_not_raised(key: str, change: dict, measure: str, phrase: str) -> None:
    rows = pd.DataFrame([good_arm_row("good"), {**good_arm_row(key), **change}], index=[7, 8])
    out = effect_sizes(rows, measure)
    assert list(out.index) == [7, 8]
    bad = out.loc[8]
    assert not bad["usable"] and math.isnan(bad["yi"]) and math.isnan(bad["vi"])
    assert phrase in bad["problem"]
    if measure != "RR":
        assert out.loc[7, "usable"] and out.loc[7, "problem"] == ""
    problems = [p for p in rows_to_problems(out, file="refs/outcomes.csv") if p.key == key]
    assert problems and all(p.line == 10 and p.file == "refs/outcomes.csv" for p in problems)


REPORTED_BAD = [
    ("ci_excludes_estimate", {"estimate": 2.5, "ci_low": 0.1, "ci_high": 2.0}, "MD",
     "CI [0.1, 2] does not contain the estimate 2.5"),
    ("ci_reversed", {"estimate": 1.0, "ci_low": 2.0, "ci_high": 0.5}, "MD", "ci_low > ci_high (2 > 0.5)"),
    ("nan_estimate", {"estimate": np.nan}, "MD", "estimate is missing"),
    ("inf_ci", {"ci_high": np.inf}, "MD", "ci_high is not finite (inf)"),
    ("zero_width_ci", {"estimate": 1.0, "ci_low": 1.0, "ci_high": 1.0}, "MD", "CI has width 0"),
    ("no_ci_no_se", {"ci_low": np.nan, "ci_high": np.nan}, "MD", "needs ci_low and ci_high, or se"),
    ("negative_ratio", {"effect_type": "RR", "estimate": -0.5, "ci_low": 0.2, "ci_high": 0.9}, "RR",
     "estimate must be > 0 (found -0.5)"),
    ("unknown_effect_type", {"effect_type": "HR"}, "MD", "unknown effect_type 'HR'"),
]


@pytest.mark.parametrize(("key", "change", "measure", "phrase"), REPORTED_BAD,
                         ids=[b[0] for b in REPORTED_BAD])
def test_bad_reported_row(key: str, change: dict, measure: str, phrase: str) -> None:
    base = {"key": key, "effect_type": "MD", "estimate": 1.0, "ci_low": 0.2, "ci_high": 1.8}
    out = effect_sizes(pd.DataFrame([{**base, **change}]), measure)
    assert not out.loc[0, "usable"]
    assert math.isnan(out.loc[0, "yi"])
    assert phrase in out.loc[0, "problem"]


def test_events_larger_than_n() -> None:
    rows = pd.DataFrame({"key": ["e"], "events_int": [12], "n_int": [10], "events_ctl": [3], "n_ctl": [10]})
    out = effect_sizes(rows, "OR")
    assert out.loc[0, "problem"] == "events_int > n_int (12 > 10)"
    [problem] = rows_to_problems(out)
    assert problem == Problem("outcomes.csv", 0, "e", "events_int", "12 events in 10 participants",
                              "events <= n_int")


def test_several_problems_in_one_row_are_all_reported() -> None:
    rows = pd.DataFrame([{**good_arm_row("x"), "sd_int": -1.0, "n_ctl": 0}])
    out = effect_sizes(rows, "MD")
    assert out.loc[0, "problem"] == "sd_int must be > 0 (found -1); n_ctl must be > 0 (found 0)"
    assert [str(p) for p in rows_to_problems(out, file="refs/outcomes.csv")] == [
        "refs/outcomes.csv:10 x sd_int: found -1, expected a positive SD",
        "refs/outcomes.csv:10 x n_ctl: found 0, expected a group size > 0",
    ]


def test_row_without_effect_data() -> None:
    out = effect_sizes(pd.DataFrame({"key": ["empty"], "note": ["nothing here"]}), "MD")
    assert "no effect data" in out.loc[0, "problem"]


def test_output_columns_and_copy() -> None:
    rows = pd.DataFrame([good_arm_row("a")])
    out = effect_sizes(rows, "SMD")
    assert list(out.columns) == [*rows.columns, *EFFECT_COLUMNS]
    assert "yi" not in rows.columns                       # the input is not modified
    assert out.loc[0, "measure"] == "SMD"


def test_bad_measure_argument_seaborn_style() -> None:
    message = ("The value for `measure` must be one of ['MD', 'MD100', 'SMD', 'RR', 'OR', 'RD', 'ZCOR'], "
               "but 'XYZ' was passed.")
    with pytest.raises(ValueError, match=re.escape(message)):
        effect_sizes(pd.DataFrame([good_arm_row("a")]), measure="XYZ")
    with pytest.raises(ValueError, match="The value for `data` must be a pandas DataFrame"):
        effect_sizes([1, 2, 3], "MD")  # type: ignore[arg-type]


def test_rows_to_problems_needs_effects() -> None:
    with pytest.raises(ValueError, match="output of effect_sizes"):
        rows_to_problems(pd.DataFrame({"key": ["a"]}))


# ---- inputs as researchers bring them (issue #18) ---------------------------------------------------

INPUTS = load("escalc_inputs")


def test_metafor_column_names_give_metafors_numbers() -> None:
    # dat.normand1999 under escalc's own argument names (m1i, sd1i, n1i, ...) and dat.bcg as ai, bi, ci, di.
    nd = load("normand1999")
    arms = pd.DataFrame({k: nd["data"][k] for k in ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")})
    for measure in ("MD", "SMD"):
        out = effect_sizes(arms, measure)
        np.testing.assert_allclose(out["yi"], nd["escalc"][measure]["yi"], rtol=1e-9)
        np.testing.assert_allclose(out["vi"], nd["escalc"][measure]["vi"], rtol=1e-9)
    bcg = load("bcg")
    table = pd.DataFrame({"ai": bcg["data"]["tpos"], "bi": bcg["data"]["tneg"], "ci": bcg["data"]["cpos"],
                          "di": bcg["data"]["cneg"]})
    for measure in ("RR", "OR", "RD"):
        out = effect_sizes(table, measure)
        assert out["usable"].all()
        np.testing.assert_allclose(out["yi"], bcg["escalc"][measure]["yi"], rtol=1e-9)
        np.testing.assert_allclose(out["vi"], bcg["escalc"][measure]["vi"], rtol=1e-9)
    assert list(out.columns[:4]) == ["ai", "bi", "ci", "di"]          # the input columns are kept as given
    problems = rows_to_problems(effect_sizes(table.assign(bi=[-1] + [5] * 12), "RR"))
    assert [(p.field, p.found) for p in problems] == [("bi", "-1")]


@pytest.mark.parametrize(("columns", "message"), [
    ({"yi": [0.1], "vi": [0.01]},
     "The value for `data` must hold the data effect_sizes() computes from, but a frame with metafor's effect "
     "columns ['yi', 'vi'] was passed: pass it to meta_analysis() as it is (yi with vi or sei)"),
    ({"yi": [0.1], "sei": [0.1]}, "effect columns ['yi', 'sei'] was passed"),
    ({"m1i": [1.0], "mean_int": [1.0]},
     "The value for `data` must name each input once, but both 'm1i' (metafor's name) and 'mean_int' were "
     "passed: keep one of them."),
    ({"ai": [1], "bi": [5], "n1i": [6]},
     "The value for `data` must give group sizes once, but both 'bi' (non-events) and 'n1i' were passed"),
    ({"bi": [5], "di": [6]}, "The value for `data` must give 'ai' with 'bi' (metafor's 2x2 table ai, bi, ci, di)"),
])
def test_metafor_columns_refused_with_what_to_use(columns: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        effect_sizes(pd.DataFrame(columns), "RR")


def test_no_effect_data_names_the_columns_to_use() -> None:
    out = effect_sizes(pd.DataFrame({"key": ["a"], "arm_mean": [3.0]}), "MD")
    assert not out.loc[0, "usable"]
    for name in ("mean_int", "m1i", "ai, bi, ci, di", "ri, ni", "effect_type"):
        assert name in out.loc[0, "problem"]


CONTINUITY = INPUTS["continuity"]


@pytest.mark.parametrize("case", CONTINUITY,
                         ids=[f"{c['measure']}-{c['to']}-add{c['add']}-drop00{c['drop00']}" for c in CONTINUITY])
def test_continuity_correction_rules_parity(case: dict) -> None:
    assert f'to = "{case["to"]}"' in case["call"]
    data = INPUTS["data"]["continuity"]
    rows = pd.DataFrame({"key": data["key"], "ai": data["ai"], "n1i": data["n1i"], "ci": data["ci"],
                         "n2i": data["n2i"]})
    out = effect_sizes(rows, case["measure"], add=case["add"], to=case["to"], drop00=case["drop00"])
    expected_yi = np.array([np.nan if v is None else v for v in case["yi"]], dtype=float)
    expected_vi = np.array([np.nan if v is None else v for v in case["vi"]], dtype=float)
    # metafor gives NA (or an infinite log ratio) where no value can be computed; we mark the row unusable
    computable = np.isfinite(expected_yi) & np.isfinite(expected_vi) & (expected_vi > 0)
    assert out["usable"].tolist() == computable.tolist()
    np.testing.assert_allclose(out["yi"][computable], expected_yi[computable], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(out["vi"][computable], expected_vi[computable], rtol=1e-9)
    for problem in out.loc[~out["usable"], "problem"]:
        assert "dropped (drop00=True)" in problem or "zero cell without a continuity correction" in problem \
            or "variance is not positive" in problem
    assert out.attrs["escalc"]["to"] == case["to"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"to": "some"}, "The value for `to` must be one of ['only0', 'all', 'if0all', 'none'], but 'some' was passed."),
    ({"add": -1}, "The value for `add` must be a number >= 0, but -1 was passed."),
    ({"drop00": "yes"}, "The value for `drop00` must be one of [False, True], but 'yes' was passed."),
    ({"baseline_correlation": 1.5},
     "The value for `baseline_correlation` must be None or a number between -1 and 1, but 1.5 was passed."),
])
def test_escalc_options_seaborn_style(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        effect_sizes(pd.DataFrame([good_arm_row("a")]), "MD", **kwargs)


def test_zcor_parity_and_pooled() -> None:
    molloy = INPUTS["data"]["molloy"]
    rows = pd.DataFrame({"key": molloy["key"], "ri": molloy["ri"], "ni": molloy["ni"]})
    out = effect_sizes(rows, "ZCOR")
    assert out["usable"].all()
    np.testing.assert_allclose(out["yi"], INPUTS["escalc"]["ZCOR"]["yi"], rtol=1e-9)
    np.testing.assert_allclose(out["vi"], INPUTS["escalc"]["ZCOR"]["vi"], rtol=1e-9)
    expected = INPUTS["fits"][0]
    from lbpevidence.meta import meta_analysis

    result = meta_analysis(out, method="REML", test="knha")
    assert result.measure == "ZCOR"
    for field in ("estimate", "se", "tau2", "ci_low", "ci_high"):
        assert getattr(result, field) == pytest.approx(expected[field], rel=1e-6), field
    bad = effect_sizes(pd.DataFrame({"ri": [1.0, 0.3, 0.2], "ni": [20, 3, np.nan]}), "ZCOR")
    assert bad["problem"].tolist() == ["ri must be strictly between -1 and 1 (found 1)",
                                       "ni must be > 3 for ZCOR (found 3)", "ni is missing"]
    assert "use measure ZCOR" in effect_sizes(rows.iloc[:1], "MD").loc[0, "problem"]


@pytest.mark.parametrize("index", [0, 1])
def test_change_from_baseline_with_imputed_correlation(index: int) -> None:
    expected = INPUTS["prepost"][index]
    data = pd.DataFrame(INPUTS["data"]["prepost"])
    r = expected["correlation"]
    imputed = effect_sizes(data, "MD", baseline_correlation=r)
    per_row = effect_sizes(data.assign(baseline_correlation=r), "MD")
    for out in (imputed, per_row):
        assert out["usable"].all()
        np.testing.assert_allclose(out["yi"], expected["yi"], rtol=1e-9)
        np.testing.assert_allclose(out["vi"], expected["vi"], rtol=1e-9)
    from lbpevidence.meta import meta_analysis

    result = meta_analysis(imputed)
    assert result.estimate == pytest.approx(expected["estimate"], rel=1e-6)
    assert result.se == pytest.approx(expected["se"], rel=1e-6)


def test_change_from_baseline_needs_a_correlation_and_no_smd() -> None:
    data = pd.DataFrame(INPUTS["data"]["prepost"]).iloc[:1]
    out = effect_sizes(data, "MD")
    assert not out.loc[0, "usable"] and "baseline_correlation is missing" in out.loc[0, "problem"]
    problems = rows_to_problems(out)
    assert [p.field for p in problems] == ["baseline_correlation"]
    smd = effect_sizes(data, "SMD", baseline_correlation=0.5)
    assert "SMD is not computed from baseline and follow-up values" in smd.loc[0, "problem"]
    bad = effect_sizes(data.assign(baseline_correlation=1.2), "MD")
    assert "baseline_correlation must be between -1 and 1 (found 1.2)" in bad.loc[0, "problem"]
