"""Controlled vocabularies: the only words refs/ may use for evidence fields.

Each vocabulary maps a canonical term (lower case, hyphenated) to a record that
explains it. Synonyms let a researcher write ``chiropractic`` or ``MBSR``; the
loader stores the canonical term. :func:`resolve` turns a raw value into a term
or a did-you-mean suggestion, which is what the validators report.

Facts in this module (MeSH descriptor ids, scale ranges, minimal important
differences) carry the source they were read from, like the rows of refs/.

It also words what readers see: the verdicts and certainty levels, every table heading
(:func:`column_label`), and every number (:func:`number_text`, :func:`interval_text`,
:func:`certainty_text`), for the report's tables and figures and for ``lbpevidence summary``.

Examples
--------
>>> resolve("modality", "Chiropractic")
('spinal-manipulation', None)
>>> resolve("modality", "acupunture")
(None, 'acupuncture')
>>> INSTRUMENTS["rmdq-24"].scale_max
24
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

__all__ = [
    "BASIS_LABELS",
    "CERTAINTY_LEVELS",
    "CERTAINTY_VERBS",
    "COLUMN_LABELS",
    "COMPARATORS",
    "COMPARISON_LABELS",
    "DATA_TYPES",
    "DESIGNS",
    "EFFECT_TYPES",
    "FINDINGS",
    "GRADE_DOMAINS",
    "INSTRUMENTS",
    "MEASURE_LABELS",
    "MID_RULE",
    "MID_SOURCE",
    "MODALITIES",
    "OUTCOMES",
    "OUTCOME_MIDS",
    "OUTCOME_WORDS",
    "POPULATIONS",
    "POPULATION_GROUPS",
    "POPULATION_GROUP_LABELS",
    "ROB_JUDGEMENTS",
    "SIGN_CONVENTIONS",
    "TIME_WINDOWS",
    "TYPICAL_SD_0_100",
    "TYPICAL_SD_SOURCE",
    "VERDICTS",
    "WINDOW_LABELS",
    "Comparator",
    "Design",
    "Instrument",
    "Modality",
    "Term",
    "TimeWindow",
    "Verdict",
    "certainty_text",
    "column_label",
    "interval_text",
    "mid_for",
    "number_text",
    "resolve",
    "scale_limit",
    "statement",
    "time_window",
    "to_0_100",
    "vocabulary",
]


@dataclass(frozen=True)
class Term:
    """A controlled term with a human label and optional synonyms."""

    term: str
    label: str
    description: str = ""
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Modality(Term):
    """A treatment modality, tied to its MeSH descriptor where one exists.

    ``mesh_id`` is ``None`` where no MeSH descriptor matches the modality or where
    the id could not be verified; ``mesh_source`` names the page it was read from.
    """

    mesh_id: str | None = None
    mesh_heading: str | None = None
    mesh_source: str | None = None
    in_article: bool = True


@dataclass(frozen=True)
class Design(Term):
    """A study design; ``level`` says how the evidence is used.

    ``trial`` rows are pooled; ``review`` rows are published pooled estimates,
    shown beside ours but never re-pooled (that would count trials twice);
    ``guideline`` and ``observational`` entries inform study-level verdicts only.
    """

    level: str = "trial"
    randomised: bool = False


@dataclass(frozen=True)
class Comparator(Term):
    """A control condition; ``comparator_class`` is what pooled analyses group by."""

    comparator_class: str = "active"


@dataclass(frozen=True)
class Instrument(Term):
    """An outcome measure with its scale.

    ``lower_is_better`` fixes the direction: effect sizes are oriented so that a
    negative value favours the intervention. ``kind`` is ``continuous``,
    ``binary`` (events / proportions, pooled as RR or OR) or ``standardised``
    (values already in SD units). ``mid`` is the minimal important difference on
    the instrument's own scale, with ``mid_source``.
    """

    outcome: str = "pain"
    kind: str = "continuous"
    scale_min: float | None = None
    scale_max: float | None = None
    lower_is_better: bool = True
    mid: float | None = None
    mid_source: str | None = None

    @property
    def scale_range(self) -> float | None:
        """Width of the scale, or ``None`` for unbounded or standardised measures."""
        if self.scale_min is None or self.scale_max is None:
            return None
        return self.scale_max - self.scale_min


@dataclass(frozen=True)
class TimeWindow(Term):
    """Follow-up window in weeks: ``lower < weeks <= upper``."""

    lower: float = 0.0
    upper: float = float("inf")


def _index(*terms: Term) -> dict[str, Term]:
    return {t.term: t for t in terms}


MESH_BROWSER = "https://meshb.nlm.nih.gov/record/ui?ui="

# MeSH ids: filled only where the descriptor page was seen (see mesh_source).
MODALITIES: dict[str, Modality] = _index(
    Modality("exercise", "Exercise therapy", "Structured exercise, including physical therapy programmes.",
             ("exercise therapy", "physical therapy", "physiotherapy", "exercise-therapy")),
    Modality("lumbar-extension-machine", "Lumbar extension machine (MedX)",
             "Isolated lumbar extension resistance training on a machine that fixes the pelvis.",
             ("medx", "ilex", "isolated lumbar extension", "lumbar extension")),
    Modality("motor-control-exercise", "Motor control / stabilising exercise",
             "Exercise retraining deep trunk muscles (transversus abdominis, multifidus).",
             ("motor control", "stabilisation exercise", "stabilization exercise", "core stability")),
    Modality("acupuncture", "Acupuncture", "Needling of acupuncture points, including dry needling.",
             ("acupuncture therapy", "dry needling")),
    Modality("spinal-manipulation", "Spinal manipulation / chiropractic",
             "High-velocity thrust manipulation or mobilisation of the spine, by any profession.",
             ("chiropractic", "spinal manipulative therapy", "smt", "manipulation", "chiropractic care")),
    Modality("yoga", "Yoga"),
    Modality("tai-chi", "Tai chi", synonyms=("tai ji", "taichi", "qigong")),
    Modality("mindfulness", "Mindfulness-based stress reduction",
             synonyms=("mbsr", "mindfulness-based stress reduction", "mindfulness based stress reduction")),
    Modality("massage", "Massage", synonyms=("massage therapy", "soft tissue massage")),
    Modality("biofeedback", "Biofeedback", "EMG biofeedback and related relaxation training.",
             ("emg biofeedback", "biofeedback, psychology")),
    Modality("heat", "Superficial heat", synonyms=("heat wrap", "heat therapy", "superficial heat")),
    Modality("cold", "Superficial cold (ice)", synonyms=("ice", "cold therapy", "cryotherapy")),
    Modality("muscle-relaxants", "Muscle relaxants",
             "The one drug class the article names; kept for its 72-hour claim.",
             ("muscle relaxant", "skeletal muscle relaxants", "antispasmodics")),
    Modality("stay-active", "Advice to stay active (vs bed rest)",
             synonyms=("staying active", "bed rest", "advice to stay active", "ordinary activity")),
    Modality("mattress", "Mattress firmness", synonyms=("medium-firm mattress", "beds")),
    Modality("foam-rolling", "Foam rolling", synonyms=("foam roller", "foam rollers", "self-myofascial release")),
    Modality("multidisciplinary", "Multidisciplinary / multimodal care", in_article=False,
             synonyms=("multimodal", "multidisciplinary rehabilitation")),
)

DESIGNS: dict[str, Design] = _index(
    Design("rct", "Randomised controlled trial", level="trial", randomised=True,
           synonyms=("randomised controlled trial", "randomized controlled trial", "randomized trial")),
    Design("non-randomised", "Non-randomised controlled study or cohort", level="observational",
           synonyms=("cohort", "controlled study", "nonrandomised", "case series")),
    Design("systematic-review", "Systematic review (with or without meta-analysis)", level="review",
           synonyms=("meta-analysis", "systematic review", "cochrane review")),
    Design("ipd-meta-analysis", "Individual patient data meta-analysis", level="review"),
    Design("network-meta-analysis", "Network meta-analysis", level="review", synonyms=("nma",)),
    Design("narrative-review", "Narrative review", level="review"),
    Design("guideline", "Clinical practice guideline", level="guideline"),
)

POPULATIONS: dict[str, Term] = _index(
    Term("acute", "Acute low back pain (under 6 weeks)"),
    Term("subacute", "Subacute low back pain (6-12 weeks)"),
    Term("acute-subacute", "Acute or subacute low back pain"),
    Term("chronic", "Chronic low back pain (12 weeks or more)", synonyms=("persistent",)),
    Term("mixed", "Mixed or unrestricted duration"),
    Term("not-reported", "Duration not reported"),
)

# Populations are recorded with the terms above and grouped for analysis: acute and subacute pain
# together (as the Cochrane Back and Neck reviews pool them), chronic, and mixed or unreported
# durations. An analysis never pools across groups, and a claim about acute pain is never judged
# on chronic-pain evidence.
POPULATION_GROUPS: dict[str, str] = {
    "acute": "acute", "subacute": "acute", "acute-subacute": "acute",
    "chronic": "chronic",
    "mixed": "mixed", "not-reported": "mixed",
}
POPULATION_GROUP_LABELS: dict[str, str] = {
    "acute": "acute or subacute", "chronic": "chronic", "mixed": "mixed or not reported", "any": "any duration",
}

COMPARATORS: dict[str, Comparator] = _index(
    Comparator("sham", "Sham or simulated treatment", comparator_class="sham",
               synonyms=("simulated", "placebo needling", "sham acupuncture")),
    Comparator("placebo", "Placebo (pill or inert device)", comparator_class="sham"),
    Comparator("usual-care", "Usual care", comparator_class="inactive", synonyms=("usual care", "routine care")),
    Comparator("no-treatment", "No treatment", comparator_class="inactive", synonyms=("no intervention",)),
    Comparator("waitlist", "Waiting list", comparator_class="inactive", synonyms=("wait list", "wait-list")),
    Comparator("minimal-care", "Minimal care: education, booklet or advice", comparator_class="inactive",
               synonyms=("education", "booklet", "self-care book", "advice")),
    Comparator("other-exercise", "Another exercise programme", comparator_class="active",
               synonyms=("stretching", "exercise")),
    Comparator("other-therapy", "Another active treatment", comparator_class="active",
               synonyms=("active", "physical therapy comparator", "conventional therapy")),
    Comparator("medication", "Medication", comparator_class="active", synonyms=("drugs", "nsaid")),
    Comparator("bed-rest", "Bed rest", comparator_class="active"),
    Comparator("mixed", "Mixed comparators (reviews)", comparator_class="mixed"),
    Comparator("none", "No comparison (guidelines, single-arm studies)", comparator_class="none"),
)

COMPARATOR_CLASSES: dict[str, str] = {
    "sham": "sham or placebo",
    "inactive": "usual care, no treatment, waitlist or minimal care",
    "active": "another active treatment",
    "mixed": "mixed comparators",
    "none": "no comparison",
}

FINDINGS: dict[str, Term] = _index(
    Term("benefit", "Authors report a clinically important benefit"),
    Term("small-benefit", "Authors report a benefit that is small or below clinical importance"),
    Term("no-difference", "No difference from the comparator", synonyms=("no-benefit", "no effect")),
    Term("harm", "Authors report harm or worse outcomes"),
    Term("mixed", "Benefit on some outcomes or time points only"),
    Term("inconclusive", "Too little or too poor evidence to conclude", synonyms=("insufficient",)),
    Term("recommended", "Guideline recommends it"),
    Term("not-recommended", "Guideline recommends against it"),
)

ROB_JUDGEMENTS: dict[str, Term] = _index(
    Term("low", "Low risk of bias"),
    Term("some-concerns", "Some concerns (RoB 2)", synonyms=("some concerns", "moderate")),
    Term("high", "High risk of bias"),
    Term("unclear", "Unclear risk of bias (RoB 1)"),
)

OUTCOMES: dict[str, Term] = _index(
    Term("pain", "Pain intensity", synonyms=("pain intensity", "bothersomeness")),
    Term("disability", "Back-related disability / function", synonyms=("function", "functional status")),
    Term("responder", "Responders (a pre-defined improvement)", synonyms=("response", "clinical response")),
    Term("recurrence", "Recurrence of low back pain"),
    Term("global-improvement", "Global perceived improvement"),
    Term("quality-of-life", "Health-related quality of life"),
    Term("adverse-events", "Adverse events", synonyms=("harms", "side effects")),
    Term("medication-use", "Use of pain medication"),
)

# Scale ranges are properties of the instruments; MIDs are filled only with a seen source.
INSTRUMENTS: dict[str, Instrument] = _index(
    Instrument("pain-0-100", "Pain, 0-100 (VAS mm or NRS x10)", outcome="pain", scale_min=0, scale_max=100),
    Instrument("pain-0-10", "Pain, 0-10 (NRS or VAS cm)", outcome="pain", scale_min=0, scale_max=10),
    Instrument("bothersomeness-0-10", "Symptom bothersomeness, 0-10", outcome="pain", scale_min=0, scale_max=10),
    Instrument("pain-relief-0-5", "Pain relief, 0-5 (higher = more relief)", outcome="pain",
               scale_min=0, scale_max=5, lower_is_better=False),
    Instrument("pain-smd", "Pain, standardised (SD units)", outcome="pain", kind="standardised"),
    Instrument("sf36-bodily-pain", "SF-36 bodily pain, 0-100 (higher = less pain)", outcome="pain",
               scale_min=0, scale_max=100, lower_is_better=False),
    Instrument("rmdq-24", "Roland-Morris Disability Questionnaire, 0-24", outcome="disability",
               scale_min=0, scale_max=24),
    Instrument("rmdq-23", "Modified Roland-Morris, 0-23", outcome="disability", scale_min=0, scale_max=23),
    Instrument("odi-0-100", "Oswestry Disability Index, 0-100", outcome="disability", scale_min=0, scale_max=100),
    Instrument("function-0-100", "Function, 0-100 (higher = worse)", outcome="disability",
               scale_min=0, scale_max=100),
    Instrument("hfaq-0-100", "Hanover Functional Ability Questionnaire, 0-100 (higher = better)",
               outcome="disability", scale_min=0, scale_max=100, lower_is_better=False),
    Instrument("disability-smd", "Disability, standardised (SD units)", outcome="disability", kind="standardised"),
    Instrument("responders", "Responders, events/participants", outcome="responder", kind="binary",
               lower_is_better=False),
    Instrument("recurrences", "Recurrences, events/participants", outcome="recurrence", kind="binary"),
    Instrument("adverse-events", "Participants with adverse events", outcome="adverse-events", kind="binary"),
    Instrument("global-improvement-smd", "Global improvement, standardised", outcome="global-improvement",
               kind="standardised", lower_is_better=False),
)

# Minimal important differences between groups, on a 0-100 scale, per outcome. The thresholds
# Hayden et al. set in advance for the Cochrane exercise review (CD009790.pub2): a difference of
# 15 points in pain and 10 points in functional limitation counts as clinically important.
MID_SOURCE = ("Hayden JA et al. Exercise therapy for chronic low back pain. Cochrane Database Syst Rev 2021, "
              "CD009790.pub2, doi:10.1002/14651858.CD009790.pub2; Methods (Data collection and analysis), read on "
              "https://cochranelibrary.com/cdsr/doi/10.1002/14651858.CD009790.pub2/full/zh_HANS")
OUTCOME_MIDS: dict[str, float] = {"pain": 15.0, "disability": 10.0}

# Typical between-person SDs on 0-100 scales, used only to re-express an SMD in familiar units
# (SMD x typical SD): the control-group SDs of the Cochrane massage review's summary-of-findings
# table 2 (pain 26.7, function 17.7; Furlan 2015, CD001929.pub3).
TYPICAL_SD_SOURCE = ("Furlan AD et al. Massage for low-back pain. Cochrane Database Syst Rev 2015, CD001929.pub3, "
                     "summary of findings table 2, control-group SDs; "
                     "https://pmc.ncbi.nlm.nih.gov/articles/PMC8734598/table/CD001929-tbl-0002")
TYPICAL_SD_0_100: dict[str, float] = {"pain": 26.7, "disability": 17.7}


# Follow-up windows: a fixed project convention. Cochrane Back and Neck reviews use similar
# windows (CD009365.pub2 abstract, http://47.251.13.51:8081/37646368: short term "within three
# months"), but definitions vary between reviews. Upper bounds sit just above 3 and 12 months
# (13.1 and 52.2 weeks) so that "3 months" and "12 months" converted at 4.345 weeks per month
# (13.035 and 52.14 weeks) stay in the window the source meant.
def _with_mids(instruments: dict[str, Instrument]) -> dict[str, Instrument]:
    """Give each bounded continuous instrument the outcome MID rescaled to its own range."""
    import dataclasses

    out = {}
    for term, inst in instruments.items():
        if inst.kind == "continuous" and inst.scale_range and inst.outcome in OUTCOME_MIDS and inst.mid is None:
            mid = OUTCOME_MIDS[inst.outcome] * inst.scale_range / 100
            inst = dataclasses.replace(inst, mid=mid, mid_source=f"{MID_SOURCE}; rescaled from 0-100")
        out[term] = inst
    return out


INSTRUMENTS = _with_mids(INSTRUMENTS)

TIME_WINDOWS: dict[str, TimeWindow] = _index(
    TimeWindow("immediate", "Immediate (up to 1 week)", lower=-1.0, upper=1.0),
    TimeWindow("short-term", "Short term (over 1 week to 3 months)", lower=1.0, upper=13.1),
    TimeWindow("intermediate", "Intermediate (over 3 to 12 months)", lower=13.1, upper=52.2),
    TimeWindow("long-term", "Long term (over 12 months)", lower=52.2, upper=float("inf")),
    # For published estimates whose source gives no follow-up time; never derived from weeks.
    TimeWindow("unspecified", "Follow-up not stated by the source", lower=float("nan"), upper=float("nan")),
)

DATA_TYPES: dict[str, Term] = _index(
    Term("final", "Arm means are final values at follow-up"),
    Term("change", "Arm means are changes from baseline"),
    Term("reported-effect", "A between-group effect as reported by the source (estimate + CI or SE)"),
    Term("events", "Arm event counts for a binary outcome"),
)

EFFECT_TYPES: dict[str, Term] = _index(
    Term("MD", "Mean difference on the instrument scale"),
    Term("SMD", "Standardised mean difference (Hedges' g or as reported)"),
    Term("RR", "Risk ratio"),
    Term("OR", "Odds ratio"),
    Term("RD", "Risk difference (proportion, -1 to 1)"),
)

SIGN_CONVENTIONS: dict[str, Term] = _index(
    Term("scale", "Numbers follow the instrument's scale: differences are intervention minus control, "
                  "changes are follow-up minus baseline, ratios are intervention over control"),
    Term("improvement", "The source reports improvement as positive (e.g. 'improved by 4.4 points', "
                        "'2.9 points lower than usual care' written as 2.9)"),
)

_VOCABULARIES: dict[str, dict[str, Term]] = {
    "modality": MODALITIES,
    "design": DESIGNS,
    "population": POPULATIONS,
    "comparator": COMPARATORS,
    "finding": FINDINGS,
    "rob": ROB_JUDGEMENTS,
    "outcome": OUTCOMES,
    "instrument": INSTRUMENTS,
    "data_type": DATA_TYPES,
    "effect_type": EFFECT_TYPES,
    "sign_convention": SIGN_CONVENTIONS,
}


def vocabulary(kind: str) -> dict[str, Term]:
    """Return the vocabulary for ``kind`` (``modality``, ``design``, ...)."""
    try:
        return _VOCABULARIES[kind]
    except KeyError:
        raise ValueError(
            f"The value for `kind` must be one of {sorted(_VOCABULARIES)}, but {kind!r} was passed."
        ) from None


def _key(text: str) -> str:
    return " ".join(text.strip().lower().replace("_", " ").replace("-", " ").split())


_LOOKUP: dict[str, dict[str, str]] = {}
for _kind, _vocab in _VOCABULARIES.items():
    table: dict[str, str] = {}
    for _t in _vocab.values():
        table[_key(_t.term)] = _t.term
        for _s in _t.synonyms:
            table[_key(_s)] = _t.term
    _LOOKUP[_kind] = table


def resolve(kind: str, value: str, suggest: bool = True) -> tuple[str | None, str | None]:
    """Map ``value`` to a canonical term of vocabulary ``kind``.

    Returns ``(term, None)`` on a match (case, hyphens and synonyms ignored) and
    ``(None, suggestion)`` otherwise, where ``suggestion`` is the closest term or
    ``None`` when nothing is close (or ``suggest`` is False: the search for a
    suggestion is the slow part, and callers that only want the term skip it).

    Examples
    --------
    >>> resolve("comparator", "Sham acupuncture")
    ('sham', None)
    >>> resolve("design", "RCT")
    ('rct', None)
    >>> resolve("finding", "miracle")
    (None, None)
    """
    vocab = vocabulary(kind)
    table = _LOOKUP[kind]
    found = table.get(_key(value))
    if found is not None or not suggest:
        return found, None
    close = difflib.get_close_matches(_key(value), list(table), n=1, cutoff=0.6)
    if close:
        return None, table[close[0]]
    close = difflib.get_close_matches(value.strip().lower(), list(vocab), n=1, cutoff=0.6)
    return None, (close[0] if close else None)


def time_window(weeks: float) -> str:
    """Name the follow-up window for ``weeks`` after randomisation.

    Windows are a project convention close to Cochrane Back and Neck reviews:
    immediate (up to 1 week), short term (to 3 months), intermediate (to 12
    months), long term (beyond); see :data:`TIME_WINDOWS`.

    Examples
    --------
    >>> time_window(8)
    'short-term'
    >>> time_window(52), time_window(3 * 4.345), time_window(12 * 4.345)
    ('intermediate', 'short-term', 'intermediate')
    """
    for window in TIME_WINDOWS.values():
        if window.lower < weeks <= window.upper:
            return window.term
    raise ValueError(f"The value for `weeks` must be a number above -1, but {weeks!r} was passed.")



# --- the words of the answer: verdicts, certainty, and the scales they are judged on ---------------------
#
# One vocabulary for every place that says what the evidence shows: the verdict column of each table,
# the plain-language sentence beside it (GRADE's "results in / probably / may / very uncertain"), the
# claim audit and the report. Nothing else defines these words.

#: GRADE certainty levels, best first: ``CERTAINTY_LEVELS[-level]`` names GRADE level 4 (high) to 1 (very low).
CERTAINTY_LEVELS: tuple[str, ...] = ("high", "moderate", "low", "very low")

#: The GRADE domains for which the certainty of evidence is rated down (refs/overrides.csv ``domain``).
GRADE_DOMAINS: tuple[str, ...] = ("risk_of_bias", "inconsistency", "imprecision", "publication_bias", "indirectness")

#: How a GRADE plain-language statement begins at each certainty level: GRADE guidelines 26 (Santesso
#: et al., J Clin Epidemiol 2020;119:126-135, PMID 31711912; abstract read on
#: https://pubmed.ncbi.nlm.nih.gov/31711912/) words a high, moderate and low certainty effect as
#: "x results in", "x likely results in" and "x may result in"; we write the moderate level as
#: "probably results in", a synonym, and very low certainty as "very uncertain", without a direction.
#: ``{m}`` is the treatment, ``{o}`` the outcome noun.
CERTAINTY_VERBS: dict[str, str] = {
    "high": "{m} results in",
    "moderate": "{m} probably results in",
    "low": "{m} may result in",
    "very low": "The evidence is very uncertain about the effect of {m} on {o}",
}


@dataclass(frozen=True)
class Verdict(Term):
    """What an effect estimate shows, judged against no effect and the minimal important difference.

    ``direction`` is ``benefit``, ``harm``, ``none`` (no important difference) or ``unknown``;
    ``effect`` is the noun phrase of the plain-language sentence, with ``{benefit}`` and ``{harm}``
    standing for the outcome's words (``a reduction in pain``, ``an increase in pain``); ``quantified``
    is False for verdicts that rest on the studies' conclusions or on no comparison at all.
    """

    direction: str = "unknown"
    effect: str = ""
    quantified: bool = True


def _on_the_comparators_side(benefit: Verdict) -> Verdict:
    """The harm verdict that mirrors a benefit verdict: the same thresholds, on the comparator's side."""

    def swap(text: str) -> str:
        return text.replace("benefit", "harm").replace("Benefit", "Harm").replace("the treatment", "the comparator")

    return replace(benefit, term=swap(benefit.term), label=swap(benefit.label),
                   description=swap(benefit.description), direction="harm", effect=swap(benefit.effect))


