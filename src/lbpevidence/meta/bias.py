"""Small-study effects (funnel-plot asymmetry): Egger's regression test and Begg's rank correlation test.

Both as metafor computes them (``regtest()``, ``ranktest()``), and both only from ``min_k``
studies (Cochrane: 10); below that they say why they were not run instead of raising.

Examples
--------
>>> import pandas as pd
>>> few = pd.DataFrame({"yi": [-0.4, -0.2, -0.9], "vi": [0.02, 0.03, 0.04]})
>>> egger_test(few).reason, begg_test(few).reason
('Egger needs k >= 10 (k=3)', 'Begg needs k >= 10 (k=3)')
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from ..errors import check_choice
from .pooling import METHODS, as_studies, resolve_options, single_measure
from .regression import fit_regression

__all__ = ["BEGG_COLUMNS", "EGGER_COLUMNS", "EGGER_MODELS", "BeggResult", "EggerResult", "begg_test", "egger_test"]


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
    tau : float
        Kendall's tau between the standardised effects ``(yi - est_FE) / sqrt(vi - 1 / sum(1/vi))``
        and ``vi``, from ``k`` studies.
    p : float
        Two-sided p-value: exact (the null distribution of Kendall's statistic) or from the normal
        approximation with R's tie correction.
    statistic : float
        The number of concordant pairs ``T`` when exact, else the z statistic.
    exact : bool
        Whether ``p`` is exact.
    method, run, reason, measure : str, bool, str, str
        As for :class:`EggerResult`: what was computed, whether the test was run (and why
        not), the effect measure.
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
        options = resolve_options(method, ci, alpha, None, True, test, level, control)
        if ci is None and test is None:
            options = dataclasses.replace(options, ci_method="wald")
    else:
        options = resolve_options("FE", "wald", alpha, None, True, None, level, None)
        check_choice("method", method, METHODS)
    alpha = options.alpha
    _check_min_k(min_k)
    studies = as_studies(effects)
    measure = single_measure(studies)
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
        reg = fit_regression(yi, vi, design, options.method, options.test, options.control)
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
    effects, min_k : DataFrame, int
        As for :func:`egger_test`: the effects, and the fewest studies the test is run on.
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
    studies = as_studies(effects)
    measure = single_measure(studies)
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
