"""Effect sizes, one per contrast, from arm-level data or from an effect the source reported.

:func:`effect_sizes` follows metafor's ``escalc`` (its defaults, checked against metafor in
tests/test_effects.py) and then orients every effect the same way: **a negative ``yi`` favours
the intervention**, whatever the instrument. Rows that cannot be used are kept, marked
``usable=False`` with the reason in ``problem``; :func:`rows_to_problems` turns them into
:class:`~lbpevidence.errors.Problem` records.

Examples
--------
>>> import pandas as pd
>>> trials = pd.DataFrame({
...     "key": ["a2020", "b2021"], "instrument": ["rmdq-24", "rmdq-24"],
...     "mean_int": [8.0, 7.5], "sd_int": [4.0, 5.0], "n_int": [50, 60],
...     "mean_ctl": [10.4, 9.0], "sd_ctl": [4.2, 5.0], "n_ctl": [50, 58]})
>>> eff = effect_sizes(trials, measure="MD")
>>> eff[["key", "yi", "usable"]]
     key   yi  usable
0  a2020 -2.4    True
1  b2021 -1.5    True
>>> effect_sizes(trials, measure="MD100")["yi"].round(2).tolist()
[-10.0, -6.25]
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np
import pandas as pd
from scipy.special import gammaln
from scipy.stats import norm

# Absolute imports, so that `python -m doctest src/lbpevidence/effects.py` runs the examples.
from .errors import Problem, check_choice, is_blank
from .vocabulary import INSTRUMENTS, Instrument, resolve

__all__ = [
    "CONTINUITY_TO",
    "CONVENTION",
    "EFFECT_COLUMNS",
    "MEASURES",
    "METAFOR_COLUMNS",
    "Z_95",
    "effect_sizes",
    "hedges_correction",
    "rows_to_problems",
]

MEASURES = ("MD", "MD100", "SMD", "RR", "OR", "RD", "ZCOR")

#: metafor's ``escalc`` argument names, accepted as columns, and the column each stands for.
#: ``bi`` and ``di`` (non-events) give ``n_int = ai + bi`` and ``n_ctl = ci + di``; ``ri`` and
#: ``ni`` (a correlation and its sample size) are the ZCOR columns under their own names.
METAFOR_COLUMNS = {
    "m1i": "mean_int", "sd1i": "sd_int", "n1i": "n_int",
    "m2i": "mean_ctl", "sd2i": "sd_ctl", "n2i": "n_ctl",
    "ai": "events_int", "ci": "events_ctl",
}

#: metafor's ``to`` for the continuity correction of 2x2 tables.
CONTINUITY_TO = ("only0", "all", "if0all", "none")

#: Columns :func:`effect_sizes` adds to its input.
EFFECT_COLUMNS = ["measure", "yi", "vi", "sei", "yi_ci_low", "yi_ci_high", "direction", "usable", "problem"]

#: The 97.5% quantile of the standard normal distribution (scipy.stats.norm.ppf(0.975)).
Z_95 = 1.959963984540054

CONVENTION = (
    "A negative yi favours the intervention: yi is intervention minus control (the log ratio for "
    "RR and OR), multiplied by -1 (direction) for instruments on which a higher value is better."
)

_ARM_COLUMNS = ("mean_int", "sd_int", "n_int", "mean_ctl", "sd_ctl", "n_ctl")
_EVENT_COLUMNS = ("events_int", "n_int", "events_ctl", "n_ctl")
_BASELINE_COLUMNS = ("baseline_mean_int", "baseline_sd_int", "baseline_mean_ctl", "baseline_sd_ctl")
_RATIO_MEASURES = ("RR", "OR")
_BINARY_MEASURES = ("RR", "OR", "RD")

# What a measure needs, said when a row cannot give it.
_NEEDS = {
    "MD": "arm means and SDs or a reported MD",
    "MD100": "arm means and SDs or a reported MD",
    "SMD": "arm SDs or a reported SMD",
    "RR": "event counts or a reported RR",
    "OR": "event counts or a reported OR",
    "RD": "event counts or a reported RD",
    "ZCOR": "a correlation ri and its sample size ni",
}


@dataclass(frozen=True)
class _Issue:
    """One thing wrong with a row: a Problem's field/found/expected and a short message."""

    field: str
    found: str
    expected: str
    message: str


class _RowError(Exception):
    """Raised inside the per-row computation to stop at a problem that blocks the row."""