# Benefit and harm are judged alike (judge_effect mirrors every threshold), so the harm verdicts are
# written once, as mirrors of the benefit ones.
_BENEFITS = (
    Verdict("important benefit", "Important benefit",
            "The whole CI lies beyond the minimal important difference, on the side of the treatment.",
            direction="benefit", effect="an important {benefit}"),
    Verdict("benefit, possibly important", "Benefit, possibly important",
            "The CI excludes no effect, on the side of the treatment, and crosses the minimal important "
            "difference: a benefit of uncertain importance.", direction="benefit",
            effect="a {benefit} that may or may not be important"),
    Verdict("benefit below MID", "Small benefit (below the MID)",
            "The CI excludes no effect, on the side of the treatment, and lies short of the minimal important "
            "difference.", direction="benefit",
            effect="a slight {benefit}, smaller than the minimal important difference"),
)
_NO_MID = Verdict("benefit, size not judged", "Benefit (no MID to judge its size)",
                  "The CI excludes no effect on the side of the treatment; no minimal important difference is "
                  "defined for this measure.", direction="benefit", effect="a {benefit} of unknown importance")

VERDICTS: dict[str, Verdict] = _index(
    *_BENEFITS,
    Verdict("no important difference", "No important difference",
            "The CI includes no effect and lies within the minimal important difference on both sides.",
            direction="none", effect="little or no difference in {outcome}"),
    *map(_on_the_comparators_side, reversed(_BENEFITS)),
    Verdict("insufficient evidence", "Insufficient evidence",
            "The CI includes no effect and an important effect (or there is no usable estimate): the evidence "
            "cannot tell whether the treatment helps.", direction="unknown", effect=""),
    _NO_MID,
    _on_the_comparators_side(_NO_MID),
    Verdict("benefit reported, not quantified", "Benefit reported, not quantified",
            "No estimate could be pooled; most studies or reviews conclude that the treatment helps.",
            direction="benefit", quantified=False),
    Verdict("no benefit reported", "No benefit reported",
            "No estimate could be pooled; most studies or reviews conclude that it does not help.",
            direction="none", quantified=False),
    Verdict("no comparative estimate", "No comparative estimate",
            "Only changes within the treated group were reported; without a control group they cannot show "
            "what the treatment adds to recovery, placebo or regression to the mean.",
            direction="unknown", quantified=False),
)

