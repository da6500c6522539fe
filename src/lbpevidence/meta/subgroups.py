"""Subgroup differences: does the pooled effect differ between subgroups?

With a tau² per subgroup (RevMan's test) or one common tau² (metafor's ``rma(mods = )``);
see :func:`subgroup_differences`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from ..errors import StatisticsError, check_choice
from .estimators import q_at
from .pooling import (
    Options,
    Studies,
    analyse,
    as_studies,
    check_columns,
    check_instruments,
    resolve_options,
    single_measure,
    split_groups,
)
from .regression import fit_regression, wald_test

__all__ = ["TAU2_MODELS", "subgroup_differences"]


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
    options = resolve_options(**meta_kwargs)
    check_choice("tau2", tau2, TAU2_MODELS)
    check_choice("subgroup", subgroup, list(effects.columns))
    within_columns = check_columns("within", within, effects)
    studies = as_studies(effects)
    out_columns = [*within_columns, "subgroup", "n_subgroups", "subgroups", "q_between", "df", "p",
                   "i2_between", "note", "tau2_model", "tau2", "df2"]
    rows = []
    for labels, positions in split_groups(effects, within_columns):
        part = effects.iloc[positions]
        row: dict[str, Any] = dict(zip(within_columns, labels, strict=True))
        if tau2 == "common":
            row.update(_common_tau2_test(studies, positions, part, subgroup, options))
        else:
            row.update(_separate_tau2_test(studies, positions, part, subgroup, options))
        row.update(subgroup=subgroup, tau2_model=tau2)
        rows.append(row)
    return pd.DataFrame(rows, columns=out_columns)


def _separate_tau2_test(studies: Studies, positions: np.ndarray, part: pd.DataFrame, subgroup: str,
                        options: Options) -> dict[str, Any]:
    estimates, ses, described, notes = [], [], [], []
    for level, level_positions in split_groups(part, [subgroup]):
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
                result = analyse(group, options, heterogeneity_ci=False)
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
        q_between = q_at(est_arr, se_arr**2, 0.0)
        df = len(estimates) - 1
        row.update(q_between=q_between, df=df, p=float(special.chdtrc(df, q_between)),
                   i2_between=max(0.0, 100 * (q_between - df) / q_between) if q_between > 0 else 0.0)
    row["note"] = "; ".join(notes)
    return row


def _common_tau2_test(studies: Studies, positions: np.ndarray, part: pd.DataFrame, subgroup: str,
                      options: Options) -> dict[str, Any]:
    notes: list[str] = []
    names, members = [], []
    for level, level_positions in split_groups(part, [subgroup]):
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
    measure = single_measure(group)
    check_instruments(group, measure)
    x = np.zeros((k, g))
    start = 0
    for j, m in enumerate(members):
        x[start:start + len(m), j] = 1.0
        start += len(m)
    reg = fit_regression(group.yi, group.vi, x, options.method, options.test, options.control)
    contrast = np.hstack([-np.ones((g - 1, 1)), np.eye(g - 1)])      # each level against the first
    statistic, p, df2 = wald_test(reg, contrast, options.test)
    se = np.sqrt(np.diag(reg.vb))
    described = [f"{name} (k={len(m)}, {b:.4g}, SE {s:.4g})"
                 for name, m, b, s in zip(names, members, reg.beta, se, strict=True)]
    notes.extend(note for note in (reg.estimate.note,) if note)
    row.update(subgroups="; ".join(described), q_between=statistic, df=g - 1, p=p, tau2=reg.tau2, df2=df2,
               note="; ".join(notes))
    return row