def hedges_correction(df: float | np.ndarray) -> float | np.ndarray:
    """Return Hedges' exact small-sample correction J for ``df = n_int + n_ctl - 2`` degrees of freedom.

    ``J = gamma(m/2) / (sqrt(m/2) * gamma((m-1)/2))``, computed on the log scale (as metafor does)
    so that large samples do not overflow. Undefined (NaN) for ``df <= 1``.

    Examples
    --------
    >>> round(float(hedges_correction(38)), 6)   # 20 + 20 participants; metafor: 0.9801104021
    0.98011
    >>> round(float(hedges_correction(10_000)), 6)
    0.999925
    """
    m = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        j = np.exp(gammaln(m / 2) - 0.5 * np.log(m / 2) - gammaln((m - 1) / 2))
    j = np.where(m > 1, j, np.nan)
    return float(j) if j.ndim == 0 else j


def _fmt(value: float) -> str:
    return f"{value:g}"


class _Row:
    """Read typed values from one input row, collecting every problem found on the way."""

    def __init__(self, values: Mapping[Hashable, Any]) -> None:
        self.values = values
        self.issues: list[_Issue] = []

    def has(self, column: str) -> bool:
        return not is_blank(self.values.get(column))

    def text(self, column: str) -> str | None:
        value = self.values.get(column)
        return None if is_blank(value) else str(value).strip()

    def number(self, column: str, *, positive: bool = False, non_negative: bool = False,
               expected: str = "a number") -> float:
        """Return the column as a float, or NaN after recording why it cannot be used."""
        value = self.values.get(column)
        if is_blank(value):
            self.issues.append(_Issue(column, "no value", expected, f"{column} is missing"))
            return math.nan
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.issues.append(_Issue(column, repr(value), expected, f"{column} is not a number ({value!r})"))
            return math.nan
        if not math.isfinite(number):
            self.issues.append(_Issue(column, _fmt(number), expected, f"{column} is not finite ({number:g})"))
            return math.nan
        if positive and number <= 0:
            self.issues.append(_Issue(column, _fmt(number), expected,
                                      f"{column} must be > 0 (found {number:g})"))
            return math.nan
        if non_negative and number < 0:
            self.issues.append(_Issue(column, _fmt(number), expected,
                                      f"{column} must be >= 0 (found {number:g})"))
            return math.nan
        return number

    def fail(self, field: str, found: str, expected: str, message: str) -> None:
        self.issues.append(_Issue(field, found, expected, message))

    def stop_if_issues(self) -> None:
        if self.issues:
            raise _RowError


def _instrument(row: _Row) -> Instrument | None:
    raw = row.text("instrument")
    if raw is None:
        return None
    term, suggestion = resolve("instrument", raw)
    if term is None:
        hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
        row.fail("instrument", repr(raw), f"a known instrument{hint}", f"unknown instrument {raw!r}{hint}")
        return None
    instrument = INSTRUMENTS[term]
    assert isinstance(instrument, Instrument)
    return instrument


def _vocabulary_term(row: _Row, column: str, default: str | None) -> str | None:
    raw = row.text(column)
    if raw is None:
        return default
    term, suggestion = resolve(column, raw)
    if term is None:
        hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
        row.fail(column, repr(raw), f"a known {column}{hint}", f"unknown {column} {raw!r}{hint}")
    return term


def _data_type(row: _Row) -> str | None:
    stated = _vocabulary_term(row, "data_type", None)
    if stated is not None or row.has("data_type"):
        return stated
    if row.has("events_int") or row.has("events_ctl"):
        return "events"
    if any(row.has(column) for column in _BASELINE_COLUMNS):
        return "change"
    if row.has("mean_int") or row.has("mean_ctl"):
        return "final"
    if row.has("ri") or row.has("ni"):
        return "correlation"
    if any(row.has(column) for column in ("estimate", "effect_type", "ci_low", "ci_high", "se")):
        return "reported-effect"
    row.fail("data_type", "no arm means, event counts or estimate",
             "arm means, event counts, a correlation or a reported effect",
             "no effect data: expected arm means (mean_int, sd_int, n_int, ... or metafor's m1i, sd1i, n1i, ...), "
             "event counts (events_int, n_int, ... or ai, bi, ci, di), a correlation (ri, ni) "
             "or a reported estimate (effect_type, estimate, ci_low, ci_high or se)")
    return None