#: Words for each outcome in sentences: the benefit, the harm, and the outcome noun.
OUTCOME_WORDS: dict[str, tuple[str, str, str]] = {
    "pain": ("reduction in pain", "increase in pain", "pain"),
    "disability": ("reduction in back-related disability", "increase in back-related disability",
                   "back-related disability"),
    "responder": ("increase in the chance of improving", "decrease in the chance of improving",
                  "the chance of improving"),
    "recurrence": ("reduction in recurrences", "increase in recurrences", "recurrences"),
    "global-improvement": ("improvement in global rating", "worsening in global rating", "global rating"),
    "quality-of-life": ("improvement in quality of life", "worsening in quality of life", "quality of life"),
    "adverse-events": ("reduction in adverse events", "increase in adverse events", "adverse events"),
    "medication-use": ("reduction in medication use", "increase in medication use", "medication use"),
}

#: Short names of the comparator classes, for tables, figures and sentences.
COMPARISON_LABELS: dict[str, str] = {
    "inactive": "usual care / no treatment", "sham": "sham or placebo", "active": "other active treatment",
    "mixed": "no treatment, usual care or placebo (mixed)", "none": "no control group", "any": "any comparator",
}


#: Short names of the follow-up windows (:data:`TIME_WINDOWS`), for tables and figures.
WINDOW_LABELS: dict[str, str] = {
    "immediate": "immediate (up to 1 week)", "short-term": "short term (up to 3 months)",
    "intermediate": "intermediate (3 to 12 months)", "long-term": "long term (over 12 months)",
    "unspecified": "not stated", "any": "any",
}

