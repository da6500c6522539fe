"""lbpevidence: the evidence for non-surgical, non-drug care of low back pain, reviewed.

The public API, re-exported here: a table in this module maps each public name to the
module that defines it, and the name is imported on first use, so ``import lbpevidence``
(and the ``lbpevidence validate`` command, whose results are cached by content) stays
fast and light: it imports nothing of the package until a name is asked for.

>>> import lbpevidence as lbp
>>> refs = lbp.read_references()          # the bundled refs/studies.bib
>>> len(refs) > 0
True
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it (imported on first use: `import lbpevidence` imports nothing else)
_LAZY = {
    "bundled_refs": "paths",
    "LbpEvidenceError": "errors",
    "ReferenceTableError": "errors",
    "OutcomeTableError": "errors",
    "ClaimsTableError": "errors",
    "StatisticsError": "errors",
    "Problem": "errors",
    "read_references": "references",
    "read_outcomes": "outcomes",
    "effect_sizes": "effects",
    "meta_analysis": "meta",
    "meta_by": "meta",
    "leave_one_out": "meta",
    "egger_test": "meta",
    "begg_test": "meta",
    "subgroup_differences": "meta",
    "MetaResult": "meta",
    "EggerResult": "meta",
    "grade": "grading",
    "GradeRules": "grading",
    "summary_of_findings": "grading",
    "read_claims": "claims",
    "audit_citations": "citations",
    "check_claims": "claims",
    "AuditResult": "citations",
    "AuditThresholds": "citations",
    "ClaimRules": "claims",
    "read_overrides": "overrides",
    "headline": "evidence",
    "answers": "evidence",
    "judge_effect": "grading",
    "risk_of_bias_table": "grading",
    "compare_reviews": "review",
    "coverage": "review",
    "import_records": "importers",
    "load_review": "review",
    "Review": "review",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lbpevidence' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