def _cannot_give(row: _Row, measure: str, detail: str = "") -> NoReturn:
    row.fail("measure", repr(measure), _NEEDS[measure] + detail, f"{measure} needs {_NEEDS[measure]}{detail}")
    raise _RowError


def _from_baseline_and_final(row: _Row, measure: str, final: tuple[float, ...],
                             correlation: float | None) -> tuple[float, float]:
    """MD of the changes from baseline, their SDs from the baseline-follow-up correlation.

    Per arm, ``change = final - baseline`` and ``sd_change² = sd_final² + sd_baseline² - 2 r sd_final
    sd_baseline`` (Cochrane Handbook 6.5.2.8), metafor's ``escalc("MC", m1i = final, m2i = baseline,
    sd1i, sd2i, ni, ri = r)`` per arm; the MD is their difference, its variance the sum.
    """
    if measure == "SMD":
        row.fail("measure", repr(measure), "final values (data_type final) or change SDs",
                 "SMD is not computed from baseline and follow-up values: use MD, or give the final values "
                 "(data_type final) or the change SDs")
        raise _RowError
    m1, sd1, n1, m2, sd2, n2 = final
    b1 = row.number("baseline_mean_int")
    bsd1 = row.number("baseline_sd_int", positive=True, expected="a positive SD")
    b2 = row.number("baseline_mean_ctl")
    bsd2 = row.number("baseline_sd_ctl", positive=True, expected="a positive SD")
    if row.has("baseline_correlation"):
        r = row.number("baseline_correlation", expected="a correlation between -1 and 1")
    elif correlation is not None:
        r = correlation
    else:
        row.fail("baseline_correlation", "no value", "a correlation between -1 and 1",
                 "baseline_correlation is missing: the SD of the changes needs the correlation between baseline "
                 "and follow-up (a column, or effect_sizes(..., baseline_correlation=r) to impute one)")
        r = math.nan
    if math.isfinite(r) and not -1 <= r <= 1:
        row.fail("baseline_correlation", _fmt(r), "a correlation between -1 and 1",
                 f"baseline_correlation must be between -1 and 1 (found {r:g})")
    row.stop_if_issues()
    v1 = (sd1**2 + bsd1**2 - 2 * r * sd1 * bsd1) / n1
    v2 = (sd2**2 + bsd2**2 - 2 * r * sd2 * bsd2) / n2
    return (m1 - b1) - (m2 - b2), v1 + v2


def _from_correlation(row: _Row, measure: str) -> tuple[float, float]:
    if measure != "ZCOR":
        _cannot_give(row, measure, " (this row gives a correlation: use measure ZCOR)")
    r = row.number("ri", expected="a correlation between -1 and 1")
    n = row.number("ni", positive=True, expected="a sample size > 3")
    row.stop_if_issues()
    if not -1 < r < 1:
        row.fail("ri", _fmt(r), "a correlation between -1 and 1", f"ri must be strictly between -1 and 1 (found {r:g})")
    if n <= 3:
        row.fail("ni", _fmt(n), "a sample size > 3", f"ni must be > 3 for ZCOR (found {n:g})")
    row.stop_if_issues()
    # metafor's escalc("ZCOR"): Fisher's z, variance 1 / (n - 3)
    return math.atanh(r), 1 / (n - 3)


def _from_arm_means(row: _Row, measure: str, data_type: str, to_scale: int,
                    correlation: float | None = None) -> tuple[float, float]:
    if measure not in ("MD", "MD100", "SMD"):
        _cannot_give(row, measure)
    m1 = row.number("mean_int")
    m2 = row.number("mean_ctl")
    sd1 = row.number("sd_int", positive=True, expected="a positive SD")
    sd2 = row.number("sd_ctl", positive=True, expected="a positive SD")
    n1 = row.number("n_int", positive=True, expected="a group size > 0")
    n2 = row.number("n_ctl", positive=True, expected="a group size > 0")
    row.stop_if_issues()
    if any(row.has(column) for column in _BASELINE_COLUMNS):
        return _from_baseline_and_final(row, measure, (m1, sd1, n1, m2, sd2, n2), correlation)
    if data_type == "change":
        # Changes printed as improvement-positive go back to follow-up minus baseline.
        m1, m2 = to_scale * m1, to_scale * m2
    if measure == "SMD":
        df = n1 + n2 - 2
        if df <= 1:
            row.fail("n_int", f"{n1:g} + {n2:g} participants", "more than 3 participants in all",
                     "Hedges' g needs n_int + n_ctl > 3")
            raise _RowError
        pooled_sd = math.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / df)
        g = float(hedges_correction(df)) * (m1 - m2) / pooled_sd
        # metafor's default large-sample variance (vtype = "LS").
        return g, 1 / n1 + 1 / n2 + g**2 / (2 * (n1 + n2))
    # metafor's default for MD (vtype = "LS"): unequal variances.
    return m1 - m2, sd1**2 / n1 + sd2**2 / n2