#: Effect measures in words, before a number on that scale ("SMD −0.2"); effects on ratio scales are
#: analysed as logarithms (lbpevidence.effects), and their tables say so.
MEASURE_LABELS: dict[str, str] = {
    "MD100": "MD on 0–100", "MD": "MD (instrument units)", "SMD": "SMD", "RR": "log RR", "OR": "log OR",
    "RD": "RD",
}

#: What an answer rests on (the ``basis`` of a candidate), in words for readers.
BASIS_LABELS: dict[str, str] = {
    "published review": "published review", "pooled": "our meta-analysis", "single trial": "single trial",
    "study-level only, not pooled": "studies' conclusions only", "non-comparative": "no control group",
}

#: Column headings of every table a reader sees (report pages, notebooks, ``lbpevidence summary``):
#: the columns of the library's tables, in words, with the scale where a number has one. A column
#: missing here is shown by :func:`column_label` with its underscores as spaces, never as a raw name.
COLUMN_LABELS: dict[str, str] = {
    # the answer and the headline
    "modality": "Treatment", "outcome": "Outcome", "population": "Population", "comparison": "Compared with",
    "comparator_class": "Compared with", "verdict": "Verdict", "certainty": "Certainty", "rated_by": "Rated by",
    "certainty_rated_by": "Certainty (who rated it)", "effect_0_100": "Effect, 0–100",
    "effect_ci_0_100": "Effect, 0–100 (95% CI)", "ci_low_0_100": "95% CI from, 0–100",
    "ci_high_0_100": "95% CI to, 0–100", "pain_0_100": "Pain, 0–100", "disability_0_100": "Disability, 0–100",
    "mid": "MID, 0–100", "window": "Follow-up", "studies": "Studies", "k": "Studies",
    "participants": "Participants", "basis": "Evidence", "statement": "In plain words", "tier": "Strength",
    "meaning": "Meaning", "links": "Details",
    # analyses
    "measure": "Scale", "estimate": "Estimate", "ci_low": "95% CI from", "ci_high": "95% CI to",
    "estimate_ci": "Pooled effect (95% CI)", "prediction_interval": "95% prediction interval",
    "pi_low": "95% PI from", "pi_high": "95% PI to", "tau2": "τ²", "i2": "I² (%)", "note": "Note",
    "effect": "Effect (95% CI)", "effect_scale": "Effect (95% CI), as analysed", "reasons": "Why this certainty",
    # the reference table
    "key": "Key", "first_author": "First author", "year": "Year", "title": "Title", "journal": "Journal",
    "design": "Design", "comparator": "Comparator", "finding": "Authors' conclusion",
    "unverified": "Not confirmed by a source", "entries": "Publications", "trials": "Trials", "reviews": "Reviews",
    "guidelines": "Guidelines", "outcome_rows": "Outcome rows", "pooled_trials": "Trials pooled",
    "unverified_entries": "Entries with an unconfirmed field", "study": "Study", "instrument": "Instrument",
    "level": "Level", "data_type": "Data", "yi": "Effect", "yi_ci_low": "95% CI from", "yi_ci_high": "95% CI to",
    "pool": "Pooled", "usable": "Usable", "problem": "Problem", "message": "Problem", "severity": "Severity",
    # risk of bias
    "rob": "RoB 2 overall", "pedro": "PEDro total (of 10)", "category": "Risk of bias", "source": "Read on",
    "judged_from": "Judged from",
    # the article
    "printed_number": "Printed no.", "best_match": "Record meant (or nearest)", "score": "Match (0–1)",
    "wrong_fields": "Fields printed wrong", "explanation": "Explanation", "corrections": "Corrections",
    "sources": "Fields resemble", "resembles": "Resembles", "claim_id": "Claim",
    "claimed_direction": "Claimed direction", "claimed_strength": "Claimed strength", "citation": "Citation",
    "reason": "Why", "evidence_verdict": "Verdict of the evidence",
}


