"""Meta-analysis of effect sizes: fixed effect and random effects, as metafor's ``rma.uni`` does it.

Every number here is checked against R metafor (tests/test_meta.py, fixtures made by
scripts/metafor_fixtures.R):

- tau² estimators: ``FE`` (none), ``DL`` (DerSimonian-Laird, truncated at 0), ``REML``
  (Fisher scoring, metafor's algorithm), ``PM`` (Paule-Mandel, root of the generalised Q);
- CI of the pooled effect: ``wald`` (normal) or ``hksj`` (Hartung-Knapp-Sidik-Jonkman,
  metafor ``test = "knha"``: t with k - 1 df, no truncation of the scaling factor);
- prediction interval as metafor's ``predict()``: ``est ± crit * sqrt(tau² + se²)``;
- CI of tau² by the Q-profile method (metafor ``confint()``), and I², H² from it;
- I² from tau² and the typical within-study variance (random effects) or from Q (FE).

The default is Cochrane's 2025 choice: REML, HKSJ and a prediction interval
(``preset="cochrane2025"``); ``preset="revman5"`` is DerSimonian-Laird with Wald CIs, to
reproduce older reviews.

Examples
--------
>>> import pandas as pd
>>> effects = pd.DataFrame({"key": ["a", "b", "c", "d"],
...                         "yi": [-0.30, -0.10, -0.55, -0.20], "vi": [0.02, 0.03, 0.05, 0.01]})
>>> res = meta_analysis(effects)
>>> print(f"{res.estimate:.3f} [{res.ci_low:.3f}, {res.ci_high:.3f}], tau2 = {res.tau2:.4f}")
-0.243 [-0.463, -0.023], tau2 = 0.0000
>>> res.method, res.ci_method, res.k
('REML', 'hksj', 4)
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

# Absolute imports, so that `python -m doctest src/lbpevidence/meta.py` runs the examples.
from .errors import StatisticsError, check_choice, is_blank

__all__ = [
    "BEGG_COLUMNS",
    "CI_METHODS",
    "EGGER_COLUMNS",
    "LEAVE_ONE_OUT_COLUMNS",
    "METHODS",
    "PRESETS",
    "RESULT_COLUMNS",
    "TAU2_MODELS",
    "TESTS",
    "BeggResult",
    "ConvergenceWarning",
    "EggerResult",
    "MetaResult",
    "begg_test",
    "egger_test",
    "leave_one_out",
    "meta_analysis",
    "meta_by",
    "subgroup_differences",
]

METHODS = ("FE", "DL", "REML", "PM")
#: CI methods of the pooled effect, with metafor's ``test`` name for each (:data:`TESTS`).
CI_METHODS = ("wald", "hksj", "t", "hksj-modified")
#: metafor's ``test`` argument: ``z`` = wald, ``knha`` = hksj, ``t`` = t, ``adhoc`` = hksj-modified.
TESTS = ("z", "knha", "t", "adhoc")
CI_TO_TEST = dict(zip(CI_METHODS, TESTS, strict=True))
TEST_TO_CI = dict(zip(TESTS, CI_METHODS, strict=True))
PRESETS = (None, "cochrane2025", "revman5")

_METHOD_NAMES = {
    "FE": "fixed effect (inverse variance)",
    "DL": "DerSimonian-Laird",
    "REML": "restricted maximum likelihood (Fisher scoring)",
    "PM": "Paule-Mandel",
}

# Tolerances of the iterative estimators, relative to the scale of the variances: metafor's
# defaults (1e-5 absolute) are too loose to compare at 1e-6.
_REML_THRESHOLD = 1e-12
_MAX_ITER = 1000


# --------------------------------------------------------------------------------------------
# results


class ConvergenceWarning(UserWarning):
    """An iterative estimate (REML or PM tau², a Q-profile bound) did not converge."""


@dataclass(frozen=True)
class MetaResult:
    """The pooled result of one meta-analysis; :meth:`to_frame` gives it as one row.

    Attributes
    ----------
    k : int
        Studies pooled.
    estimate, se : float
        Pooled effect and its standard error (scaled by the HKSJ factor when ``ci_method`` is
        ``hksj`` or ``hksj-modified``).
    ci_low, ci_high : float
        ``1 - alpha`` CI of the pooled effect.
    pi_low, pi_high : float
        Prediction interval (metafor ``predict()``); equal to the CI for FE; NaN when
        ``prediction=False``.
    tau2, tau2_ci_low, tau2_ci_high : float
        Between-study variance and its Q-profile CI (NaN for FE).
    i2, i2_ci_low, i2_ci_high : float
        I² (%) and its CI (from the tau² CI; NaN for FE).
    h2 : float
        H².
    q, q_df, q_pvalue : float, int, float
        Cochran's Q, its degrees of freedom (k - 1) and p-value.
    method, ci_method, measure : str
        Estimator of tau², CI method (``wald``, ``hksj``, ``t``, ``hksj-modified``), effect measure.
    alpha : float
        ``1 - alpha`` is the coverage of the intervals.
    weights : tuple of float
        Percentage weight of each study, in the order of ``keys`` (input order).
    keys : tuple of str
        The studies pooled.
    excluded : tuple of (str, str)
        ``(key, reason)`` of every input row not pooled.
    note : str
        Anything a reader should know ("" when nothing).
    statistic, pvalue : float
        z (Wald) or t (HKSJ) test of ``estimate = 0``.
    ci_df : float
        Degrees of freedom of the t distribution (NaN for Wald).
    typical_vi : float
        Typical within-study variance, ``(k - 1) / tr(P)``: the basis of I² and H² in
        random-effects models (metafor's definition).
    iterations : int
        Iterations of the tau² estimator (Fisher scoring for REML, root search for PM; 0 for FE
        and DL, and for PM when tau² is 0 without a search).
    converged : bool
        False when the tau² estimator did not converge (a :class:`ConvergenceWarning` was issued
        and ``note`` says so).

    ``test`` (metafor's name of ``ci_method``) and ``level`` (``100 × (1 - alpha)``) are
    properties.
    """

    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    tau2: float
    tau2_ci_low: float
    tau2_ci_high: float
    i2: float
    i2_ci_low: float
    i2_ci_high: float
    h2: float
    q: float
    q_df: int
    q_pvalue: float
    method: str
    ci_method: str
    measure: str
    alpha: float
    weights: tuple[float, ...]
    keys: tuple[str, ...]
    excluded: tuple[tuple[str, str], ...]
    note: str
    statistic: float
    pvalue: float
    ci_df: float
    typical_vi: float
    iterations: int = 0
    converged: bool = True

    @property
    def test(self) -> str:
        """metafor's name of the CI method: ``z``, ``knha``, ``t`` or ``adhoc``."""
        return CI_TO_TEST[self.ci_method]

    @property
    def level(self) -> float:
        """Coverage of the intervals in percent, metafor's ``level``."""
        return 100 * (1 - self.alpha)

    def to_frame(self) -> pd.DataFrame:
        """Return the result as one row with :data:`RESULT_COLUMNS`.

        ``weights`` and ``keys`` are left out (one value per study); ``k_excluded`` counts
        ``excluded`` and ``excluded`` lists them as ``key: reason`` joined by "; ".
        """
        return pd.DataFrame([self._row()], columns=RESULT_COLUMNS)

    def _row(self) -> dict[str, Any]:
        row = {name: getattr(self, name) for name in RESULT_COLUMNS if hasattr(self, name)}
        row["k_excluded"] = len(self.excluded)
        row["excluded"] = "; ".join(f"{key}: {reason}" for key, reason in self.excluded)
        return row

    def summary(self) -> str:
        """Describe the analysis in words: estimator, CI method, PI method, basis of I², results.

        Examples
        --------
        >>> import pandas as pd
        >>> eff = pd.DataFrame({"yi": [-0.3, -0.1, -0.55, -0.2], "vi": [0.02, 0.03, 0.05, 0.01]})
        >>> print(meta_analysis(eff, preset="revman5").summary())  # doctest: +NORMALIZE_WHITESPACE
        Random-effects meta-analysis of 4 studies.
        tau² estimator: DerSimonian-Laird.
        95% CI of the pooled effect: Wald (normal quantile).
        95% prediction interval: estimate ± z × sqrt(tau² + SE²) (metafor predict()).
        I² and H²: from tau² and the typical within-study variance (metafor's definition).
        Pooled effect -0.243 (95% CI -0.38 to -0.105; z = -3.46, p = 0.000541).
        Prediction interval -0.38 to -0.105.
        Heterogeneity: tau² = 0 (95% CI 0 to 0.478, Q-profile); I² = 0% (0 to 95.5%);
            Q = 2.91 on 3 df, p = 0.405.
        Note: DL tau² truncated at 0.
        """
        level = f"{100 * (1 - self.alpha):g}%"
        fixed = self.method == "FE"
        lines = [f"{'Fixed-effect' if fixed else 'Random-effects'} meta-analysis of {self.k} studies"
                 + (f" ({self.measure})." if self.measure else ".")]
        lines.append(f"tau² estimator: {_METHOD_NAMES[self.method]}.")
        if self.ci_method == "hksj":
            ci_text = f"Hartung-Knapp-Sidik-Jonkman (t with {self.ci_df:g} df, metafor test = \"knha\")"
            crit = f"t({self.ci_df:g})"
        elif self.ci_method == "hksj-modified":
            ci_text = (f"modified Hartung-Knapp-Sidik-Jonkman, scaling factor floored at 1 (t with {self.ci_df:g} df, "
                       "metafor test = \"adhoc\")")
            crit = f"t({self.ci_df:g})"
        elif self.ci_method == "t":
            ci_text = f"unscaled SE with a t quantile (t with {self.ci_df:g} df, metafor test = \"t\")"
            crit = f"t({self.ci_df:g})"
        else:
            ci_text = "Wald (normal quantile)"
            crit = "z"
        lines.append(f"{level} CI of the pooled effect: {ci_text}.")
        if fixed:
            lines.append("Prediction interval: none beyond the CI in a fixed-effect model (as metafor).")
            lines.append("I² and H²: from Q, (Q - df) / Q.")
        else:
            lines.append(f"{level} prediction interval: estimate ± {crit} × sqrt(tau² + SE²) "
                         "(metafor predict()).")
            lines.append("I² and H²: from tau² and the typical within-study variance (metafor's definition).")
        stat_name = "z" if self.ci_method == "wald" else "t"
        lines.append(f"Pooled effect {self.estimate:.3g} "
                     f"({level} CI {self.ci_low:.3g} to {self.ci_high:.3g}; "
                     f"{stat_name} = {self.statistic:.2f}, p = {self.pvalue:.3g}).")
        if not math.isnan(self.pi_low):
            lines.append(f"Prediction interval {self.pi_low:.3g} to {self.pi_high:.3g}.")
        tau2_ci = "" if fixed else (f" ({level} CI {self.tau2_ci_low:.3g} to {self.tau2_ci_high:.3g}, "
                                    "Q-profile)")
        i2_ci = "" if fixed else f" ({self.i2_ci_low:.3g} to {self.i2_ci_high:.3g}%)"
        lines.append(f"Heterogeneity: tau² = {self.tau2:.3g}{tau2_ci}; I² = {self.i2:.3g}%{i2_ci}; "
                     f"Q = {self.q:.3g} on {self.q_df} df, p = {self.q_pvalue:.3g}.")
        if self.excluded:
            lines.append(f"Not pooled: {'; '.join(f'{key} ({reason})' for key, reason in self.excluded)}.")
        if self.note:
            lines.append(f"Note: {self.note}.")
        return "\n".join(lines)


#: Columns of :meth:`MetaResult.to_frame` (and of :func:`meta_by` after the ``by`` columns).
RESULT_COLUMNS = [
    "k", "estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high",
    "tau2", "tau2_ci_low", "tau2_ci_high", "i2", "i2_ci_low", "i2_ci_high", "h2",
    "q", "q_df", "q_pvalue", "statistic", "pvalue", "ci_df", "typical_vi",
    "method", "ci_method", "measure", "alpha", "k_excluded", "excluded", "note", "iterations", "converged",
]


@dataclass(frozen=True)
class EggerResult:
    """Egger's regression test for funnel-plot asymmetry (classic form).

    Attributes
    ----------
    k : int
        Studies in the regression.
    intercept, se : float
        Egger's intercept (the bias coefficient) and its standard error. In the classic form,
        ``yi / sei = intercept + slope / sei``; fitted as metafor does, ``yi = b0 + b1 * sei``
        with weights ``1 / vi``, the intercept is ``b1``.
    t, df, p : float
        t statistic of the intercept, its degrees of freedom (k - 2), two-sided p-value.
    limit_estimate, limit_ci_low, limit_ci_high : float
        ``b0``: the effect expected in a study of infinite precision, with its CI.
    method : str
        What was fitted, in words.
    run : bool
        False when the test was not run (see ``reason``); the numbers are then NaN.
    reason : str
        Why it was not run ("" when it was).
    measure : str
        Effect measure.
    """

    k: int
    intercept: float
    se: float
    t: float
    df: float
    p: float
    limit_estimate: float
    limit_ci_low: float
    limit_ci_high: float
    method: str
    run: bool
    reason: str
    measure: str
    model: str = "lm"
    tau2: float = math.nan

    def to_frame(self) -> pd.DataFrame:
        """Return the result as one row with :data:`EGGER_COLUMNS`."""
        return pd.DataFrame([asdict(self)], columns=EGGER_COLUMNS)


#: Columns of :func:`leave_one_out`.
LEAVE_ONE_OUT_COLUMNS = ["omitted", "k", "estimate", "se", "statistic", "pvalue", "ci_low", "ci_high",
                         "pi_low", "pi_high", "q", "q_pvalue", "tau2", "i2", "h2", "note"]

#: Columns of :meth:`EggerResult.to_frame`.
EGGER_COLUMNS = ["k", "intercept", "se", "t", "df", "p", "limit_estimate", "limit_ci_low", "limit_ci_high",
                 "method", "run", "reason", "measure", "model", "tau2"]

#: Columns of :meth:`BeggResult.to_frame`.
BEGG_COLUMNS = ["k", "tau", "p", "statistic", "exact", "method", "run", "reason", "measure"]


@dataclass(frozen=True)
class BeggResult:
    """Begg and Mazumdar's rank correlation test for funnel-plot asymmetry (metafor ``ranktest()``).

    Attributes
    ----------
    k : int
        Studies in the test.
    tau : float
        Kendall's tau between the standardised effects ``(yi - est_FE) / sqrt(vi - 1 / sum(1/vi))``
        and ``vi``.
    p : float
        Two-sided p-value: exact (the null distribution of Kendall's statistic) or from the normal
        approximation with R's tie correction.
    statistic : float
        The number of concordant pairs ``T`` when exact, else the z statistic.
    exact : bool
        Whether ``p`` is exact.
    method : str
        What was computed, in words.
    run : bool
        False when the test was not run (see ``reason``); the numbers are then NaN.
    reason : str
        Why it was not run ("" when it was).
    measure : str
        Effect measure.
    """

    k: int
    tau: float
    p: float
    statistic: float
    exact: bool
    method: str
    run: bool
    reason: str
    measure: str

    def to_frame(self) -> pd.DataFrame:
        """Return the result as one row with :data:`BEGG_COLUMNS`."""
        return pd.DataFrame([asdict(self)], columns=BEGG_COLUMNS)

_EGGER_METHOD = ("Egger's regression test (classic): weighted least squares of yi on sei with weights 1/vi; "
                 "t test of the sei coefficient on k - 2 df (metafor regtest(model = \"lm\"))")


# --------------------------------------------------------------------------------------------
# selecting the rows to pool


@dataclass(frozen=True)
class _Studies:
    """The rows of an effects frame, as arrays; ``reason`` is "" for rows that can be pooled."""

    keys: np.ndarray
    yi: np.ndarray
    vi: np.ndarray
    reason: np.ndarray
    measure: np.ndarray | None
    instrument: np.ndarray | None

    def take(self, positions: np.ndarray) -> _Studies:
        return _Studies(
            self.keys[positions], self.yi[positions], self.vi[positions], self.reason[positions],
            None if self.measure is None else self.measure[positions],
            None if self.instrument is None else self.instrument[positions],
        )

    @property
    def included(self) -> np.ndarray:
        return self.reason == ""


def _column_values(effects: pd.DataFrame, column: str) -> np.ndarray:
    return effects[column].to_numpy(dtype=object)


def _studies(effects: pd.DataFrame) -> _Studies:
    if not isinstance(effects, pd.DataFrame):
        raise ValueError(
            f"The value for `effects` must be a pandas DataFrame, but {type(effects).__name__} was passed."
        )
    # metafor's rma(yi, vi) or rma(yi, sei = ): vi is used when both are there (effect_sizes() gives both)
    variance = "vi" if "vi" in effects.columns else "sei"
    missing = [column for column in ("yi",) if column not in effects.columns]
    if variance not in effects.columns:
        missing += ["vi", "sei"]
    if missing:
        raise ValueError(f"The value for `effects` must have columns ['yi', 'vi'] or ['yi', 'sei'] (see "
                         f"effect_sizes()), but a frame without {missing} was passed.")
    n = len(effects)
    yi = pd.to_numeric(effects["yi"], errors="coerce").to_numpy(dtype=float)
    vi = pd.to_numeric(effects[variance], errors="coerce").to_numpy(dtype=float)
    if variance == "sei":
        with np.errstate(invalid="ignore"):
            vi = np.where(vi > 0, vi * vi, np.nan)
    labels = np.asarray(effects.index.astype(str), dtype=object)
    if "key" in effects.columns:
        raw_keys = effects["key"].astype(object)
        text = raw_keys.where(raw_keys.notna(), "").astype(str).str.strip().to_numpy(dtype=object)
        keys = np.where(text == "", labels, text)
    else:
        keys = labels

    reason = np.full(n, "", dtype=object)
    with np.errstate(invalid="ignore"):
        bad_vi = ~(np.isfinite(vi) & (vi > 0))
    reason[bad_vi] = f"{variance} is missing or not positive"
    reason[~np.isfinite(yi)] = "yi is missing or not finite"
    if "usable" in effects.columns:
        unusable = ~effects["usable"].eq(True).to_numpy(dtype=bool)
        if unusable.any():
            problems = (_column_values(effects, "problem") if "problem" in effects.columns
                        else np.full(n, "", dtype=object))
            for i in np.flatnonzero(unusable):
                text = "" if is_blank(problems[i]) else str(problems[i])
                reason[i] = f"unusable: {text}" if text else "unusable"
    measure = _column_values(effects, "measure") if "measure" in effects.columns else None
    instrument = _column_values(effects, "instrument") if "instrument" in effects.columns else None
    return _Studies(keys, yi, vi, reason, measure, instrument)


def _single_measure(studies: _Studies) -> str:
    if studies.measure is None:
        return ""
    found = sorted({str(m) for m in studies.measure[studies.included] if not is_blank(m)})
    if len(found) > 1:
        raise StatisticsError(f"effects mix measures {found}: pool one measure at a time")
    return found[0] if found else ""


def _check_instruments(studies: _Studies, measure: str) -> None:
    # Mean differences on different scales cannot be pooled; MD100 and SMD put them on one scale.
    if measure != "MD" or studies.instrument is None:
        return
    found = sorted({str(x).strip().lower() for x in studies.instrument[studies.included] if not is_blank(x)})
    if len(found) > 1:
        raise StatisticsError(f"MD rows mix instruments ({', '.join(found)}): not pooled; use MD100 or SMD")


# --------------------------------------------------------------------------------------------
# the numerical core (numpy arrays in, floats out)


def _q_at(yi: np.ndarray, vi: np.ndarray, tau2: float) -> float:
    """Generalised Q: sum of w (y - mu_w)² with w = 1 / (vi + tau2)."""
    w = 1.0 / (vi + tau2)
    mu = (w @ yi) / w.sum()
    r = yi - mu
    return float(w @ (r * r))


def _brentq(f: Any, low: float, high: float, xtol: float) -> tuple[float, int, bool]:
    """Root of ``f`` in ``[low, high]``: ``(root, iterations, converged)``; never raises on a slow search."""
    root, info = optimize.brentq(f, low, high, xtol=xtol, rtol=4 * np.finfo(float).eps, maxiter=_MAX_ITER,
                                 full_output=True, disp=False)
    return float(root), int(info.iterations), bool(info.converged)


def _q_root(yi: np.ndarray, vi: np.ndarray, target: float) -> tuple[float, int, bool]:
    """Return ``(tau2, iterations, converged)`` where the generalised Q equals ``target``.

    ``Q(0) >= target > 0`` is assumed. Q(tau2) <= sum((y - mean(y))²) / tau2, so the root lies
    below that bound divided by the target: the search interval is always wide enough (metafor's
    stops at a fixed tau2.max). The tolerance is relative: ``1e-14 × min(vi)`` absolute, and 4
    machine epsilons of tau2, so that rescaling the data rescales nothing else.
    """
    sum_squares = float(((yi - yi.mean()) ** 2).sum())
    upper = 1.01 * sum_squares / target + float(vi.min())
    return _brentq(lambda t: _q_at(yi, vi, t) - target, 0.0, upper, 1e-14 * float(vi.min()))


def _tau2_dl(yi: np.ndarray, vi: np.ndarray, q: float, tr_p: float) -> tuple[float, str]:
    k = len(yi)
    raw = (q - (k - 1)) / tr_p
    return (raw, "") if raw > 0 else (0.0, "DL tau² truncated at 0")


def _tau2_pm(yi: np.ndarray, vi: np.ndarray, q: float) -> _Estimate:
    k = len(yi)
    if q < k - 1:
        return _Estimate(0.0, "", 0, True)
    tau2, iterations, converged = _q_root(yi, vi, k - 1)
    note = "" if converged else f"PM: the root search for tau² did not converge in {iterations} iterations"
    return _Estimate(tau2, note, iterations, converged)


def _reml_loglik(yi: np.ndarray, vi: np.ndarray, tau2: float) -> float:
    # Restricted log-likelihood without its constant.
    total = vi + tau2
    w = 1.0 / total
    sw = w.sum()
    mu = (w @ yi) / sw
    r = yi - mu
    return -0.5 * (float(np.log(total).sum()) + math.log(sw) + float(w @ (r * r)))


def _reml_score(yi: np.ndarray, vi: np.ndarray, tau2: float) -> tuple[float, float, float]:
    """Return ``(y'PPy - tr(P), tr(PP), tr(P))``: twice the REML score, twice the Fisher information,
    and the scale of the score's two terms."""
    w = 1.0 / (vi + tau2)
    sw = float(w.sum())
    py = w * (yi - (w @ yi) / sw)           # P y, with P = W - w w' / sum(w)
    ww = w * w
    w2 = float(ww.sum())
    tr_p = sw - w2 / sw
    tr_pp = w2 - 2 * float(ww @ w) / sw + (w2 / sw) ** 2
    if tr_p <= 1e-4 * sw or tr_pp <= 1e-4 * w2:
        # One weight dwarfs the rest and the differences above cancel: tr(P) = sum w_i s_i / sw and
        # tr(PP) = sum w_i² (s_i² + q_i) / sw², with s_i and q_i the sums of w and w² over the other
        # studies, are sums of positive terms. (Above the 1e-4 cut the plain forms lose at most
        # ~1e-12 relatively, and are cheaper.)
        s_others = _sum_of_others(w)
        q_others = _sum_of_others(ww)
        tr_p = float(w @ s_others) / sw
        tr_pp = float(ww @ (s_others * s_others + q_others)) / (sw * sw)
    return float(py @ py) - tr_p, tr_pp, tr_p


def _sum_of_others(values: np.ndarray) -> np.ndarray:
    """``sum(values) - values[i]`` for each i, without the subtraction (prefix + suffix sums)."""
    before = np.concatenate([[0.0], np.cumsum(values[:-1])])
    after = np.concatenate([np.cumsum(values[::-1])[::-1][1:], [0.0]])
    return before + after


@dataclass(frozen=True)
class _Estimate:
    """An estimate of tau² with how it was reached."""

    tau2: float
    note: str
    iterations: int
    converged: bool


@dataclass(frozen=True)
class _Control:
    """Fisher scoring settings (metafor's ``control = list(threshold, maxiter, stepadj)``).

    ``threshold`` is relative (see :func:`_fisher_scoring`); ``given`` is True when the caller set
    them, and then no fallback is tried when Fisher scoring does not converge (as metafor).
    """

    threshold: float = _REML_THRESHOLD
    maxiter: int = _MAX_ITER
    stepadj: float = 1.0
    given: bool = False


def _fisher_scoring(score: Any, tau2: float, vmin: float, step_factor: float, threshold: float,
                    maxiter: int) -> tuple[float, int, bool]:
    """metafor's Fisher scoring from ``tau2`` (``stepadj`` is ``step_factor``), with a scale-free stop.

    ``score(tau2)`` returns (twice) the REML score, the information and ``tr(P)``. metafor stops
    when the change in tau² is below an absolute ``threshold``; that is not scale-free, and a rule
    relative to the mean variance stops early when one study has a huge variance. Here the
    iteration stops when both

    - the change in tau² is at most ``threshold × max(tau2, min(vi))`` (relative to tau², or to the
      smallest within-study variance when tau² is smaller: below that, tau² does not move any
      weight by more than ``threshold`` relatively), and
    - the score is at most ``sqrt(threshold) × tr(P)`` (the score's two terms, ``y'PPy`` and
      ``tr(P)``, agree to that relative precision);

    both are unchanged when every ``yi`` is multiplied by ``c`` and every ``vi`` by ``c²``.
    Returns ``(tau2, iterations, converged)``.
    """
    score_tol = math.sqrt(threshold)
    for iteration in range(1, maxiter + 1):
        value, information, tr_p = score(tau2)
        if not information > 0:                # no curvature left to scale a step by
            return tau2, iteration, False
        step = step_factor * value / information
        if tau2 + step < 0:
            # metafor halves such steps and creeps towards 0; when the score at 0 already points
            # below 0, that is where it ends (within its threshold), so go there at once.
            if score(0.0)[0] <= 0:
                return 0.0, iteration, True
            while tau2 + step < 0:
                step /= 2
        new = tau2 + step
        change = abs(new - tau2)
        tau2 = new
        if change <= threshold * max(tau2, vmin) and abs(value) <= score_tol * tr_p:
            return tau2, iteration, True
    return tau2, maxiter, False


def _he_start(yi: np.ndarray, vi: np.ndarray) -> float:
    # metafor starts REML from the Hedges (HE) estimate, floored at 0.
    k = len(yi)
    return max(0.0, (float(((yi - yi.mean()) ** 2).sum()) - float(vi.sum()) * (k - 1) / k) / (k - 1))


def _tau2_reml(yi: np.ndarray, vi: np.ndarray, control: _Control = _Control()) -> _Estimate:
    """REML tau² by Fisher scoring, step for step as metafor's rma.uni.

    Where full Fisher steps oscillate (metafor then stops with "did not converge"), the steps are
    halved as metafor's ``control = list(stepadj = 0.5)`` would, and as a last resort the REML
    score equation is solved by bracketing. With a ``control`` set by the caller, only the
    Fisher scoring it describes is run (no fallback), as metafor does.
    """
    start = _he_start(yi, vi)
    vmin = float(vi.min())

    def score(t: float) -> tuple[float, float, float]:
        return _reml_score(yi, vi, t)

    note = ""
    tau2, iterations, converged = _fisher_scoring(score, start, vmin, control.stepadj, control.threshold,
                                                  control.maxiter)
    if not converged and control.given:
        note = (f"REML: Fisher scoring did not converge in {iterations} iterations "
                f"(control: threshold = {control.threshold:g}, stepadj = {control.stepadj:g}); "
                f"tau² is the last iterate")
        return _Estimate(tau2, note, iterations, False)
    for step_factor in (0.5, 0.25):
        if converged:
            break
        tau2, iterations, converged = _fisher_scoring(score, start, vmin, step_factor, control.threshold,
                                                      control.maxiter)
        note = (f"REML: full Fisher scoring steps did not converge; steps scaled by {step_factor:g} "
                f"(metafor: control = list(stepadj = {step_factor:g}))")
    if not converged:
        tau2, iterations, converged = _reml_score_root(yi, vi)
        note = "REML: Fisher scoring did not converge; tau² is the root of the REML score equation"
        if not converged:
            note = f"REML: neither Fisher scoring nor the root search converged ({iterations} iterations)"
    # metafor's check for a local maximum: the likelihood at tau2 = 0 must not be higher.
    if tau2 > 0 and _reml_loglik(yi, vi, 0.0) - _reml_loglik(yi, vi, tau2) > 1e-10:
        tau2, note = 0.0, "REML stuck at a local maximum: tau² set to 0"
    return _Estimate(tau2, note, iterations, converged)


def _reml_score_root(yi: np.ndarray, vi: np.ndarray) -> tuple[float, int, bool]:
    if _reml_score(yi, vi, 0.0)[0] <= 0:
        return 0.0, 0, True
    upper = max(float(vi.mean()), float(np.var(yi)))
    for _ in range(200):                    # the score turns negative for large tau2
        if _reml_score(yi, vi, upper)[0] < 0:
            break
        upper *= 2
    else:
        raise StatisticsError(f"REML: no root of the score equation found (k={len(yi)})")
    return _brentq(lambda t: _reml_score(yi, vi, t)[0], 0.0, upper, 1e-14 * float(vi.min()))


def _tau2_qprofile(yi: np.ndarray, vi: np.ndarray, q: float, alpha: float) -> tuple[float, float, list[str]]:
    """Q-profile CI of tau² (metafor confint(type = "QP")), bounds searched without an upper limit.

    Returns ``(low, high, notes)``; a note says when a root search did not converge.
    """
    df = len(yi) - 1
    crit_upper = float(special.chdtri(df, alpha / 2))       # upper alpha/2 quantile of chi²(df)
    crit_lower = float(special.chdtri(df, 1 - alpha / 2))   # lower alpha/2 quantile
    if q < crit_lower:
        return 0.0, 0.0, []
    notes = []
    high, iterations, converged = _q_root(yi, vi, crit_lower)
    if not converged:
        notes.append(f"Q-profile: the search for the upper bound of tau² did not converge ({iterations} iterations)")
    low = 0.0
    if q >= crit_upper:
        low, iterations, converged = _q_root(yi, vi, crit_upper)
        if not converged:
            notes.append(f"Q-profile: the search for the lower bound of tau² did not converge "
                         f"({iterations} iterations)")
    return low, high, notes


def _knha_scale(yi: np.ndarray, w: np.ndarray, fitted: np.ndarray, df: int, test: str) -> float:
    """The Knapp-Hartung scaling factor ``s² = sum(w r²) / df`` (floored at 1 for ``adhoc``)."""
    r = yi - fitted
    rss = float(w @ (r * r))
    # metafor's knha: no truncation of the scaling factor; an exact fit gives se = 0.
    scale = 0.0 if rss <= np.finfo(float).eps else rss / df
    return max(1.0, scale) if test == "adhoc" else scale


def _pool(yi: np.ndarray, vi: np.ndarray, method: str, test: str, alpha: float,
          prediction: bool, heterogeneity_ci: bool = True, control: _Control = _Control()) -> dict[str, Any]:
    """Pool one set of studies; return the numeric fields of MetaResult.

    ``test`` is metafor's name: ``z`` (Wald), ``knha`` (Hartung-Knapp-Sidik-Jonkman), ``t`` (t
    distribution, unscaled SE), ``adhoc`` (Knapp-Hartung with the scaling factor floored at 1).
    """
    k = len(yi)
    notes: list[str] = []
    w_fe = 1.0 / vi
    sw_fe = float(w_fe.sum())
    q = _q_at(yi, vi, 0.0)
    tr_p = sw_fe - float(w_fe @ w_fe) / sw_fe
    if tr_p <= 1e-4 * sw_fe:                # one weight dwarfs the rest: without the cancellation
        tr_p = float(w_fe @ _sum_of_others(w_fe)) / sw_fe
    typical_vi = (k - 1) / tr_p

    iterations, converged = 0, True
    if method == "FE":
        tau2 = 0.0
    elif method == "DL":
        tau2, note = _tau2_dl(yi, vi, q, tr_p)
        notes.append(note)
    else:
        fit = _tau2_reml(yi, vi, control) if method == "REML" else _tau2_pm(yi, vi, q)
        tau2, iterations, converged = fit.tau2, fit.iterations, fit.converged
        notes.append(fit.note)

    w = 1.0 / (vi + tau2)
    sw = float(w.sum())
    estimate = float(w @ yi) / sw
    if test == "z":
        se = math.sqrt(1.0 / sw)
        ci_df = math.nan
        crit = float(special.ndtri(1 - alpha / 2))
        statistic = estimate / se
        pvalue = float(2 * special.ndtr(-abs(statistic)))
    else:
        if method == "FE" and test in ("knha", "adhoc"):
            notes.append("HKSJ is not meant for fixed-effect models (metafor warns too)")
        scale = 1.0 if test == "t" else _knha_scale(yi, w, np.full(k, estimate), k - 1, test)
        se = math.sqrt(scale / sw)
        ci_df = float(k - 1)
        crit = float(special.stdtrit(ci_df, 1 - alpha / 2))
        with np.errstate(divide="ignore", invalid="ignore"):
            statistic = float(np.divide(estimate, se))
        pvalue = float(2 * special.stdtr(ci_df, -abs(statistic)))
    ci_low, ci_high = estimate - crit * se, estimate + crit * se

    if not prediction:
        pi_low = pi_high = math.nan
    elif method == "FE":
        pi_low, pi_high = ci_low, ci_high        # metafor's predict() gives the CI for FE models
    else:
        half = crit * math.sqrt(tau2 + se**2)
        pi_low, pi_high = estimate - half, estimate + half

    q_pvalue = float(special.chdtrc(k - 1, q))
    if method == "FE":
        i2 = max(0.0, 100 * (q - (k - 1)) / q) if q > 0 else 0.0
        h2 = q / (k - 1)
        tau2_ci = (math.nan, math.nan)
        i2_ci = (math.nan, math.nan)
    else:
        i2 = 100 * tau2 / (typical_vi + tau2)
        h2 = tau2 / typical_vi + 1
        if heterogeneity_ci:
            low, high, qp_notes = _tau2_qprofile(yi, vi, q, alpha)
            notes.extend(qp_notes)
            tau2_ci = (low, high)
            i2_ci = (100 * low / (typical_vi + low), 100 * high / (typical_vi + high))
        else:
            tau2_ci = i2_ci = (math.nan, math.nan)

    return {
        "k": k, "estimate": estimate, "se": se, "ci_low": ci_low, "ci_high": ci_high,
        "pi_low": pi_low, "pi_high": pi_high, "tau2": tau2,
        "tau2_ci_low": tau2_ci[0], "tau2_ci_high": tau2_ci[1],
        "i2": i2, "i2_ci_low": i2_ci[0], "i2_ci_high": i2_ci[1], "h2": h2,
        "q": q, "q_df": k - 1, "q_pvalue": q_pvalue,
        "statistic": statistic, "pvalue": pvalue, "ci_df": ci_df, "typical_vi": typical_vi,
        "iterations": iterations, "converged": converged,
        "weights": tuple((100 * w / sw).tolist()),
        "notes": [n for n in notes if n],
    }


# --------------------------------------------------------------------------------------------
# meta-regression (metafor rma.uni with mods): subgroups with a common tau², Egger's rma form


@dataclass(frozen=True)
class _Regression:
    """A mixed-effects meta-regression fit: coefficients, their covariance (scaled as ``test``)."""

    beta: np.ndarray
    vb: np.ndarray
    tau2: float
    df: int                      # k - p, the t / F denominator df
    s2w: float                   # Knapp-Hartung scaling factor (1 for z and t)
    qe: float                    # residual heterogeneity Q (FE weights)
    estimate: _Estimate


def _mr_residuals(yi: np.ndarray, vi: np.ndarray, x: np.ndarray, tau2: float) -> tuple[np.ndarray, np.ndarray,
                                                                                       np.ndarray, np.ndarray]:
    """``(w, A, beta, P y)`` at tau2: A = (X'WX)^-1, beta = A X'W y, P y = W (y - X beta)."""
    w = 1.0 / (vi + tau2)
    a = np.linalg.inv(x.T @ (x * w[:, None]))
    beta = a @ (x.T @ (w * yi))
    return w, a, beta, w * (yi - x @ beta)


def _mr_score(yi: np.ndarray, vi: np.ndarray, x: np.ndarray, tau2: float) -> tuple[float, float, float]:
    """REML score terms with moderators: ``(y'PPy - tr(P), tr(PP), tr(P))`` without k x k matrices."""
    w, a, _, py = _mr_residuals(yi, vi, x, tau2)
    b2 = x.T @ (x * (w * w)[:, None])
    b3 = x.T @ (x * (w * w * w)[:, None])
    ab2 = a @ b2
    tr_p = float(w.sum() - np.trace(ab2))
    tr_pp = float((w * w).sum() - 2 * np.trace(a @ b3) + np.trace(ab2 @ ab2))
    return float(py @ py) - tr_p, tr_pp, tr_p


def _mr_q(yi: np.ndarray, vi: np.ndarray, x: np.ndarray, tau2: float) -> float:
    _, _, beta, py = _mr_residuals(yi, vi, x, tau2)
    return float(py @ (yi - x @ beta))


def _mr_tau2(yi: np.ndarray, vi: np.ndarray, x: np.ndarray, method: str, control: _Control) -> _Estimate:
    k, p = x.shape
    if method == "FE":
        return _Estimate(0.0, "", 0, True)
    qe = _mr_q(yi, vi, x, 0.0)
    if method == "DL":
        tr_p = _mr_score(yi, vi, x, 0.0)[2]
        raw = (qe - (k - p)) / tr_p
        return _Estimate(raw, "", 0, True) if raw > 0 else _Estimate(0.0, "DL tau² truncated at 0", 0, True)
    if method == "PM":
        if qe < k - p:
            return _Estimate(0.0, "", 0, True)
        resid = yi - x @ np.linalg.lstsq(x, yi, rcond=None)[0]
        upper = 1.01 * float(resid @ resid) / (k - p) + float(vi.max())
        tau2, iterations, converged = _brentq(lambda t: _mr_q(yi, vi, x, t) - (k - p), 0.0, upper,
                                             1e-14 * float(vi.min()))
        note = "" if converged else f"PM: the root search for tau² did not converge in {iterations} iterations"
        return _Estimate(tau2, note, iterations, converged)
    # REML, from the Hedges estimate as metafor: (RSS_ols - tr(P_ols V)) / (k - p), floored at 0
    xtx_inv = np.linalg.inv(x.T @ x)
    resid = yi - x @ (xtx_inv @ (x.T @ yi))
    tr_pv = float(vi.sum() - np.trace(xtx_inv @ (x.T @ (x * vi[:, None]))))
    start = max(0.0, (float(resid @ resid) - tr_pv) / (k - p))
    tau2, iterations, converged = _fisher_scoring(lambda t: _mr_score(yi, vi, x, t), start, float(vi.min()),
                                                  control.stepadj, control.threshold, control.maxiter)
    note = "" if converged else f"REML: Fisher scoring did not converge in {iterations} iterations"
    return _Estimate(tau2, note, iterations, converged)


def _regression(yi: np.ndarray, vi: np.ndarray, x: np.ndarray, method: str, test: str,
                control: _Control = _Control()) -> _Regression:
    """metafor's ``rma(yi, vi, mods = x, intercept = FALSE, method, test)``."""
    k, p = x.shape
    fit = _mr_tau2(yi, vi, x, method, control)
    if not fit.converged:
        warnings.warn(f"{method} meta-regression with k={k}: {fit.note}", ConvergenceWarning, stacklevel=3)
    w, a, beta, _ = _mr_residuals(yi, vi, x, fit.tau2)
    s2w = 1.0
    if test in ("knha", "adhoc"):
        s2w = _knha_scale(yi, w, x @ beta, k - p, test)
    return _Regression(beta, s2w * a, fit.tau2, k - p, s2w, _mr_q(yi, vi, x, 0.0), fit)


def _wald_test(reg: _Regression, contrast: np.ndarray, test: str) -> tuple[float, float, float]:
    """metafor's omnibus test QM of ``contrast @ beta = 0``: ``(statistic, p, df2)``.

    Chi² on m df for ``test = "z"``; otherwise F = QM / m on (m, k - p) df (``df2``; NaN for chi²).
    """
    cb = contrast @ reg.beta
    qm = float(cb @ np.linalg.solve(contrast @ reg.vb @ contrast.T, cb))
    m = contrast.shape[0]
    if test == "z":
        return qm, float(special.chdtrc(m, qm)), math.nan
    f = qm / m
    return f, float(special.fdtrc(m, reg.df, f)), float(reg.df)


# --------------------------------------------------------------------------------------------
# public functions


@dataclass(frozen=True)
class _Options:
    method: str
    ci_method: str
    alpha: float
    prediction: bool
    control: _Control = _Control()

    @property
    def test(self) -> str:
        return CI_TO_TEST[self.ci_method]


def _check_alpha(alpha: object, level: object) -> float:
    """One coverage from ``alpha`` (0 < alpha < 1) or metafor's ``level`` (95, or 0.95)."""
    if alpha is not None and (isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1):
        raise ValueError(f"The value for `alpha` must be a number between 0 and 1, but {alpha!r} was passed.")
    if level is None:
        return 0.05 if alpha is None else float(alpha)
    if (isinstance(level, bool) or not isinstance(level, (int, float)) or not math.isfinite(level)
            or not (0.5 < level < 1 or 1 < level < 100)):
        raise ValueError("The value for `level` must be a confidence level in percent, 1 < level < 100 "
                         f"(or, as metafor reads it, a proportion 0.5 < level < 1), but {level!r} was passed.")
    from_level = (100 - float(level)) / 100 if level > 1 else 1 - float(level)
    if alpha is not None and not math.isclose(from_level, alpha, rel_tol=1e-12):
        raise ValueError(f"The values for `alpha` and `level` disagree: level={level!r} means "
                         f"alpha={from_level:g}, but alpha={alpha!r} was passed; pass one of them.")
    return from_level


def _check_control(control: object) -> _Control:
    if control is None:
        return _Control()
    if not isinstance(control, Mapping):
        raise ValueError("The value for `control` must be a dict with keys among ['threshold', 'maxiter', "
                         f"'stepadj'], but {type(control).__name__} was passed.")
    for key in control:
        check_choice("control key", key, ["threshold", "maxiter", "stepadj"])
    threshold = control.get("threshold", _REML_THRESHOLD)
    maxiter = control.get("maxiter", _MAX_ITER)
    stepadj = control.get("stepadj", 1.0)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold < 1:
        raise ValueError(f"The value for `control['threshold']` must be a number between 0 and 1 (relative), "
                         f"but {threshold!r} was passed.")
    if isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
        raise ValueError(f"The value for `control['maxiter']` must be an integer >= 1, but {maxiter!r} was passed.")
    if isinstance(stepadj, bool) or not isinstance(stepadj, (int, float)) or not 0 < stepadj <= 1:
        raise ValueError(f"The value for `control['stepadj']` must be a number in (0, 1], but {stepadj!r} was passed.")
    return _Control(float(threshold), int(maxiter), float(stepadj), given=True)


def _options(method: str = "REML", ci: str | None = None, alpha: float | None = None, preset: str | None = None,
             prediction: bool = True, test: str | None = None, level: float | None = None,
             control: Mapping[str, Any] | None = None) -> _Options:
    check_choice("method", method, METHODS)
    if ci is not None:
        check_choice("ci", ci, CI_METHODS)
    if test is not None:
        check_choice("test", test, TESTS)
        if ci is not None and CI_TO_TEST[ci] != test:
            raise ValueError(f"The values for `ci` and `test` disagree: ci={ci!r} is test={CI_TO_TEST[ci]!r}, "
                             f"but test={test!r} was passed; pass one of them.")
        ci = TEST_TO_CI[test]
    check_choice("preset", preset, PRESETS)
    resolved_alpha = _check_alpha(alpha, level)
    checked_control = _check_control(control)
    ci = "hksj" if ci is None else ci
    if preset == "cochrane2025":
        method, ci, prediction = "REML", "hksj", True
    elif preset == "revman5":
        method, ci = "DL", "wald"
    return _Options(method, ci, resolved_alpha, bool(prediction), checked_control)


def _not_pooled(k: int) -> StatisticsError:
    return StatisticsError(f"k={k}: not pooled (a meta-analysis needs at least 2 usable studies)")


def _warn_if_not_converged(fit: dict[str, Any], method: str, k: int) -> None:
    # Said at once, and kept on the result (converged, iterations, note).
    unconverged = [note for note in fit["notes"] if note.startswith("Q-profile") and "did not converge" in note]
    if not fit["converged"]:
        unconverged.insert(0, next(note for note in fit["notes"] if "converge" in note))
    if unconverged:
        warnings.warn(f"{method} with k={k}: {'; '.join(unconverged)}", ConvergenceWarning, stacklevel=3)


def _analyse(studies: _Studies, options: _Options, heterogeneity_ci: bool = True) -> MetaResult:
    included = studies.included
    k = int(included.sum())
    measure = _single_measure(studies)
    if k < 2:
        raise _not_pooled(k)
    _check_instruments(studies, measure)
    fit = _pool(studies.yi[included], studies.vi[included], options.method, options.test,
                options.alpha, options.prediction, heterogeneity_ci, options.control)
    _warn_if_not_converged(fit, options.method, k)
    excluded = tuple((str(key), str(reason)) for key, reason in
                     zip(studies.keys[~included], studies.reason[~included], strict=True))
    notes = fit.pop("notes")
    if excluded:
        notes.append(f"{len(excluded)} row(s) not pooled (see excluded)")
    return MetaResult(
        method=options.method, ci_method=options.ci_method, measure=measure, alpha=options.alpha,
        keys=tuple(str(key) for key in studies.keys[included]), excluded=excluded, note="; ".join(notes),
        **fit,
    )


def meta_analysis(effects: pd.DataFrame, method: str = "REML", ci: str | None = None, alpha: float | None = None,
                  preset: str | None = None, prediction: bool = True, *, test: str | None = None,
                  level: float | None = None, control: Mapping[str, Any] | None = None) -> MetaResult:
    """Pool effect sizes by inverse-variance weighting, fixed or random effects.

    Parameters
    ----------
    effects : DataFrame
        Output of :func:`~lbpevidence.effects.effect_sizes`, or any frame with ``yi`` and ``vi``
        (or ``yi`` and ``sei``, metafor's ``rma(yi, sei = )``). Optional columns: ``usable``
        (rows not True are left out), ``problem`` (the reason), ``key`` (study names; the index
        otherwise), ``measure``, ``instrument``.
    method : {"REML", "DL", "PM", "FE"}
        Estimator of tau²: restricted maximum likelihood, DerSimonian-Laird, Paule-Mandel, or
        none (fixed effect).
    ci : {"hksj", "wald", "t", "hksj-modified"}, default "hksj"
        CI and test of the pooled effect: Hartung-Knapp-Sidik-Jonkman (SE scaled by
        ``s² = sum(w r²) / (k - 1)``, t with k - 1 df), Wald (normal), ``t`` (unscaled SE, t with
        k - 1 df), or the modified HKSJ (``s²`` floored at 1: never narrower than ``t``; Knapp &
        Hartung 2003, Röver, Knapp & Friede 2015), for few studies.
    alpha : float, default 0.05
        The intervals have coverage ``1 - alpha``.
    preset : {None, "cochrane2025", "revman5"}
        ``cochrane2025``: REML + HKSJ + prediction interval (the default behaviour);
        ``revman5``: DL + Wald. A preset overrides ``method`` and ``ci``.
    prediction : bool
        Compute the prediction interval.
    test : {"z", "knha", "t", "adhoc"}, optional
        metafor's name for ``ci``: ``z`` = wald, ``knha`` = hksj, ``t`` = t, ``adhoc`` =
        hksj-modified (metafor >= 4.0). Pass ``ci`` or ``test``; both only when they agree.
    level : float, optional
        metafor's name for the coverage, in percent (``level=95`` is ``alpha=0.05``; a proportion
        ``0.5 < level < 1`` is read as metafor reads it).
    control : dict, optional
        REML Fisher scoring settings, metafor's ``control``: ``threshold`` (default 1e-12,
        *relative*: the iteration stops when the change in tau² is at most ``threshold × max(tau²,
        min(vi))`` and the score at most ``sqrt(threshold) × tr(P)``), ``maxiter`` (1000),
        ``stepadj`` (1). Without it, full steps that do not converge are retried with steps
        scaled by 0.5 and 0.25, then the score equation is solved by bracketing; with it, only
        the Fisher scoring described is run, as metafor does.

    Returns
    -------
    MetaResult
        ``converged`` and ``iterations`` say how the estimate of tau² was reached.

    Warns
    -----
    ConvergenceWarning
        When the estimate of tau² (or a Q-profile bound) did not converge; the result says so in
        ``converged`` and ``note``.

    Raises
    ------
    StatisticsError
        When fewer than 2 rows can be pooled (``"k=1: not pooled ..."``), when the rows mix
        measures, or when MD rows mix instruments.
    ValueError
        For an argument that is not one of the allowed values.

    Notes
    -----
    Matches metafor ``rma.uni`` (``method``, ``test``, ``level``), ``predict()`` and
    ``confint()`` (Q-profile); see the module docstring. Rows are pooled when ``usable`` is True
    (if that column exists), ``yi`` is finite and ``vi > 0``; every other row is listed in
    ``excluded`` with its reason. metafor's Q-profile search stops at a fixed upper limit
    (``tau2.max``); here the search interval always contains the bound.

    Examples
    --------
    >>> import pandas as pd
    >>> eff = pd.DataFrame({"key": ["a", "b", "c"], "yi": [-1.0, -0.2, -0.6], "vi": [0.04, 0.05, 0.03],
    ...                     "usable": [True, True, False], "problem": ["", "", "sd_int is missing"]})
    >>> res = meta_analysis(eff, method="DL", ci="wald")
    >>> res.k, res.keys, res.excluded
    (2, ('a', 'b'), (('c', 'unusable: sd_int is missing'),))
    >>> meta_analysis(eff.iloc[:1])
    Traceback (most recent call last):
    ...
    lbpevidence.errors.StatisticsError: k=1: not pooled (a meta-analysis needs at least 2 usable studies)

    Two studies: the modified HKSJ interval (metafor ``test = "adhoc"``) is never narrower than
    the one with an unscaled SE (``test = "t"``):

    >>> two = pd.DataFrame({"yi": [-0.5, -0.45], "vi": [0.04, 0.05]})
    >>> [round(meta_analysis(two, test=t, level=95).ci_high, 3) for t in ("knha", "adhoc", "t")]
    [-0.162, 1.416, 1.416]
    """
    options = _options(method, ci, alpha, preset, prediction, test, level, control)
    return _analyse(_studies(effects), options)


def _check_columns(name: str, columns: str | Sequence[str] | None, effects: pd.DataFrame) -> list[str]:
    if columns is None:
        return []
    wanted = [columns] if isinstance(columns, str) else list(columns)
    for column in wanted:
        check_choice(name, column, list(effects.columns))
    return wanted


def _groups(effects: pd.DataFrame, by: list[str]) -> list[tuple[tuple[Any, ...], np.ndarray]]:
    """(labels, positions) of each group, in sorted order; missing labels form groups too."""
    if not by:
        return [((), np.arange(len(effects)))]
    codes = effects.groupby(by, sort=True, dropna=False).ngroup().to_numpy()
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    groups = []
    for positions in np.split(order, bounds):
        if len(positions) == 0:
            continue
        labels = tuple(effects[column].iloc[positions[0]] for column in by)
        groups.append((labels, positions))
    return groups


def _empty_row(k: int, options: _Options, measure: str, note: str, excluded: int = 0) -> dict[str, Any]:
    row: dict[str, Any] = {column: math.nan for column in RESULT_COLUMNS}
    row.update(k=k, q_df=max(k - 1, 0), method=options.method, ci_method=options.ci_method, measure=measure,
               alpha=options.alpha, k_excluded=excluded, excluded="", note=note)
    return row


def meta_by(effects: pd.DataFrame, by: str | Sequence[str], **meta_kwargs: Any) -> pd.DataFrame:
    """Pool each group of ``effects`` separately; groups that cannot be pooled get a note.

    Parameters
    ----------
    effects : DataFrame
        As for :func:`meta_analysis`.
    by : str or list of str
        Columns that define the groups (e.g. ``["modality", "outcome"]``).
    **meta_kwargs
        ``method``, ``ci`` (or ``test``), ``alpha`` (or ``level``), ``preset``, ``prediction``, ``control``
        of :func:`meta_analysis`.

    Returns
    -------
    DataFrame
        One row per group, groups in sorted order (missing labels last): the ``by`` columns,
        then :data:`RESULT_COLUMNS` (a result column that is also a ``by`` column, such as
        ``measure``, appears once). A group with fewer than 2 usable rows is kept with NaN
        statistics and a note (``"k=1: not pooled ..."``); so is a group whose MD rows mix
        instruments (MD100 and SMD are on a common scale and are pooled).

    Examples
    --------
    >>> import pandas as pd
    >>> eff = pd.DataFrame({"modality": ["yoga", "yoga", "yoga", "heat"],
    ...                     "yi": [-0.4, -0.2, -0.3, -0.5], "vi": [0.02, 0.03, 0.04, 0.05]})
    >>> table = meta_by(eff, by="modality", preset="revman5")
    >>> table[["modality", "k", "estimate"]].round(3)
      modality  k  estimate
    0     heat  1       NaN
    1     yoga  3    -0.315
    >>> print(table.loc[0, "note"])
    k=1: not pooled (a meta-analysis needs at least 2 usable studies)
    """
    options = _options(**meta_kwargs)
    columns = _check_columns("by", by, effects)
    if not columns:
        raise ValueError("The value for `by` must name at least one column, but [] was passed.")
    studies = _studies(effects)
    rows = []
    for labels, positions in _groups(effects, columns):
        group = studies.take(positions)
        try:
            row = _analyse(group, options)._row()
        except StatisticsError as error:
            measure = ""
            if group.measure is not None:
                found = sorted({str(m) for m in group.measure[group.included] if not is_blank(m)})
                measure = ", ".join(found)
            row = _empty_row(int(group.included.sum()), options, measure, str(error),
                             int((~group.included).sum()))
        rows.append({**row, **dict(zip(columns, labels, strict=True))})
    # A `by` column that is also a result column (e.g. "measure") appears once, as the group label.
    return pd.DataFrame(rows, columns=[*columns, *(c for c in RESULT_COLUMNS if c not in columns)])


def leave_one_out(effects: pd.DataFrame, **meta_kwargs: Any) -> pd.DataFrame:
    """Re-pool with each study left out in turn, as metafor's ``leave1out()``.

    Parameters
    ----------
    effects : DataFrame
        As for :func:`meta_analysis`.
    **meta_kwargs
        ``method``, ``ci`` (or ``test``), ``alpha`` (or ``level``), ``preset``, ``prediction``, ``control``
        of :func:`meta_analysis`.

    Returns
    -------
    DataFrame
        One row per pooled study (input order): ``omitted`` (its key), ``k``, ``estimate``,
        ``se``, ``statistic``, ``pvalue``, ``ci_low``, ``ci_high``, ``pi_low``, ``pi_high``,
        ``q``, ``q_pvalue``, ``tau2``, ``i2``, ``h2`` and ``note`` (NaN statistics and a note
        when only one study is left).

    Examples
    --------
    >>> import pandas as pd
    >>> eff = pd.DataFrame({"key": ["a", "b", "c"], "yi": [-0.4, -0.2, -0.9], "vi": [0.02, 0.03, 0.04]})
    >>> leave_one_out(eff, method="FE", ci="wald")[["omitted", "k", "estimate"]].round(3)
      omitted  k  estimate
    0       a  2    -0.500
    1       b  2    -0.567
    2       c  2    -0.320
    """
    options = _options(**meta_kwargs)
    studies = _studies(effects)
    measure = _single_measure(studies)
    _check_instruments(studies, measure)
    included = np.flatnonzero(studies.included)
    if len(included) < 2:
        raise _not_pooled(len(included))
    columns = LEAVE_ONE_OUT_COLUMNS
    rows = []
    for position in included:
        rest = included[included != position]
        yi, vi = studies.yi[rest], studies.vi[rest]
        if len(rest) < 2:
            row = {column: math.nan for column in columns}
            row.update(k=len(rest), note=str(_not_pooled(len(rest))))
        else:
            fit = _pool(yi, vi, options.method, options.test, options.alpha, options.prediction,
                        heterogeneity_ci=False, control=options.control)
            _warn_if_not_converged(fit, options.method, len(rest))
            row = {column: fit.get(column) for column in columns}
            row["note"] = "; ".join(fit["notes"])
        row["omitted"] = str(studies.keys[position])
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


TAU2_MODELS = ("separate", "common")


def subgroup_differences(effects: pd.DataFrame, subgroup: str, within: str | Sequence[str] | None = None,
                         tau2: str = "separate", **meta_kwargs: Any) -> pd.DataFrame:
    """Test whether pooled effects differ between subgroups.

    ``tau2="separate"`` (the default, RevMan's test for subgroup differences): each subgroup is
    pooled on its own with ``meta_kwargs``; the subgroup estimates are then compared by a
    fixed-effect test: ``Q_between = sum((est_g - est_FE)² / se_g²)`` on ``G - 1`` df, which is
    metafor's ``rma(yi = est, sei = se, method = "FE")$QE``.

    ``tau2="common"``: one mixed-effects model with the subgroup as moderator and one tau² across
    subgroups, metafor's ``rma(yi, vi, mods = ~ factor(subgroup), method, test)``; the test is
    its omnibus test of the moderators, ``QM`` (chi² on G - 1 df for ``test = "z"``; for
    ``knha``, ``t`` and ``adhoc`` an F statistic on (G - 1, k - G) df, as metafor), and the
    subgroup estimates are those of ``mods = ~ 0 + factor(subgroup)``.

    Parameters
    ----------
    effects : DataFrame
        As for :func:`meta_analysis`.
    subgroup : str
        The column that defines the subgroups.
    within : str or list of str, optional
        Run one test per group of these columns (e.g. ``["modality", "outcome"]``).
    tau2 : {"separate", "common"}
        A tau² per subgroup (RevMan), or one tau² for all (metafor's ``rma(mods = )``).
    **meta_kwargs
        ``method``, ``ci`` (or ``test``), ``alpha`` (or ``level``), ``preset``, ``prediction``, ``control``
        of :func:`meta_analysis`.

    Returns
    -------
    DataFrame
        One row per ``within`` group: the ``within`` columns, ``subgroup`` (the column name),
        ``n_subgroups``, ``subgroups`` (each level with its k, estimate and SE), ``q_between``
        (Q, or metafor's QM: an F value when ``df2`` is not NaN), ``df``, ``p``, ``i2_between``
        (%, ``(Q - df) / Q``; NaN for the common model), ``note``, ``tau2_model``, ``tau2`` (the
        common tau²; NaN for separate) and ``df2`` (denominator df of the F test, else NaN). With
        separate tau², a subgroup of one study enters with that study's own estimate and SE (as
        in RevMan); with fewer than 2 subgroups the test is not run (NaN and a note).

    Examples
    --------
    >>> import pandas as pd
    >>> eff = pd.DataFrame({"comparator": ["sham", "sham", "usual", "usual"],
    ...                     "yi": [-0.1, -0.2, -0.6, -0.5], "vi": [0.01, 0.02, 0.01, 0.02]})
    >>> test = subgroup_differences(eff, "comparator", preset="revman5")
    >>> test[["n_subgroups", "q_between", "df", "p"]].round(4)
       n_subgroups  q_between  df       p
    0            2    14.0833   1  0.0002
    >>> common = subgroup_differences(eff, "comparator", tau2="common", method="REML", test="z")
    >>> common[["q_between", "df", "p", "tau2"]].round(4)
       q_between  df       p  tau2
    0    14.0833   1  0.0002   0.0
    """
    options = _options(**meta_kwargs)
    check_choice("tau2", tau2, TAU2_MODELS)
    check_choice("subgroup", subgroup, list(effects.columns))
    within_columns = _check_columns("within", within, effects)
    studies = _studies(effects)
    out_columns = [*within_columns, "subgroup", "n_subgroups", "subgroups", "q_between", "df", "p",
                   "i2_between", "note", "tau2_model", "tau2", "df2"]
    rows = []
    for labels, positions in _groups(effects, within_columns):
        part = effects.iloc[positions]
        row: dict[str, Any] = dict(zip(within_columns, labels, strict=True))
        if tau2 == "common":
            row.update(_common_tau2_test(studies, positions, part, subgroup, options))
        else:
            row.update(_separate_tau2_test(studies, positions, part, subgroup, options))
        row.update(subgroup=subgroup, tau2_model=tau2)
        rows.append(row)
    return pd.DataFrame(rows, columns=out_columns)


def _separate_tau2_test(studies: _Studies, positions: np.ndarray, part: pd.DataFrame, subgroup: str,
                        options: _Options) -> dict[str, Any]:
    estimates, ses, described, notes = [], [], [], []
    for level, level_positions in _groups(part, [subgroup]):
        group = studies.take(positions[level_positions])
        name = level[0]
        k = int(group.included.sum())
        if k == 0:
            notes.append(f"{name}: no usable rows")
            continue
        if k == 1:
            est = float(group.yi[group.included][0])
            se = math.sqrt(float(group.vi[group.included][0]))
        else:
            try:
                result = _analyse(group, options, heterogeneity_ci=False)
            except StatisticsError as error:
                notes.append(f"{name}: {error}")
                continue
            est, se = result.estimate, result.se
        estimates.append(est)
        ses.append(se)
        described.append(f"{name} (k={k}, {est:.4g}, SE {se:.4g})")
    row: dict[str, Any] = {"n_subgroups": len(estimates), "subgroups": "; ".join(described),
                           "tau2": math.nan, "df2": math.nan}
    if len(estimates) < 2:
        notes.append(f"{len(estimates)} subgroup(s) with an estimate: no test")
        row.update(q_between=math.nan, df=max(len(estimates) - 1, 0), p=math.nan, i2_between=math.nan)
    else:
        est_arr, se_arr = np.asarray(estimates), np.asarray(ses)
        q_between = _q_at(est_arr, se_arr**2, 0.0)
        df = len(estimates) - 1
        row.update(q_between=q_between, df=df, p=float(special.chdtrc(df, q_between)),
                   i2_between=max(0.0, 100 * (q_between - df) / q_between) if q_between > 0 else 0.0)
    row["note"] = "; ".join(notes)
    return row


def _common_tau2_test(studies: _Studies, positions: np.ndarray, part: pd.DataFrame, subgroup: str,
                      options: _Options) -> dict[str, Any]:
    notes: list[str] = []
    names, members = [], []
    for level, level_positions in _groups(part, [subgroup]):
        group_positions = positions[level_positions]
        k = int(studies.included[group_positions].sum())
        if k == 0:
            notes.append(f"{level[0]}: no usable rows")
            continue
        names.append(level[0])
        members.append(group_positions[studies.included[group_positions]])
    g = len(names)
    k = sum(len(m) for m in members)
    row: dict[str, Any] = {"n_subgroups": g, "i2_between": math.nan}
    if g < 2 or k <= g:
        reason = (f"{g} subgroup(s) with an estimate: no test" if g < 2
                  else f"k={k} studies in {g} subgroups: no residual df for a common tau²")
        notes.append(reason)
        row.update(subgroups="", q_between=math.nan, df=max(g - 1, 0), p=math.nan, tau2=math.nan, df2=math.nan,
                   note="; ".join(notes))
        return row
    order = np.concatenate(members)
    group = studies.take(order)
    measure = _single_measure(group)
    _check_instruments(group, measure)
    x = np.zeros((k, g))
    start = 0
    for j, m in enumerate(members):
        x[start:start + len(m), j] = 1.0
        start += len(m)
    reg = _regression(group.yi, group.vi, x, options.method, options.test, options.control)
    contrast = np.hstack([-np.ones((g - 1, 1)), np.eye(g - 1)])      # each level against the first
    statistic, p, df2 = _wald_test(reg, contrast, options.test)
    se = np.sqrt(np.diag(reg.vb))
    described = [f"{name} (k={len(m)}, {b:.4g}, SE {s:.4g})"
                 for name, m, b, s in zip(names, members, reg.beta, se, strict=True)]
    notes.extend(note for note in (reg.estimate.note,) if note)
    row.update(subgroups="; ".join(described), q_between=statistic, df=g - 1, p=p, tau2=reg.tau2, df2=df2,
               note="; ".join(notes))
    return row


EGGER_MODELS = ("lm", "rma")


def _check_min_k(min_k: object) -> None:
    if isinstance(min_k, bool) or not isinstance(min_k, (int, np.integer)) or min_k < 3:
        raise ValueError(f"The value for `min_k` must be an integer >= 3, but {min_k!r} was passed.")


def egger_test(effects: pd.DataFrame, min_k: int = 10, alpha: float | None = None, model: str = "lm",
               method: str = "REML", *, ci: str | None = None, test: str | None = None, level: float | None = None,
               control: Mapping[str, Any] | None = None) -> EggerResult:
    """Egger's regression test for small-study effects (funnel-plot asymmetry).

    ``model="lm"`` (the default), the classic Egger test: weighted least squares of ``yi`` on
    ``sei`` with weights ``1 / vi`` (equivalently, ``yi / sei`` on ``1 / sei``), and a t test with
    k - 2 df of the coefficient of ``sei``, Egger's intercept. This is metafor's
    ``regtest(res, model = "lm")``; it does not depend on the tau² estimator.

    ``model="rma"``, metafor's default ``regtest(res)``: the meta-regression
    ``rma(yi, vi, mods = ~ sei, method, test)`` with the estimator ``method`` and the test
    ``ci``/``test`` of the model; the test of the ``sei`` coefficient is a z test (``test="z"``)
    or a t test on k - 2 df (``knha``, ``t``, ``adhoc``).

    Parameters
    ----------
    effects : DataFrame
        As for :func:`meta_analysis`.
    min_k : int
        Below this many studies the test is not run (Cochrane: at least 10).
    alpha : float, default 0.05
        Coverage ``1 - alpha`` of the CI of the limit estimate (or metafor's ``level``).
    model : {"lm", "rma"}
        metafor's ``regtest(model = )``.
    method : {"REML", "DL", "PM", "FE"}
        The tau² estimator of the ``rma`` model (not used by ``lm``).
    ci, test, level, control
        As for :func:`meta_analysis` (``ci`` and ``test`` for the ``rma`` model only; default
        ``z``, metafor's default test).

    Returns
    -------
    EggerResult
        ``run=False`` with a reason (``"Egger needs k >= 10 (k=7)"``) when there are too few
        studies or their SEs do not vary; the test never raises for the data. ``t`` is the test
        statistic (a z value when ``df`` is NaN); ``tau2`` the residual tau² of the ``rma`` model.

    Examples
    --------
    >>> import pandas as pd
    >>> few = pd.DataFrame({"yi": [-0.4, -0.2, -0.9], "vi": [0.02, 0.03, 0.04]})
    >>> res = egger_test(few)
    >>> res.run, res.reason
    (False, 'Egger needs k >= 10 (k=3)')
    >>> res = egger_test(few, min_k=3, model="rma", method="FE")  # metafor: zval -1.560923315
    >>> round(res.t, 4), res.df, res.model
    (-1.5609, nan, 'rma')
    """
    check_choice("model", model, EGGER_MODELS)
    if model == "rma":
        options = _options(method, ci, alpha, None, True, test, level, control)
        if ci is None and test is None:
            options = dataclasses.replace(options, ci_method="wald")
    else:
        options = _options("FE", "wald", alpha, None, True, None, level, None)
        check_choice("method", method, METHODS)
    alpha = options.alpha
    _check_min_k(min_k)
    studies = _studies(effects)
    measure = _single_measure(studies)
    yi, vi = studies.yi[studies.included], studies.vi[studies.included]
    k = len(yi)
    description = _EGGER_METHOD if model == "lm" else (
        f"Egger's regression test (metafor regtest(model = \"rma\")): rma(yi, vi, mods = ~ sei, "
        f"method = \"{options.method}\", test = \"{options.test}\"); test of the sei coefficient")

    def not_run(reason: str) -> EggerResult:
        nan = math.nan
        return EggerResult(k, nan, nan, nan, float(k - 2), nan, nan, nan, nan, description, False, reason,
                           measure, model)

    if k < min_k:
        return not_run(f"Egger needs k >= {min_k} (k={k})")
    sei = np.sqrt(vi)
    if float(np.ptp(sei)) <= 1e-8 * float(sei.mean()):
        return not_run("the standard errors do not vary: Egger's regression cannot be fitted")
    design = np.column_stack([np.ones(k), sei])
    if model == "rma":
        reg = _regression(yi, vi, design, options.method, options.test, options.control)
        se_limit, se_bias = (math.sqrt(v) for v in np.diag(reg.vb))
        statistic = float(reg.beta[1]) / se_bias
        if options.test == "z":
            df, p = math.nan, float(2 * special.ndtr(-abs(statistic)))
            crit = float(special.ndtri(1 - alpha / 2))
        else:
            df = float(k - 2)
            p = float(2 * special.stdtr(df, -abs(statistic)))
            crit = float(special.stdtrit(df, 1 - alpha / 2))
        b0 = float(reg.beta[0])
        return EggerResult(k=k, intercept=float(reg.beta[1]), se=se_bias, t=statistic, df=df, p=p,
                           limit_estimate=b0, limit_ci_low=b0 - crit * se_limit, limit_ci_high=b0 + crit * se_limit,
                           method=description, run=True, reason="", measure=measure, model=model, tau2=reg.tau2)
    w = 1.0 / vi
    xtwx = design.T @ (design * w[:, None])
    xtwx_inv = np.linalg.inv(xtwx)
    beta = xtwx_inv @ (design.T @ (w * yi))
    residuals = yi - design @ beta
    df = k - 2
    sigma2 = float(w @ (residuals * residuals)) / df
    cov = sigma2 * xtwx_inv
    se_limit, se_bias = math.sqrt(cov[0, 0]), math.sqrt(cov[1, 1])
    t = float(beta[1]) / se_bias
    crit = float(special.stdtrit(df, 1 - alpha / 2))
    return EggerResult(
        k=k, intercept=float(beta[1]), se=se_bias, t=t, df=float(df), p=float(2 * special.stdtr(df, -abs(t))),
        limit_estimate=float(beta[0]), limit_ci_low=float(beta[0]) - crit * se_limit,
        limit_ci_high=float(beta[0]) + crit * se_limit, method=description, run=True, reason="",
        measure=measure, model=model,
    )


_BEGG_METHOD = ("Begg and Mazumdar's rank correlation test: Kendall's tau between (yi - est_FE) / "
                "sqrt(vi - 1/sum(1/vi)) and vi (metafor ranktest(), R cor.test(method = \"kendall\"))")


def _kendall_null_cdf(n: int) -> np.ndarray:
    """P(T <= q), q = 0 .. n(n-1)/2, for the number T of concordant pairs of n untied pairs (R's pkendall)."""
    probabilities = np.ones(1)
    for i in range(2, n + 1):
        # adding the i-th element adds 0 .. i-1 inversions, each equally likely
        cumulative = np.concatenate([[0.0], np.cumsum(probabilities)])
        size = len(probabilities) + i - 1
        upper = np.minimum(np.arange(size) + 1, len(probabilities))
        lower = np.maximum(np.arange(size) - i + 1, 0)
        probabilities = (cumulative[upper] - cumulative[lower]) / i
    return np.cumsum(probabilities)


def _kendall_tau_b(x: np.ndarray, y: np.ndarray) -> float:
    dx = np.sign(x[:, None] - x[None, :])
    dy = np.sign(y[:, None] - y[None, :])
    s = float((dx * dy).sum()) / 2
    tx = float((dx != 0).sum()) / 2
    ty = float((dy != 0).sum()) / 2
    return s / math.sqrt(tx * ty)


def _tie_sizes(values: np.ndarray) -> np.ndarray:
    _, counts = np.unique(values, return_counts=True)
    return counts[counts > 1].astype(float)


def begg_test(effects: pd.DataFrame, min_k: int = 10, exact: bool | None = None) -> BeggResult:
    """Begg and Mazumdar's rank correlation test for small-study effects, as metafor's ``ranktest()``.

    The effects are standardised against the fixed-effect estimate,
    ``(yi - est_FE) / sqrt(vi - 1 / sum(1/vi))``, and Kendall's tau with ``vi`` is tested, as R's
    ``cor.test(method = "kendall")``: an exact p-value when there are no ties (the null
    distribution of the number of concordant pairs), else the normal approximation with R's tie
    correction (no continuity correction).

    Parameters
    ----------
    effects : DataFrame
        As for :func:`meta_analysis`.
    min_k : int
        Below this many studies the test is not run (Cochrane: at least 10).
    exact : bool, optional
        Exact p-value when there are no ties. Default: when k < 50, as ``cor.test``; metafor 3.8's
        ``ranktest()`` passes ``exact = TRUE`` (exact at any k without ties): pass True for that.
        With ties the p-value is never exact.

    Returns
    -------
    BeggResult
        ``run=False`` with a reason when there are too few studies; never raises for the data.

    Examples
    --------
    >>> import pandas as pd
    >>> eff = pd.DataFrame({"yi": [-0.9, -0.6, -0.2, -0.5, -0.3, 0.0], "vi": [0.2, 0.1, 0.08, 0.03, 0.05, 0.01]})
    >>> res = begg_test(eff, min_k=5)      # metafor ranktest(yi, vi): tau -0.3333333333, p 0.4694444444
    >>> round(res.tau, 4), round(res.p, 4), res.exact
    (-0.3333, 0.4694, True)
    """
    _check_min_k(min_k)
    if exact is not None and not isinstance(exact, bool):
        raise ValueError(f"The value for `exact` must be one of [None, True, False], but {exact!r} was passed.")
    studies = _studies(effects)
    measure = _single_measure(studies)
    yi, vi = studies.yi[studies.included], studies.vi[studies.included]
    k = len(yi)
    nan = math.nan
    if k < min_k:
        return BeggResult(k, nan, nan, nan, False, _BEGG_METHOD, False, f"Begg needs k >= {min_k} (k={k})", measure)
    w = 1.0 / vi
    theta = float(w @ yi) / float(w.sum())
    y_star = (yi - theta) / np.sqrt(vi - 1.0 / float(w.sum()))
    tau = _kendall_tau_b(y_star, vi)
    x_ties, y_ties = _tie_sizes(y_star), _tie_sizes(vi)
    ties = len(x_ties) > 0 or len(y_ties) > 0
    use_exact = (k < 50 if exact is None else exact) and not ties
    if use_exact:
        q = round((tau + 1) * k * (k - 1) / 4)
        cdf = _kendall_null_cdf(k)
        p = 1 - cdf[q - 1] if q > k * (k - 1) / 4 else cdf[q]
        return BeggResult(k, tau, min(2 * float(p), 1.0), float(q), True, _BEGG_METHOD, True, "", measure)
    t0 = k * (k - 1) / 2
    t1 = float((x_ties * (x_ties - 1)).sum()) / 2
    t2 = float((y_ties * (y_ties - 1)).sum()) / 2
    s_stat = tau * math.sqrt((t0 - t1) * (t0 - t2))
    v0 = k * (k - 1) * (2 * k + 5)
    vt = float((x_ties * (x_ties - 1) * (2 * x_ties + 5)).sum())
    vu = float((y_ties * (y_ties - 1) * (2 * y_ties + 5)).sum())
    v1 = float((x_ties * (x_ties - 1)).sum()) * float((y_ties * (y_ties - 1)).sum())
    v2 = float((x_ties * (x_ties - 1) * (x_ties - 2)).sum()) * float((y_ties * (y_ties - 1) * (y_ties - 2)).sum())
    var_s = (v0 - vt - vu) / 18 + v1 / (2 * k * (k - 1)) + v2 / (9 * k * (k - 1) * (k - 2))
    z = s_stat / math.sqrt(var_s)
    return BeggResult(k, tau, float(2 * special.ndtr(-abs(z))), z, False, _BEGG_METHOD, True, "", measure)