@dataclass(frozen=True)
class _Continuity:
    """metafor's ``add``, ``to`` and ``drop00`` for 2x2 tables."""

    add: float = 0.5
    to: str = "only0"
    drop00: bool = False


def _from_events(row: _Row, measure: str, continuity: _Continuity = _Continuity(),
                 any_zero: bool = False) -> tuple[float, float]:
    if measure not in _BINARY_MEASURES:
        _cannot_give(row, measure)
    a = row.number("events_int", non_negative=True, expected="an event count >= 0")
    c = row.number("events_ctl", non_negative=True, expected="an event count >= 0")
    n1 = row.number("n_int", positive=True, expected="a group size > 0")
    n2 = row.number("n_ctl", positive=True, expected="a group size > 0")
    for non_events in ("bi", "di"):        # metafor's 2x2 names: the group sizes were a + b and c + d
        if non_events in row.values:
            row.number(non_events, non_negative=True, expected="a count of non-events >= 0")
    row.stop_if_issues()
    for events, n, events_col, n_col in ((a, n1, "events_int", "n_int"), (c, n2, "events_ctl", "n_ctl")):
        if events > n:
            row.fail(events_col, f"{events:g} events in {n:g} participants", f"events <= {n_col}",
                     f"{events_col} > {n_col} ({events:g} > {n:g})")
    row.stop_if_issues()
    b, d = n1 - a, n2 - c
    if continuity.drop00 and ((a == 0 and c == 0) or (b == 0 and d == 0)):
        row.fail("events_int", f"{a:g}/{n1:g} and {c:g}/{n2:g}", "events in at least one arm (drop00=False keeps it)",
                 "no events (or only events) in both arms: dropped (drop00=True)")
        raise _RowError
    # metafor's rules: add to every table ("all"), to the tables with a zero cell ("only0", the
    # default), to every table when any has a zero cell ("if0all"), or to none.
    zero = min(a, b, c, d) == 0
    if continuity.to == "all" or (continuity.to == "only0" and zero) or (continuity.to == "if0all" and any_zero):
        add = continuity.add
        a, b, c, d = a + add, b + add, c + add, d + add
    n1, n2 = a + b, c + d
    if (measure in _RATIO_MEASURES and min(a, c) <= 0) or (measure == "OR" and min(b, d) <= 0):
        row.fail("events_int", f"{a:g}/{n1:g} and {c:g}/{n2:g}", "no zero cell, or a continuity correction",
                 f"a zero cell without a continuity correction: log {measure} is not finite "
                 f"(to={continuity.to!r}, add={continuity.add:g})")
        raise _RowError
    if measure == "RR":
        return math.log(a / n1) - math.log(c / n2), 1 / a - 1 / n1 + 1 / c - 1 / n2
    if measure == "OR":
        return math.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d
    p1, p2 = a / n1, c / n2
    return p1 - p2, p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2


def _z_for_level(row: _Row) -> float:
    """The normal quantile of the row's ``ci_level`` (percent; 95 when absent), for SE = width / (2 z)."""
    if not row.has("ci_level"):
        return Z_95
    level = row.number("ci_level", positive=True, expected="a confidence level in percent, above 50 and below 100")
    row.stop_if_issues()
    if not 50 < level < 100:
        row.fail("ci_level", repr(row.text("ci_level")), "a confidence level in percent, above 50 and below 100",
                 f"ci_level {level:g} is not a confidence level in percent")
        raise _RowError
    return float(norm.ppf(0.5 + level / 200))