def column_label(column: str) -> str:
    """The heading of ``column`` in every table a reader sees: :data:`COLUMN_LABELS`, else words.

    Examples
    --------
    >>> column_label("effect_0_100"), column_label("k"), column_label("some_new_column")
    ('Effect, 0–100', 'Studies', 'Some new column')
    """
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    text = str(column).replace("_", " ").strip()
    return text[:1].upper() + text[1:]



def statement(verdict: str, certainty: str, treatment: str, outcome: str, comparison: str) -> str:
    """The plain-language sentence for a verdict at a certainty level (GRADE's wording).

    The verdict gives the effect, the certainty gives the verb; both come from this module's
    vocabularies, so the sentence can never disagree with the table's verdict and certainty.

    Examples
    --------
    >>> from textwrap import fill
    >>> print(fill(statement("benefit below MID", "moderate", "Yoga", "pain", "usual care / no treatment"), 100))
    Yoga probably results in a slight reduction in pain, smaller than the minimal important difference,
    compared with usual care / no treatment.
    >>> print(fill(statement("important benefit", "very low", "Massage", "disability", "sham or placebo"), 100))
    The evidence is very uncertain about the effect of massage on back-related disability compared with
    sham or placebo.
    >>> print(fill(statement("insufficient evidence", "low", "Heat", "pain", "sham or placebo"), 100))
    The evidence cannot tell whether heat changes pain compared with sham or placebo: its CI includes no
    effect and an important effect.
    """
    check = VERDICTS.get(verdict)
    if check is None:
        raise ValueError(f"The value for `verdict` must be one of {list(VERDICTS)}, but {verdict!r} was passed.")
    if certainty not in CERTAINTY_VERBS:
        raise ValueError(f"The value for `certainty` must be one of {list(CERTAINTY_VERBS)}, "
                         f"but {certainty!r} was passed.")
    benefit, harm, noun = OUTCOME_WORDS.get(outcome, (f"improvement in {outcome}", f"worsening in {outcome}",
                                                      outcome))
    lower = treatment[:1].lower() + treatment[1:] if not treatment[:2].isupper() else treatment
    versus = f" compared with {comparison}" if comparison else ""
    if verdict == "insufficient evidence":
        return (f"The evidence cannot tell whether {lower} changes {noun}{versus}: its CI includes no effect and "
                "an important effect.")
    if not check.quantified:
        if verdict == "no comparative estimate":
            return (f"Only before-after changes without a control group were reported for {lower} and {noun}: "
                    "they cannot show what the treatment itself does.")
        said = "helps" if check.direction == "benefit" else "does not help"
        return (f"No estimate for {lower} and {noun} could be pooled; the studies conclude that it {said}, "
                f"which the evidence is very uncertain about.")
    if certainty == "very low":
        return CERTAINTY_VERBS["very low"].format(m=lower, o=noun) + f"{versus}."
    effect = check.effect.format(benefit=benefit, harm=harm, outcome=noun)
    if effect.startswith("a ") and effect[2:3] in "aeiou":
        effect = "an " + effect[2:]
    if versus and ("," in effect or " that " in effect):
        versus = "," + versus
    return CERTAINTY_VERBS[certainty].format(m=treatment, o=noun) + f" {effect}{versus}."


