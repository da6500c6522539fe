"""Pooling: fixed and random effects, as metafor's ``rma.uni``, ``predict()`` and ``leave1out()``.

:func:`meta_analysis` pools one set of effects (a :class:`MetaResult`), :func:`meta_by` each
group of a table, :func:`leave_one_out` re-pools without each study in turn. Which rows are
pooled (:func:`as_studies`: ``usable``, finite ``yi``, positive ``vi``; one measure; MD rows on
one instrument) and how the options are checked (:func:`resolve_options`) is said once here, for
the publication-bias and subgroup tests too. tau² comes from :mod:`lbpevidence.meta.estimators`.

Examples
--------
>>> import pandas as pd
>>> effects = pd.DataFrame({"yi": [-0.30, -0.10, -0.55, -0.20], "vi": [0.02, 0.03, 0.05, 0.01]})
>>> res = meta_analysis(effects, preset="revman5")
>>> res.method, res.ci_method, round(res.estimate, 3)
('DL', 'wald', -0.243)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from ..errors import StatisticsError, check_choice, is_blank
from .estimators import (
    DEFAULT_CONTROL,
    MAX_ITER,
    REML_THRESHOLD,
    Control,
    ConvergenceWarning,
    knha_scale,
    q_at,
    sum_of_others,
    tau2_dl,
    tau2_pm,
    tau2_qprofile,
    tau2_reml,
)

__all__ = [
    "CI_METHODS",
    "CI_TO_TEST",
    "LEAVE_ONE_OUT_COLUMNS",
    "METHODS",
    "PRESETS",
    "RESULT_COLUMNS",
    "TESTS",
    "TEST_TO_CI",
    "MetaResult",
    "Options",
    "Studies",
    "analyse",
    "as_studies",
    "check_columns",
    "check_instruments",
    "leave_one_out",
    "meta_analysis",
    "meta_by",
    "resolve_options",
    "single_measure",
    "split_groups",
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


# --- results -------------------------------------------------------------------------------


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


#: Columns of :func:`leave_one_out`.
LEAVE_ONE_OUT_COLUMNS = ["omitted", "k", "estimate", "se", "statistic", "pvalue", "ci_low", "ci_high",
                         "pi_low", "pi_high", "q", "q_pvalue", "tau2", "i2", "h2", "note"]


# --- selecting the rows to pool --------------------------------------------------------------


@dataclass(frozen=True)
class Studies:
    """The rows of an effects frame, as arrays; ``reason`` is "" for rows that can be pooled."""

    keys: np.ndarray
    yi: np.ndarray
    vi: np.ndarray
    reason: np.ndarray
    measure: np.ndarray | None
    instrument: np.ndarray | None

    def take(self, positions: np.ndarray) -> Studies:
        return Studies(
            self.keys[positions], self.yi[positions], self.vi[positions], self.reason[positions],
            None if self.measure is None else self.measure[positions],
            None if self.instrument is None else self.instrument[positions],
        )

    @property
    def included(self) -> np.ndarray:
        return self.reason == ""


def _column_values(effects: pd.DataFrame, column: str) -> np.ndarray:
    return effects[column].to_numpy(dtype=object)


def as_studies(effects: pd.DataFrame) -> Studies:
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
    return Studies(keys, yi, vi, reason, measure, instrument)


def single_measure(studies: Studies) -> str:
    if studies.measure is None:
        return ""
    found = sorted({str(m) for m in studies.measure[studies.included] if not is_blank(m)})
    if len(found) > 1:
        raise StatisticsError(f"effects mix measures {found}: pool one measure at a time")
    return found[0] if found else ""


def check_instruments(studies: Studies, measure: str) -> None:
    # Mean differences on different scales cannot be pooled; MD100 and SMD put them on one scale.
    if measure != "MD" or studies.instrument is None:
        return
    found = sorted({str(x).strip().lower() for x in studies.instrument[studies.included] if not is_blank(x)})
    if len(found) > 1:
        raise StatisticsError(f"MD rows mix instruments ({', '.join(found)}): not pooled; use MD100 or SMD")


# --- pooling one set of studies --------------------------------------------------------------


def _pool(yi: np.ndarray, vi: np.ndarray, method: str, test: str, alpha: float,
          prediction: bool, heterogeneity_ci: bool = True, control: Control = DEFAULT_CONTROL) -> dict[str, Any]:
    """Pool one set of studies; return the numeric fields of MetaResult.

    ``test`` is metafor's name: ``z`` (Wald), ``knha`` (Hartung-Knapp-Sidik-Jonkman), ``t`` (t
    distribution, unscaled SE), ``adhoc`` (Knapp-Hartung with the scaling factor floored at 1).
    """
    k = len(yi)
    notes: list[str] = []
    w_fe = 1.0 / vi
    sw_fe = float(w_fe.sum())
    q = q_at(yi, vi, 0.0)
    tr_p = sw_fe - float(w_fe @ w_fe) / sw_fe
    if tr_p <= 1e-4 * sw_fe:                # one weight dwarfs the rest: without the cancellation
        tr_p = float(w_fe @ sum_of_others(w_fe)) / sw_fe
    typical_vi = (k - 1) / tr_p

    iterations, converged = 0, True
    if method == "FE":
        tau2 = 0.0
    elif method == "DL":
        tau2, note = tau2_dl(yi, vi, q, tr_p)
        notes.append(note)
    else:
        fit = tau2_reml(yi, vi, control) if method == "REML" else tau2_pm(yi, vi, q)
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
        scale = 1.0 if test == "t" else knha_scale(yi, w, np.full(k, estimate), k - 1, test)
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
            low, high, qp_notes = tau2_qprofile(yi, vi, q, alpha)
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


# --- public functions ------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    method: str
    ci_method: str
    alpha: float
    prediction: bool
    control: Control = DEFAULT_CONTROL

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


def _check_control(control: object) -> Control:
    if control is None:
        return Control()
    if not isinstance(control, Mapping):
        raise ValueError("The value for `control` must be a dict with keys among ['threshold', 'maxiter', "
                         f"'stepadj'], but {type(control).__name__} was passed.")
    for key in control:
        check_choice("control key", key, ["threshold", "maxiter", "stepadj"])
    threshold = control.get("threshold", REML_THRESHOLD)
    maxiter = control.get("maxiter", MAX_ITER)
    stepadj = control.get("stepadj", 1.0)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold < 1:
        raise ValueError(f"The value for `control['threshold']` must be a number between 0 and 1 (relative), "
                         f"but {threshold!r} was passed.")
    if isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
        raise ValueError(f"The value for `control['maxiter']` must be an integer >= 1, but {maxiter!r} was passed.")
    if isinstance(stepadj, bool) or not isinstance(stepadj, (int, float)) or not 0 < stepadj <= 1:
        raise ValueError(f"The value for `control['stepadj']` must be a number in (0, 1], but {stepadj!r} was passed.")
    return Control(float(threshold), int(maxiter), float(stepadj), given=True)


def resolve_options(method: str = "REML", ci: str | None = None, alpha: float | None = None, preset: str | None = None,
             prediction: bool = True, test: str | None = None, level: float | None = None,
             control: Mapping[str, Any] | None = None) -> Options:
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
    return Options(method, ci, resolved_alpha, bool(prediction), checked_control)


def _not_pooled(k: int) -> StatisticsError:
    return StatisticsError(f"k={k}: not pooled (a meta-analysis needs at least 2 usable studies)")


def _warn_if_not_converged(fit: dict[str, Any], method: str, k: int) -> None:
    # Said at once, and kept on the result (converged, iterations, note).
    unconverged = [note for note in fit["notes"] if note.startswith("Q-profile") and "did not converge" in note]
    if not fit["converged"]:
        unconverged.insert(0, next(note for note in fit["notes"] if "converge" in note))
    if unconverged:
        warnings.warn(f"{method} with k={k}: {'; '.join(unconverged)}", ConvergenceWarning, stacklevel=3)


def analyse(studies: Studies, options: Options, heterogeneity_ci: bool = True) -> MetaResult:
    included = studies.included
    k = int(included.sum())
    measure = single_measure(studies)
    if k < 2:
        raise _not_pooled(k)
    check_instruments(studies, measure)
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
    options = resolve_options(method, ci, alpha, preset, prediction, test, level, control)
    return analyse(as_studies(effects), options)


def check_columns(name: str, columns: str | Sequence[str] | None, effects: pd.DataFrame) -> list[str]:
    if columns is None:
        return []
    wanted = [columns] if isinstance(columns, str) else list(columns)
    for column in wanted:
        check_choice(name, column, list(effects.columns))
    return wanted


def split_groups(effects: pd.DataFrame, by: list[str]) -> list[tuple[tuple[Any, ...], np.ndarray]]:
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


def _empty_row(k: int, options: Options, measure: str, note: str, excluded: int = 0) -> dict[str, Any]:
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
    options = resolve_options(**meta_kwargs)
    columns = check_columns("by", by, effects)
    if not columns:
        raise ValueError("The value for `by` must name at least one column, but [] was passed.")
    studies = as_studies(effects)
    rows = []
    for labels, positions in split_groups(effects, columns):
        group = studies.take(positions)
        try:
            row = analyse(group, options)._row()
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
    options = resolve_options(**meta_kwargs)
    studies = as_studies(effects)
    measure = single_measure(studies)
    check_instruments(studies, measure)
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
