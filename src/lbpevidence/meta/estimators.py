"""The between-study variance tau² and its CI, as metafor estimates them, on numpy arrays.

``DL`` (DerSimonian-Laird, truncated at 0), ``REML`` (Fisher scoring, metafor's algorithm,
with a scale-free stop), ``PM`` (Paule-Mandel, root of the generalised Q) and the Q-profile CI
of tau² (metafor ``confint()``), plus the Knapp-Hartung scaling factor. Arrays in, floats
out: :mod:`lbpevidence.meta.pooling` and :mod:`lbpevidence.meta.regression` build on them.

Examples
--------
>>> import numpy as np
>>> yi, vi = np.array([-0.3, -0.1, -0.55, -0.2]), np.array([0.02, 0.03, 0.05, 0.01])
>>> round(q_at(yi, vi, 0.0), 4), tau2_reml(yi, vi).tau2
(2.9139, 0.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, special

from ..errors import StatisticsError

__all__ = [
    "DEFAULT_CONTROL",
    "MAX_ITER",
    "REML_THRESHOLD",
    "Control",
    "ConvergenceWarning",
    "Estimate",
    "brentq",
    "fisher_scoring",
    "knha_scale",
    "q_at",
    "sum_of_others",
    "tau2_dl",
    "tau2_pm",
    "tau2_qprofile",
    "tau2_reml",
]

# Tolerances of the iterative estimators, relative to the scale of the variances: metafor's
# defaults (1e-5 absolute) are too loose to compare at 1e-6.
REML_THRESHOLD = 1e-12
MAX_ITER = 1000


class ConvergenceWarning(UserWarning):
    """An iterative estimate (REML or PM tau², a Q-profile bound) did not converge."""


def q_at(yi: np.ndarray, vi: np.ndarray, tau2: float) -> float:
    """Generalised Q: sum of w (y - mu_w)² with w = 1 / (vi + tau2)."""
    w = 1.0 / (vi + tau2)
    mu = (w @ yi) / w.sum()
    r = yi - mu
    return float(w @ (r * r))


def brentq(f: Any, low: float, high: float, xtol: float) -> tuple[float, int, bool]:
    """Root of ``f`` in ``[low, high]``: ``(root, iterations, converged)``; never raises on a slow search."""
    root, info = optimize.brentq(f, low, high, xtol=xtol, rtol=4 * np.finfo(float).eps, maxiter=MAX_ITER,
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
    return brentq(lambda t: q_at(yi, vi, t) - target, 0.0, upper, 1e-14 * float(vi.min()))


def tau2_dl(yi: np.ndarray, vi: np.ndarray, q: float, tr_p: float) -> tuple[float, str]:
    k = len(yi)
    raw = (q - (k - 1)) / tr_p
    return (raw, "") if raw > 0 else (0.0, "DL tau² truncated at 0")


def tau2_pm(yi: np.ndarray, vi: np.ndarray, q: float) -> Estimate:
    k = len(yi)
    if q < k - 1:
        return Estimate(0.0, "", 0, True)
    tau2, iterations, converged = _q_root(yi, vi, k - 1)
    note = "" if converged else f"PM: the root search for tau² did not converge in {iterations} iterations"
    return Estimate(tau2, note, iterations, converged)


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
        s_others = sum_of_others(w)
        q_others = sum_of_others(ww)
        tr_p = float(w @ s_others) / sw
        tr_pp = float(ww @ (s_others * s_others + q_others)) / (sw * sw)
    return float(py @ py) - tr_p, tr_pp, tr_p


def sum_of_others(values: np.ndarray) -> np.ndarray:
    """``sum(values) - values[i]`` for each i, without the subtraction (prefix + suffix sums)."""
    before = np.concatenate([[0.0], np.cumsum(values[:-1])])
    after = np.concatenate([np.cumsum(values[::-1])[::-1][1:], [0.0]])
    return before + after


@dataclass(frozen=True)
class Estimate:
    """An estimate of tau² with how it was reached."""

    tau2: float
    note: str
    iterations: int
    converged: bool


@dataclass(frozen=True)
class Control:
    """Fisher scoring settings (metafor's ``control = list(threshold, maxiter, stepadj)``).

    ``threshold`` is relative (see :func:`fisher_scoring`); ``given`` is True when the caller set
    them, and then no fallback is tried when Fisher scoring does not converge (as metafor).
    """

    threshold: float = REML_THRESHOLD
    maxiter: int = MAX_ITER
    stepadj: float = 1.0
    given: bool = False


#: The settings used when the caller gives none.
DEFAULT_CONTROL = Control()


def fisher_scoring(score: Any, tau2: float, vmin: float, step_factor: float, threshold: float,
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


def tau2_reml(yi: np.ndarray, vi: np.ndarray, control: Control = DEFAULT_CONTROL) -> Estimate:
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
    tau2, iterations, converged = fisher_scoring(score, start, vmin, control.stepadj, control.threshold,
                                                  control.maxiter)
    if not converged and control.given:
        note = (f"REML: Fisher scoring did not converge in {iterations} iterations "
                f"(control: threshold = {control.threshold:g}, stepadj = {control.stepadj:g}); "
                f"tau² is the last iterate")
        return Estimate(tau2, note, iterations, False)
    for step_factor in (0.5, 0.25):
        if converged:
            break
        tau2, iterations, converged = fisher_scoring(score, start, vmin, step_factor, control.threshold,
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
    return Estimate(tau2, note, iterations, converged)


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
    return brentq(lambda t: _reml_score(yi, vi, t)[0], 0.0, upper, 1e-14 * float(vi.min()))


def tau2_qprofile(yi: np.ndarray, vi: np.ndarray, q: float, alpha: float) -> tuple[float, float, list[str]]:
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


def knha_scale(yi: np.ndarray, w: np.ndarray, fitted: np.ndarray, df: int, test: str) -> float:
    """The Knapp-Hartung scaling factor ``s² = sum(w r²) / df`` (floored at 1 for ``adhoc``)."""
    r = yi - fitted
    rss = float(w @ (r * r))
    # metafor's knha: no truncation of the scaling factor; an exact fit gives se = 0.
    scale = 0.0 if rss <= np.finfo(float).eps else rss / df
    return max(1.0, scale) if test == "adhoc" else scale