# MIDs on the scale of each measure. On 0-100 they are OUTCOME_MIDS (Hayden 2021). An SMD is judged
# against the same MID divided by the typical SD used to re-express SMDs on 0-100 (TYPICAL_SD_0_100),
# so an SMD and its 0-100 re-expression always get the same verdict: pain 15 / 26.7 = 0.56 SD,
# disability 10 / 17.7 = 0.56 SD.
MID_RULE = ("MD on 0-100: the outcome MID (pain 15, disability 10; Hayden 2021). MD on an instrument's own "
            "scale: that MID times scale width / 100. SMD: the 0-100 MID divided by the typical SD that "
            "re-expresses an SMD on 0-100 (pain 26.7, disability 17.7; Furlan 2015), so both scales agree. "
            "Ratios and risk differences: project defaults (GradeRules.ratio_mid, rd_mid), not from a source.")


def mid_for(measure: str, outcome: str, instrument: str | None = None) -> float:
    """The minimal important difference on the scale of ``measure``, or NaN when none is defined.

    Ratios (RR, OR) and risk differences have no MID here (see ``GradeRules``); a missing MID is
    NaN, never 0.

    Examples
    --------
    >>> mid_for("MD100", "pain"), mid_for("MD100", "disability"), mid_for("MD", "disability", "rmdq-24")
    (15.0, 10.0, 2.4)
    >>> round(mid_for("SMD", "pain"), 3), round(mid_for("SMD", "disability"), 3)
    (0.562, 0.565)
    >>> mid_for("MD100", "quality-of-life")
    nan
    """
    if measure == "MD100":
        return OUTCOME_MIDS.get(outcome, float("nan"))
    if measure == "MD":
        found = INSTRUMENTS.get(instrument or "")
        return float(found.mid) if found is not None and found.mid is not None else float("nan")
    if measure == "SMD" and outcome in OUTCOME_MIDS and outcome in TYPICAL_SD_0_100:
        return OUTCOME_MIDS[outcome] / TYPICAL_SD_0_100[outcome]
    return float("nan")


