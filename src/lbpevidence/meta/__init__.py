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

from .bias import BEGG_COLUMNS, EGGER_COLUMNS, BeggResult, EggerResult, begg_test, egger_test
from .estimators import ConvergenceWarning
from .pooling import (
    CI_METHODS,
    LEAVE_ONE_OUT_COLUMNS,
    METHODS,
    PRESETS,
    RESULT_COLUMNS,
    TESTS,
    MetaResult,
    leave_one_out,
    meta_analysis,
    meta_by,
)
from .subgroups import TAU2_MODELS, subgroup_differences

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