def _from_reported(row: _Row, measure: str, to_scale: int) -> tuple[float, float]:
    effect_type = _vocabulary_term(row, "effect_type", None)
    if effect_type is None:
        if not row.has("effect_type"):
            row.fail("effect_type", "no value", "MD, SMD, RR, OR or RD", "effect_type is missing")
        raise _RowError
    wanted = "MD" if measure == "MD100" else measure
    if effect_type != wanted:
        _cannot_give(row, measure, f" (this row reports {effect_type})")
    ratio = effect_type in _RATIO_MEASURES
    positive = "a positive ratio"
    estimate = row.number("estimate", positive=ratio, expected=positive if ratio else "a number")
    has_ci = row.has("ci_low") or row.has("ci_high")
    if not has_ci and not row.has("se"):
        row.fail("ci_low", "no CI and no se", "ci_low and ci_high, or se",
                 "a reported effect needs ci_low and ci_high, or se")
        raise _RowError
    if has_ci:
        low = row.number("ci_low", positive=ratio, expected=positive if ratio else "a number")
        high = row.number("ci_high", positive=ratio, expected=positive if ratio else "a number")
        row.stop_if_issues()
        if low > high:
            row.fail("ci_low", f"{low:g} > ci_high {high:g}", "ci_low <= ci_high",
                     f"ci_low > ci_high ({low:g} > {high:g})")
        elif not low <= estimate <= high:
            where = f"[{low:g}, {high:g}]"
            row.fail("estimate", f"{estimate:g} outside its CI {where}", "an estimate inside its CI",
                     f"CI [{low:g}, {high:g}] does not contain the estimate {estimate:g}")
        row.stop_if_issues()
        if ratio:
            low, high = math.log(low), math.log(high)
        se = (high - low) / (2 * _z_for_level(row))
        if se <= 0:
            row.fail("ci_low", f"a CI of width 0 [{row.text('ci_low')}, {row.text('ci_high')}]",
                     "a CI of positive width", "CI has width 0: no standard error")
    else:
        se = row.number("se", positive=True, expected="a positive standard error")
    row.stop_if_issues()
    yi = math.log(estimate) if ratio else estimate
    return to_scale * yi, se**2


def _row_effect(values: Mapping[Hashable, Any], measure: str, continuity: _Continuity = _Continuity(),
                any_zero: bool = False, correlation: float | None = None) -> tuple[float, float, int, list[_Issue]]:
    """Compute (yi, vi, direction, issues) for one row; yi/vi are NaN when issues is not empty."""
    row = _Row(values)
    direction = 1
    try:
        instrument = _instrument(row)
        if instrument is not None and not instrument.lower_is_better:
            direction = -1
        convention = _vocabulary_term(row, "sign_convention", "scale") or "scale"
        # An improvement-positive number is negated to get back to the scale, unless the scale
        # itself is higher-is-better (improvement is then already positive on the scale).
        to_scale = -direction if convention == "improvement" else 1
        data_type = _data_type(row)
        row.stop_if_issues()
        if data_type in ("final", "change"):
            yi, vi = _from_arm_means(row, measure, data_type, to_scale, correlation)
        elif data_type == "events":
            yi, vi = _from_events(row, measure, continuity, any_zero)
        elif data_type == "correlation":
            yi, vi = _from_correlation(row, measure)
        else:
            yi, vi = _from_reported(row, measure, to_scale)
        if measure == "MD100":
            scale_range = instrument.scale_range if instrument is not None else None
            if not scale_range:
                found = repr(instrument.term) if instrument is not None else "no instrument"
                row.fail("instrument", found, "an instrument with a scale range",
                         f"MD100 needs an instrument with a scale range (found {found})")
                raise _RowError
            factor = 100 / scale_range
            yi, vi = yi * factor, vi * factor**2
        if not (math.isfinite(yi) and math.isfinite(vi) and vi > 0):
            row.fail("vi", _fmt(vi), "a positive finite variance",
                     f"variance is not positive and finite ({vi:g})")
            raise _RowError
    except _RowError:
        return math.nan, math.nan, direction, row.issues
    return direction * yi, vi, direction, row.issues