def to_0_100(measure: str, outcome: str, value: object) -> float:
    """An effect on a familiar 0-100 scale: MD100 as is, an SMD times a typical SD, else NaN.

    The typical SDs are :data:`TYPICAL_SD_0_100` (control-group SDs of the Cochrane massage
    review, Furlan 2015).

    Examples
    --------
    >>> to_0_100("MD100", "pain", -12.5), round(to_0_100("SMD", "pain", -0.5), 2), to_0_100("RR", "responder", 0.2)
    (-12.5, -13.35, nan)
    """
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")
    if number != number or number in (float("inf"), float("-inf")):
        return float("nan")
    if measure == "MD100":
        return number
    if measure == "SMD" and outcome in TYPICAL_SD_0_100:
        return number * TYPICAL_SD_0_100[outcome]
    return float("nan")


#: Outcomes whose events are good (responding): a risk ratio above 1 favours the treatment.
GOOD_EVENT_OUTCOMES = frozenset(i.outcome for i in INSTRUMENTS.values() if i.kind == "binary" and not i.lower_is_better)


def natural_scale(measure: str, outcome: str, estimate: float, low: float, high: float) -> tuple[float, float, float]:
    """An oriented effect (negative favours the treatment) back on the scale readers know.

    Ratios (RR, OR) are exponentiated; for a good event (a responder) the orientation is undone,
    so that a ratio above 1, or a positive risk difference, favours the treatment, as papers print
    them. Mean differences and SMDs stay oriented (negative = less pain or disability).

    Examples
    --------
    >>> import math
    >>> [round(v, 2) for v in natural_scale("RR", "responder", -math.log(1.58), -math.log(2.27), -math.log(1.10))]
    [1.58, 1.1, 2.27]
    >>> natural_scale("RD", "responder", -0.2, -0.27, -0.13), natural_scale("RD", "adverse-events", 0.1, 0.0, 0.2)
    ((0.2, 0.13, 0.27), (0.1, 0.0, 0.2))
    """
    good = outcome in GOOD_EVENT_OUTCOMES
    if measure in ("RR", "OR"):
        if good:
            return math.exp(-estimate), math.exp(-high), math.exp(-low)
        return math.exp(estimate), math.exp(low), math.exp(high)
    if measure == "RD" and good:
        return -estimate, -high, -low
    return estimate, low, high


