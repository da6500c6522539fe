"""Mixed-effects meta-regression, as metafor's ``rma.uni`` with moderators.

:func:`fit_regression` is ``rma(yi, vi, mods = x, intercept = FALSE, method, test)``: tau² by
the same estimators as a pooled analysis, coefficients with their covariance (Knapp-Hartung
scaled for ``knha`` and ``adhoc``); :func:`wald_test` is metafor's omnibus test ``QM``. Used by
subgroup tests with a common tau² and by Egger's test in its ``rma`` form.

Examples
--------
>>> import numpy as np
>>> yi, vi = np.array([-0.1, -0.2, -0.6, -0.5]), np.array([0.01, 0.02, 0.01, 0.02])
>>> x = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
>>> fit = fit_regression(yi, vi, x, "FE", "z")
>>> np.round(fit.beta, 4).tolist(), round(wald_test(fit, np.array([[-1.0, 1.0]]), "z")[0], 4)
([-0.1333, -0.5667], 14.0833)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import special

from .estimators import DEFAULT_CONTROL, Control, ConvergenceWarning, Estimate, brentq, fisher_scoring, knha_scale

__all__ = ["Regression", "fit_regression", "wald_test"]


@dataclass(frozen=True)
class Regression:
    """A mixed-effects meta-regression fit: coefficients, their covariance (scaled as ``test``)."""

    beta: np.ndarray
    vb: np.ndarray
    tau2: float
    df: int                      # k - p, the t / F denominator df
    s2w: float                   # Knapp-Hartung scaling factor (1 for z and t)
    qe: float                    # residual heterogeneity Q (FE weights)
    estimate: Estimate


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


def _mr_tau2(yi: np.ndarray, vi: np.ndarray, x: np.ndarray, method: str, control: Control) -> Estimate:
    k, p = x.shape
    if method == "FE":
        return Estimate(0.0, "", 0, True)
    qe = _mr_q(yi, vi, x, 0.0)
    if method == "DL":
        tr_p = _mr_score(yi, vi, x, 0.0)[2]
        raw = (qe - (k - p)) / tr_p
        return Estimate(raw, "", 0, True) if raw > 0 else Estimate(0.0, "DL tau² truncated at 0", 0, True)
    if method == "PM":
        if qe < k - p:
            return Estimate(0.0, "", 0, True)
        resid = yi - x @ np.linalg.lstsq(x, yi, rcond=None)[0]
        upper = 1.01 * float(resid @ resid) / (k - p) + float(vi.max())
        tau2, iterations, converged = brentq(lambda t: _mr_q(yi, vi, x, t) - (k - p), 0.0, upper,
                                             1e-14 * float(vi.min()))
        note = "" if converged else f"PM: the root search for tau² did not converge in {iterations} iterations"
        return Estimate(tau2, note, iterations, converged)
    # REML, from the Hedges estimate as metafor: (RSS_ols - tr(P_ols V)) / (k - p), floored at 0
    xtx_inv = np.linalg.inv(x.T @ x)
    resid = yi - x @ (xtx_inv @ (x.T @ yi))
    tr_pv = float(vi.sum() - np.trace(xtx_inv @ (x.T @ (x * vi[:, None]))))
    start = max(0.0, (float(resid @ resid) - tr_pv) / (k - p))
    tau2, iterations, converged = fisher_scoring(lambda t: _mr_score(yi, vi, x, t), start, float(vi.min()),
                                                  control.stepadj, control.threshold, control.maxiter)
    note = "" if converged else f"REML: Fisher scoring did not converge in {iterations} iterations"
    return Estimate(tau2, note, iterations, converged)


def fit_regression(yi: np.ndarray, vi: np.ndarray, x: np.ndarray, method: str, test: str,
                control: Control = DEFAULT_CONTROL) -> Regression:
    """metafor's ``rma(yi, vi, mods = x, intercept = FALSE, method, test)``."""
    k, p = x.shape
    fit = _mr_tau2(yi, vi, x, method, control)
    if not fit.converged:
        warnings.warn(f"{method} meta-regression with k={k}: {fit.note}", ConvergenceWarning, stacklevel=3)
    w, a, beta, _ = _mr_residuals(yi, vi, x, fit.tau2)
    s2w = 1.0
    if test in ("knha", "adhoc"):
        s2w = knha_scale(yi, w, x @ beta, k - p, test)
    return Regression(beta, s2w * a, fit.tau2, k - p, s2w, _mr_q(yi, vi, x, 0.0), fit)


def wald_test(reg: Regression, contrast: np.ndarray, test: str) -> tuple[float, float, float]:
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