def effect_sizes(data: pd.DataFrame, measure: str = "SMD", *, add: float = 0.5, to: str = "only0",
                 drop00: bool = False, baseline_correlation: float | None = None) -> pd.DataFrame:
    """Compute one effect size per row, oriented so that a negative ``yi`` favours the intervention.

    Parameters
    ----------
    data : DataFrame
        One row per contrast. Columns used (any may be absent; absent means missing):

        - arm means (``data_type`` "final" or "change"): ``mean_int, sd_int, n_int,
          mean_ctl, sd_ctl, n_ctl``;
        - events (``data_type`` "events"): ``events_int, n_int, events_ctl, n_ctl``;
        - a reported effect (``data_type`` "reported-effect"): ``effect_type`` (MD, SMD, RR, OR,
          RD), ``estimate`` and its CI ``ci_low, ci_high`` as printed, or ``se`` (on the
          analysis scale: the SE of the log ratio for RR and OR). The CI is used when present,
          at its ``ci_level`` (percent; 95 when absent or empty: a 90% or a Bonferroni-adjusted
          interval gives SE = width / (2 z) with that level's z, never read as 95%);
        - changes from baseline from baseline and follow-up values (``data_type`` blank or
          "change"): the final ``mean_int, sd_int, n_int, mean_ctl, sd_ctl, n_ctl`` with
          ``baseline_mean_int, baseline_sd_int, baseline_mean_ctl, baseline_sd_ctl`` and the
          baseline-follow-up correlation ``baseline_correlation`` (or the argument); MD and MD100
          only;
        - a correlation (measure ZCOR): ``ri`` and its sample size ``ni``;
        - metafor's ``escalc`` names are accepted for the same inputs (:data:`METAFOR_COLUMNS`):
          ``m1i, sd1i, n1i, m2i, sd2i, n2i``; ``ai, ci`` with ``n1i, n2i`` or with the non-events
          ``bi, di``. Effect sizes (``yi``, ``vi``, ``sei``) are refused: they go to
          :func:`~lbpevidence.meta.meta_analysis` as they are;
        - ``instrument`` (a term of :data:`~lbpevidence.vocabulary.INSTRUMENTS`) sets the direction;
        - ``data_type``; when absent or blank it is inferred: event counts, then arm means, then
          a reported effect (``estimate``, ``effect_type``, CI or ``se``);
        - ``sign_convention``: "scale" (default) or "improvement": the source printed improvement
          as positive. Reported effects and change-score means are then brought back to the scale
          before orientation: negated on lower-is-better scales (and without an instrument), left
          as they are on higher-is-better scales, where improvement is already positive. Either
          way an improvement-positive number ``v`` ends as ``yi = -v``. Ignored for final values
          and event counts, which cannot be printed that way.
    measure : {"MD", "MD100", "SMD", "RR", "OR", "RD", "ZCOR"}
        MD on the instrument's scale; MD100 rescaled to 0-100 by ``100 / scale_range``;
        SMD as Hedges' g (exact correction); RR and OR as log ratios; RD as a difference of
        proportions; ZCOR as Fisher's z of a correlation (``atanh(ri)``, ``vi = 1 / (ni - 3)``).
    add, to, drop00
        metafor's continuity correction of 2x2 tables: ``add`` (default 1/2) is added to every
        cell of the tables with a zero cell (``to="only0"``, the default), of every table
        (``"all"``), of every table when any has a zero cell (``"if0all"``), or of none
        (``"none"``: a zero cell then leaves a log ratio undefined and the row unusable).
        ``drop00=True`` marks unusable the tables with no events (or only events) in both arms.
    baseline_correlation : float, optional
        The correlation between baseline and follow-up imputed for rows that give baseline and
        follow-up values without a ``baseline_correlation`` of their own.

    Returns
    -------
    DataFrame
        A copy of ``data`` (same index and columns; the printed ``ci_low``, ``ci_high`` and
        ``se`` are left as they were) plus:

        ========== ==============================================================
        measure    the measure asked for
        yi         effect size, oriented (negative favours the intervention)
        vi         sampling variance of ``yi``
        sei        ``sqrt(vi)``
        yi_ci_low  95% Wald CI of ``yi``, lower bound
        yi_ci_high 95% Wald CI of ``yi``, upper bound
        direction  +1, or -1 when the instrument is higher-is-better (yi was negated)
        usable     False when the row cannot give this measure
        problem    why not ("" when usable); several reasons are joined by "; "
        ========== ==============================================================

        ``attrs["convention"]`` states the sign convention; ``attrs["escalc"]`` the options.

    Notes
    -----
    The formulas are metafor's ``escalc`` defaults: MD with ``vi = sd1²/n1 + sd2²/n2``;
    SMD ``g = J (m1 - m2) / s_pooled`` with the exact J of :func:`hedges_correction` and
    ``vi = 1/n1 + 1/n2 + g²/(2 (n1 + n2))``; RR, OR and RD with 1/2 added to every cell of a
    table that has a zero cell (``add = 1/2, to = "only0"``; tables with no events in either
    arm are kept, as escalc does, unless ``drop00``). A change from baseline has, per arm,
    ``sd_change² = sd_final² + sd_baseline² - 2 r sd_final sd_baseline`` (escalc "MC" per arm;
    Cochrane Handbook 6.5.2.8). Without an ``instrument`` the direction is +1, so ``yi``
    equals metafor's (intervention minus control).

    A bad row never raises: it stays in the output with ``usable=False``, NaN ``yi``/``vi`` and
    a reason (missing or non-positive SD, ``n <= 0``, events > n, a CI that does not contain the
    estimate, non-finite numbers, a measure the row cannot give, an unknown instrument).

    Raises
    ------
    ValueError
        When ``measure`` is not one of the measures above or ``data`` is not a DataFrame.

    Examples
    --------
    A higher-is-better instrument is flipped, so that the benefit reads negative:

    >>> import pandas as pd
    >>> rows = pd.DataFrame({"key": ["x", "y", "z"],
    ...                      "instrument": ["hfaq-0-100", "pain-0-10", "pain-0-10"],
    ...                      "effect_type": ["MD", "MD", "MD"],
    ...                      "estimate": [12.0, -1.0, -1.0], "ci_low": [4.0, -1.8, 0.0],
    ...                      "ci_high": [20.0, -0.2, 1.0]})
    >>> out = effect_sizes(rows, measure="MD")
    >>> out[["key", "yi", "direction", "usable"]]
      key    yi  direction  usable
    0   x -12.0         -1    True
    1   y  -1.0          1    True
    2   z   NaN          1   False
    >>> print(out.loc[2, "problem"])
    CI [0, 1] does not contain the estimate -1
    >>> round(float(out.loc[0, "sei"]), 4)   # (20 - 4) / (2 * 1.96)
    4.0817
    """
    check_choice("measure", measure, MEASURES)
    if not isinstance(data, pd.DataFrame):
        raise ValueError(
            f"The value for `data` must be a pandas DataFrame, but {type(data).__name__} was passed."
        )
    continuity = _check_continuity(add, to, drop00)
    correlation = _check_correlation(baseline_correlation)
    records = _records(data)
    any_zero = _any_zero_cell(records) if continuity.to == "if0all" else False

    out = data.copy()
    n = len(out)
    yi = np.full(n, np.nan)
    vi = np.full(n, np.nan)
    direction = np.ones(n, dtype=int)
    problems = [""] * n
    for i, values in enumerate(records):
        yi[i], vi[i], direction[i], issues = _row_effect(values, measure, continuity, any_zero, correlation)
        problems[i] = "; ".join(issue.message for issue in issues)

    sei = np.sqrt(vi)
    out["measure"] = measure
    out["yi"] = yi
    out["vi"] = vi
    out["sei"] = sei
    out["yi_ci_low"] = yi - Z_95 * sei
    out["yi_ci_high"] = yi + Z_95 * sei
    out["direction"] = direction
    out["usable"] = np.isfinite(yi)
    out["problem"] = pd.Series(problems, index=out.index, dtype=object)
    out.attrs["convention"] = CONVENTION
    out.attrs["measure"] = measure
    out.attrs["escalc"] = {"add": continuity.add, "to": continuity.to, "drop00": continuity.drop00,
                           "baseline_correlation": correlation, "any_zero": any_zero}
    return out