def scale_limit(measure: str, outcome: str, instrument: str | None = None) -> float:
    """How far an effect can run on its scale: 100 on 0-100, the instrument's width for MD, NaN otherwise.

    An SMD is limited through its 0-100 re-expression (100 / typical SD). A CI bound beyond the
    limit runs off the scale: no real difference between two groups can be that large.

    Examples
    --------
    >>> scale_limit("MD100", "pain"), scale_limit("MD", "pain", "pain-0-10"), round(scale_limit("SMD", "pain"), 2)
    (100.0, 10.0, 3.75)
    >>> scale_limit("RR", "responder")
    nan
    """
    if measure == "MD100":
        return 100.0
    if measure == "MD":
        found = INSTRUMENTS.get(instrument or "")
        return float(found.scale_range) if found is not None and found.scale_range else float("nan")
    if measure == "SMD" and outcome in TYPICAL_SD_0_100:
        return 100.0 / TYPICAL_SD_0_100[outcome]
    return float("nan")


# --- numbers as readers see them ---------------------------------------------------------------------------
# Every number a reader sees (report pages, notebooks, figures, `lbpevidence summary`) is written by these.

#: The minus sign of every number a reader sees (U+2212, not a hyphen).
MINUS = "\u2212"
#: Put after an interval that a published source did not print (rebuilt from its standard error).
REBUILT_MARK = "\u2020"
#: The note under a table or figure that shows a rebuilt interval.
REBUILT_NOTE = f"{REBUILT_MARK} CI rebuilt from the published standard error (the source printed none)"


def finite(value: object) -> bool:
    """True for a value that is a finite number: not None, missing, NaN, infinite or text.

    >>> finite(3), finite("2.5"), finite(None), finite(float("nan")), finite(float("inf"))
    (True, True, False, False, False)
    """
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return number == number and number not in (float("inf"), float("-inf"))


def number_text(value: object, digits: int = 1) -> str:
    """A number as a reader sees it: ``digits`` decimals, a real minus sign, never ``−0.0`` for a non-zero value.

    A value that rounds to 0 gets the decimals it needs to show its sign (a CI that ends at
    −0.06 excludes no effect, and must not read as 0). Missing values are empty.

    Examples
    --------
    >>> number_text(-10.26), number_text(-7.0, 0), number_text(-0.04), number_text(0.0), number_text(float("nan"))
    ('−10.3', '−7', '−0.04', '0.0', '')
    """
    if not finite(value):
        return ""
    number = float(value)  # type: ignore[arg-type]
    places = digits
    while number != 0 and round(number, places) == 0 and places < 6:
        places += 1
    rounded = round(number, places)
    return (MINUS if rounded < 0 else "") + f"{abs(rounded):.{places}f}"


def interval_text(estimate: object, low: object, high: object, digits: int = 1, rebuilt: bool = False) -> str:
    """``'−7 (−8 to −5)'``: an estimate and its 95% CI, whole numbers shown whole when all three are.

    ``rebuilt`` marks an interval that its source did not print (:data:`REBUILT_MARK`).

    Examples
    --------
    >>> interval_text(-7.0, -8.0, -5.0), interval_text(-10.26, -17.11, -3.4)
    ('−7 (−8 to −5)', '−10.3 (−17.1 to −3.4)')
    >>> interval_text(-10.1, -20.14, -0.04), interval_text(-2.0, -4.0, 0.0, rebuilt=True)
    ('−10.1 (−20.1 to −0.04)', '−2 (−4 to 0) †')
    >>> interval_text(float("nan"), 1, 2)
    ''
    """
    if not finite(estimate):
        return ""
    values = [v for v in (estimate, low, high) if finite(v)]
    places = 0 if all(float(round(float(v), digits)).is_integer() for v in values) else digits  # type: ignore[arg-type]
    text = number_text(estimate, places)
    if finite(low) and finite(high):
        text += f" ({number_text(low, places)} to {number_text(high, places)})"
    return text + (f" {REBUILT_MARK}" if rebuilt else "")


def certainty_text(certainty: str, rated_by: str) -> str:
    """The certainty with who rated it: ``'moderate (review authors, Hayden 2021)'``, ``'low (our GRADE rules)'``.

    Examples
    --------
    >>> certainty_text("moderate", "review authors (Hayden 2021)")
    'moderate (review authors, Hayden 2021)'
    >>> certainty_text("low", "lbpevidence (GRADE rules) with a human override")
    'low (our GRADE rules, with a human override)'
    """
    rated_by = str(rated_by or "")
    match = re.fullmatch(r"review authors \((.+)\)", rated_by)
    if match:
        who = f"review authors, {match.group(1)}"
    elif rated_by.startswith("lbpevidence (GRADE rules)"):
        rest = rated_by[len("lbpevidence (GRADE rules)"):].strip()
        who = "our GRADE rules" + (f", {rest}" if rest else "")
    else:
        who = rated_by
    return f"{certainty} ({who})" if who else str(certainty)


def is_rebuilt(row: Mapping) -> bool:
    """A published estimate whose CI its source did not print (rebuilt from the SE): marked :data:`REBUILT_MARK`.

    ``row`` is an answer (a row of :attr:`Review.headline <lbpevidence.review.Review>`): its ``basis``
    and ``ci_as_printed``. Our own analyses compute their CIs, so they are never rebuilt.

    >>> is_rebuilt({"basis": "published review", "ci_as_printed": False}), is_rebuilt({"basis": "pooled"})
    (True, False)
    """
    return row.get("basis") == "published review" and not bool(row.get("ci_as_printed", True))