def _check_continuity(add: object, to: object, drop00: object) -> _Continuity:
    if isinstance(add, bool) or not isinstance(add, (int, float)) or not (math.isfinite(add) and add >= 0):
        raise ValueError(f"The value for `add` must be a number >= 0, but {add!r} was passed.")
    check_choice("to", to, CONTINUITY_TO)
    if not isinstance(drop00, bool):
        raise ValueError(f"The value for `drop00` must be one of [False, True], but {drop00!r} was passed.")
    return _Continuity(float(add), str(to), drop00)


def _check_correlation(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1 <= value <= 1:
        raise ValueError("The value for `baseline_correlation` must be None or a number between -1 and 1, "
                         f"but {value!r} was passed.")
    return float(value)


_EFFECT_INPUTS = ("yi", "vi", "sei")


def _records(data: pd.DataFrame) -> list[dict[Hashable, Any]]:
    """The rows as dicts in lbpevidence's column names; metafor's escalc names are translated.

    A column under both names, or effect sizes (``yi``, ``vi``, ``sei``) as input, fail at once
    with a message that says what to pass instead.
    """
    columns = [str(c) for c in data.columns]
    given = [c for c in _EFFECT_INPUTS if c in columns]
    if given and "usable" not in columns:
        raise ValueError(
            f"The value for `data` must hold the data effect_sizes() computes from, but a frame with metafor's "
            f"effect columns {given} was passed: pass it to meta_analysis() as it is (yi with vi or sei), or name "
            "a reported effect as effect_type, estimate, and ci_low and ci_high or se.")
    renames: dict[str, str] = {}
    for name, ours in METAFOR_COLUMNS.items():
        if name in columns:
            if ours in columns:
                raise ValueError(f"The value for `data` must name each input once, but both {name!r} (metafor's "
                                 f"name) and {ours!r} were passed: keep one of them.")
            renames[name] = ours
    for non_events, total, events in (("bi", "n_int", "ai"), ("di", "n_ctl", "ci")):
        if non_events in columns:
            metafor_total = "n1i" if total == "n_int" else "n2i"
            clash = [c for c in (total, metafor_total) if c in columns]
            if clash:
                raise ValueError(f"The value for `data` must give group sizes once, but both {non_events!r} "
                                 f"(non-events) and {clash[0]!r} were passed: keep one of them.")
            if events not in columns:
                raise ValueError(f"The value for `data` must give {events!r} with {non_events!r} (metafor's 2x2 "
                                 f"table ai, bi, ci, di), but a frame without {events!r} was passed.")
    records = data.rename(columns=renames).to_dict("records") if renames else data.to_dict("records")
    if "bi" in columns or "di" in columns:
        for values in records:
            for non_events, total, events in (("bi", "n_int", "events_int"), ("di", "n_ctl", "events_ctl")):
                if non_events in values:
                    try:
                        values[total] = float(values[events]) + float(values[non_events])
                    except (TypeError, ValueError):
                        values[total] = None      # reported as a missing group size
    return records


def _any_zero_cell(records: list[dict[Hashable, Any]]) -> bool:
    """Whether any 2x2 table has a zero cell (metafor's ``to = "if0all"``)."""
    for values in records:
        try:
            a, n1 = float(values.get("events_int")), float(values.get("n_int"))
            c, n2 = float(values.get("events_ctl")), float(values.get("n_ctl"))
        except (TypeError, ValueError):
            continue
        if all(map(math.isfinite, (a, n1, c, n2))) and min(a, n1 - a, c, n2 - c) == 0:
            return True
    return False


def rows_to_problems(effects: pd.DataFrame, file: str = "outcomes.csv") -> list[Problem]:
    """Return one :class:`~lbpevidence.errors.Problem` per reason an effect row is unusable.

    ``key`` comes from the ``key`` column (else the row's index label) and ``line`` from a
    ``line`` column when there is one (else 0, "the whole file").

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"key": ["lee2019"], "line": [7], "mean_int": [3.0], "sd_int": [-1.0],
    ...                      "n_int": [20], "mean_ctl": [4.0], "sd_ctl": [1.2], "n_ctl": [0]})
    >>> for problem in rows_to_problems(effect_sizes(rows, "MD")):
    ...     print(problem)
    outcomes.csv:7 lee2019 sd_int: found -1, expected a positive SD
    outcomes.csv:7 lee2019 n_ctl: found 0, expected a group size > 0
    """
    if "usable" not in effects.columns or "measure" not in effects.columns:
        raise ValueError("The value for `effects` must be the output of effect_sizes(), but a frame "
                         "without `usable` and `measure` columns was passed.")
    problems: list[Problem] = []
    options = effects.attrs.get("escalc", {})
    continuity = _Continuity(options.get("add", 0.5), options.get("to", "only0"), options.get("drop00", False))
    any_zero, correlation = options.get("any_zero", False), options.get("baseline_correlation")
    for label, values in zip(effects.index, _records(effects), strict=True):
        if bool(values.get("usable")):
            continue
        key = "" if is_blank(values.get("key")) else str(values["key"])
        key = key or str(label)
        try:
            line = int(float(values.get("line")))
        except (TypeError, ValueError, OverflowError):
            line = 0                        # no usable line number: the problem is about the file
        measure = str(values.get("measure"))
        issues = _row_effect(values, measure, continuity, any_zero, correlation)[3] if measure in MEASURES else []
        if not issues:
            # Marked unusable by someone else: report what the row says.
            reason = str(values.get("problem") or "marked unusable")
            issues = [_Issue("effect", reason, "a usable effect", reason)]
        problems.extend(Problem(file, line, key, i.field, i.found, i.expected) for i in issues)
    return problems
