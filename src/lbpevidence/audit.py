"""Audit of the article: its printed citations against verified records, its claims against the evidence.

Citations (:func:`audit_citations`)
-----------------------------------
Each printed citation (refs/article.bib, read with ``schema="printed"``) is compared
with the verified records (refs/studies.bib) in three steps.

1. **Candidates.** Records that share an identifier (DOI, PMID), a similar title
   (rapidfuzz ``ratio`` on normalised titles), any printed author's last name, the
   journal with the year and volume or with the first page, or the topic the title
   names (modality, design and population terms of :mod:`lbpevidence.vocabulary`).
2. **Field by field.** Authors, title, journal, year, volume, issue and pages are
   compared with each candidate, after normalisations that make harmless differences
   disappear and keep real ones:

   - authors: ``"Last, F. M."`` names, last names compared without accents, case or
     punctuation, initials without periods (a record giving fewer initials is compatible:
     ``B.`` and ``B. M.`` agree); order matters. A truncated list (``et al.``, ``and
     others``) is compared only on the names it prints, which must be the record's first
     names in order. Reported as ``dropped``, ``added``, ``reordered`` or ``initials``;
   - title: LaTeX decoded, accents, case, punctuation and hyphen or dash variants
     ignored; any other difference (one changed word, a dropped subtitle, British vs
     American spelling) is a difference;
   - journal: the same journal when both names lead to one entry of
     :data:`JOURNAL_ABBREVIATIONS`, or when :func:`normalise_journal` gives word lists of
     equal length whose words are prefixes of one another (ISO 4 style:
     ``Intern`` / ``Internal``);
   - year, volume, issue: equal (leading zeros ignored);
   - pages: :func:`same_pages` (hyphen or en dash, ``858-66`` = ``858-866``; a range
     with the same first page but a different last page, or transposed digits, is not
     equal; a first page printed alone agrees with a range starting there).

   Fields empty on either side are not judged (``agrees`` is missing).
3. **Verdict.** A record is *clearly the one meant* when it shares a DOI or PMID, or
   when two of three independent signals agree: the title (similarity at least
   ``title_match``), the authors (first author right and at least ``author_match`` of
   the printed names found) and the locator (journal, year, volume and first page). A
   citation that prints fewer of the three needs only as many as it prints.

   - ``verified``: a record is clearly meant and every field agrees;
   - ``garbled``: a record is clearly meant and some fields are wrong; the wrong fields
     are listed with printed and true values, and records that the wrong values
     resemble are named (a resemblance, not proof of where they came from);
   - ``conflated``: no record is clearly meant, but different groups of fields (the
     authors, the title or its topic, the journal/year/volume, the pages) point to
     different records; the citation says which field matches which record (rules in
     :func:`audit_citations`, Notes);
   - ``not found``: nothing of the above. The nearest records are still listed: this
     is a lead to check, not proof that the work does not exist.

Claims (:func:`read_claims`, :func:`check_claims`)
--------------------------------------------------
refs/claims.csv is read and validated like outcomes.csv. Each claim is then compared
with the evidence verdict table (one row per modality x outcome x comparator class x
window, made by the grading module) under :class:`ClaimRules`.

Examples
--------
>>> import lbpevidence as lbp
>>> audit = audit_citations(lbp.bundled_refs() / "article.bib", lbp.read_references())
>>> audit.to_frame()[["key", "verdict", "best_match"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
[['printed1', 'conflated', 'hides1996multifidus'], ['printed2', 'garbled', 'cherkin2009randomized'],
 ['printed3', 'conflated', 'giles2003chronic'], ['printed4', 'conflated', 'vantulder1999effectiveness']]
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, overload

import pandas as pd
from rapidfuzz import fuzz

from .errors import ClaimsTableError, Problem, check_choice, is_blank, table_result
from .latex import decode_latex
from .names import initials as _given_initials
from .paths import resolve_refs_file
from .textio import check_header, csv_rows, read_text
from .vocabulary import (
    CERTAINTY_LEVELS,
    COMPARISON_LABELS,
    DESIGNS,
    MODALITIES,
    POPULATION_GROUP_LABELS,
    VERDICTS,
    resolve,
)

__all__ = [
    "AUDIT_FIELDS",
    "CERTAINTIES",
    "CITATION_COLUMNS",
    "CITATION_VERDICTS",
    "CLAIM_COLUMNS",
    "CLAIM_DIRECTIONS",
    "CLAIM_RESULT_COLUMNS",
    "CLAIM_STRENGTHS",
    "CLAIM_VERDICTS",
    "EVIDENCE_VERDICTS",
    "FIELD_COLUMNS",
    "JOURNAL_ABBREVIATIONS",
    "VERDICT_TABLE_COLUMNS",
    "AuditResult",
    "AuditThresholds",
    "AuthorComparison",
    "ClaimRules",
    "audit_citations",
    "check_claims",
    "compare_authors",
    "normalise_journal",
    "normalise_title",
    "parse_claims",
    "read_claims",
    "same_journal",
    "same_pages",
]

CITATION_VERDICTS = ("verified", "garbled", "conflated", "not found")
AUDIT_FIELDS = ("authors", "title", "journal", "year", "volume", "issue", "pages", "doi", "pmid")
CITATION_COLUMNS = ["printed_number", "key", "verdict", "best_match", "score", "wrong_fields", "corrections",
                    "resembles", "sources", "explanation"]
FIELD_COLUMNS = ["printed_key", "printed_number", "field", "candidate", "candidate_score", "printed_value",
                 "true_value", "agrees", "similarity", "detail", "attributed"]


# ------------------------------------------------------------------------------------------------
# Thresholds
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditThresholds:
    """Every threshold the citation audit uses, in one place.

    Attributes
    ----------
    title_candidate
        Title similarity (rapidfuzz ``ratio`` of normalised titles, 0-1; the best of the
        full titles and of the main titles before a colon) at which a record becomes a
        candidate.
    title_match
        Title similarity at which the title identifies a record (with another signal) or,
        for a citation that identifies none, is said to come from it. ``0.85`` keeps a
        reworded title ("A comparison of ..." for "A randomized trial comparing ...": 0.88)
        and rejects titles that only share the usual words of the field (0.81 at most on
        refs/).
    author_match
        Share of the printed names found in a record (first author right) for the authors
        signal.
    topic_match
        Topic similarity (see :func:`audit_citations`: modality 0.6, design 0.25,
        population 0.15 of the terms the printed title names) at which a record is said
        to have the topic of the title.
    topic_candidates
        Topic-matching records kept as candidates (those published nearest the printed
        year).
    year_window
        Years over which the year similarity falls to zero (``1 - |diff| / (window + 1)``).
    identify_signals
        Signals (title, authors, locator) that identify a record without an identifier;
        a citation that prints fewer of the three needs only as many as it prints.
    nearest
        Records listed as ``resembles`` for a citation that matches nothing well.
    min_resemblance
        Lowest overall score for a record to be listed as nearest.
    weights
        Weights of the overall score (a weighted mean of the field similarities present
        on both sides), as ``(field, weight)`` pairs.

    Examples
    --------
    >>> AuditThresholds().title_match
    0.85
    >>> AuditThresholds(title_match=0.9).title_match
    0.9
    """

    title_candidate: float = 0.70
    title_match: float = 0.85
    author_match: float = 0.60
    topic_match: float = 0.85
    topic_candidates: int = 3
    year_window: int = 3
    identify_signals: int = 2
    nearest: int = 3
    min_resemblance: float = 0.35
    weights: tuple[tuple[str, float], ...] = (
        ("title", 0.30), ("authors", 0.25), ("journal", 0.10), ("year", 0.10), ("volume", 0.08),
        ("issue", 0.05), ("pages", 0.12),
    )

    def __post_init__(self) -> None:
        for name in ("title_candidate", "title_match", "author_match", "topic_match", "min_resemblance"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"The value for `{name}` must be between 0 and 1, but {value!r} was passed.")
        for name in ("topic_candidates", "year_window", "identify_signals", "nearest"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"The value for `{name}` must be a non-negative integer, but {value!r} was passed.")


# ------------------------------------------------------------------------------------------------
# Normalisation
# ------------------------------------------------------------------------------------------------

_DASHES = re.compile(r"[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\-/]")
_NON_WORD = re.compile(r"[^\w\s]")
_PARENTHESES = re.compile(r"\([^)]*\)")


def _plain(text: object) -> str:
    """Decoded, accent-free, lower-case text (LaTeX markup decoded first)."""
    if text is None or (isinstance(text, float) and math.isnan(text)) or text is pd.NA:
        return ""
    value = decode_latex(str(text))
    value = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in value if not unicodedata.combining(ch)).lower().strip()


def normalise_title(title: object) -> str:
    """Title as compared: LaTeX decoded, no accents, lower case, no punctuation, hyphens as spaces.

    Examples
    --------
    >>> normalise_title(r"Low-back pain: the {C}ochrane review of M{\\"u}ller's {\\em trial}")
    'low back pain the cochrane review of mullers trial'
    >>> normalise_title("Low\u2013back pain") == normalise_title("low back pain")
    True
    """
    return _normalise_title(title if isinstance(title, str) else _text(title))


@lru_cache(maxsize=131072)
def _normalise_title(title: str) -> str:
    text = _DASHES.sub(" ", _plain(title).replace("&", " and "))
    text = _NON_WORD.sub("", text).replace("_", " ")
    return " ".join(text.split())


# Journal names in refs/studies.bib: full title -> MEDLINE (NLM) title abbreviation. Both forms,
# and the variants of refs/ ("The Lancet", "Spine (Phila Pa 1976)"), lead to one entry. Where
# studies.bib itself prints the abbreviation, it was read on the PubMed page named in the entry's
# `source`; the other abbreviations follow the NLM convention and were not re-checked against the
# NLM Catalog for this table (a wrong one can only make two names of one journal look different,
# and the fallback below still compares them). A journal missing here is compared by the
# documented fallback (normalise_journal + word prefixes). "Japanese Acupuncture and Moxibustion"
# is left to the fallback: its abbreviation was not confirmed.
JOURNAL_ABBREVIATIONS: dict[str, str] = {
    "Academic Emergency Medicine": "Acad Emerg Med",
    "American Journal of Physical Medicine & Rehabilitation": "Am J Phys Med Rehabil",
    "Annals of Emergency Medicine": "Ann Emerg Med",
    "Annals of Family Medicine": "Ann Fam Med",
    "Annals of Internal Medicine": "Ann Intern Med",
    "Annals of the Rheumatic Diseases": "Ann Rheum Dis",
    "Applied Ergonomics": "Appl Ergon",
    "Applied Psychophysiology and Biofeedback": "Appl Psychophysiol Biofeedback",
    "Archives of Internal Medicine": "Arch Intern Med",
    "Archives of Physical Medicine and Rehabilitation": "Arch Phys Med Rehabil",
    "Arthritis Care & Research": "Arthritis Care Res (Hoboken)",
    "BMC Complementary and Alternative Medicine": "BMC Complement Altern Med",
    "BMC Medicine": "BMC Med",
    "BMC Musculoskeletal Disorders": "BMC Musculoskelet Disord",
    "BMJ": "BMJ",
    "Behaviour Research and Therapy": "Behav Res Ther",
    "British Journal of Sports Medicine": "Br J Sports Med",
    "Canadian Medical Association Journal": "CMAJ",
    "Clinical Interventions in Aging": "Clin Interv Aging",
    "Clinical Journal of Pain": "Clin J Pain",
    "Clinical Rehabilitation": "Clin Rehabil",
    "Cochrane Database of Systematic Reviews": "Cochrane Database Syst Rev",
    "Complementary Therapies in Medicine": "Complement Ther Med",
    "Digital Health": "Digit Health",
    "European Journal of Pain": "Eur J Pain",
    "Health Psychology": "Health Psychol",
    "International Journal of Behavioral Medicine": "Int J Behav Med",
    "International Journal of Environmental Research and Public Health": "Int J Environ Res Public Health",
    "JAMA": "JAMA",
    "JAMA Internal Medicine": "JAMA Intern Med",
    "JAMA Network Open": "JAMA Netw Open",
    "Journal of Chiropractic Medicine": "J Chiropr Med",
    "Journal of Clinical Medicine": "J Clin Med",
    "Journal of Clinical and Diagnostic Research": "J Clin Diagn Res",
    "Journal of Occupational Rehabilitation": "J Occup Rehabil",
    "Journal of Orthopaedics and Traumatology": "J Orthop Traumatol",
    "Journal of Rehabilitation Medicine": "J Rehabil Med",
    "Lancet": "Lancet",
    "Medicine": "Medicine (Baltimore)",
    "New England Journal of Medicine": "N Engl J Med",
    "Orthopedics": "Orthopedics",
    "PM&R": "PM R",
    "Pain": "Pain",
    "Physical Therapy": "Phys Ther",
    "Physiotherapy": "Physiotherapy",
    "Rheumatology": "Rheumatology (Oxford)",
    "Sleep Health": "Sleep Health",
    "Spine": "Spine (Phila Pa 1976)",
    "Spine Journal": "Spine J",
}
# Other names of the same journals (former titles count as different journals; these are not).
_JOURNAL_ALIASES = {
    "British Medical Journal": "BMJ",
    "Journal of the American Medical Association": "JAMA",
}

# ISO 4 drops these words; so does the fallback comparison.
_JOURNAL_STOP_WORDS = frozenset(("the", "of", "and", "for", "in", "on", "a", "an", "de", "la", "le", "des", "du",
                                 "der", "und", "fur", "y", "et"))


def normalise_journal(name: object) -> tuple[str, ...]:
    """Journal name as a word tuple: accents, case, parenthesised places, punctuation and stop words dropped.

    Examples
    --------
    >>> normalise_journal("Spine (Phila Pa 1976)")
    ('spine',)
    >>> normalise_journal("Archives of Internal Medicine")
    ('archives', 'internal', 'medicine')
    >>> normalise_journal("PM&R")
    ('pm', 'r')
    """
    return _normalise_journal(name if isinstance(name, str) else _text(name))


@lru_cache(maxsize=65536)
def _normalise_journal(name: str) -> tuple[str, ...]:
    text = _PARENTHESES.sub(" ", _plain(name).replace("&", " and "))
    text = _DASHES.sub(" ", text)
    words = _NON_WORD.sub(" ", text).replace("_", " ").split()
    return tuple(w for w in words if w not in _JOURNAL_STOP_WORDS)


_JOURNAL_INDEX: dict[tuple[str, ...], str] = {}
for _full, _abbreviation in JOURNAL_ABBREVIATIONS.items():
    for _form in (_full, _abbreviation):
        _JOURNAL_INDEX[normalise_journal(_form)] = _full
for _alias, _full in _JOURNAL_ALIASES.items():
    _JOURNAL_INDEX[normalise_journal(_alias)] = _full


def _prefix_equal(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    if not a or not b:
        return False
    if "".join(a) == "".join(b):
        return True
    return len(a) == len(b) and all(x.startswith(y) or y.startswith(x) for x, y in zip(a, b, strict=True))


def same_journal(a: object, b: object) -> bool:
    """True when ``a`` and ``b`` name the same journal (full name or abbreviation).

    Looks both names up in :data:`JOURNAL_ABBREVIATIONS`; otherwise compares the word
    lists of :func:`normalise_journal`: equal length, each word a prefix of the other
    (ISO 4 abbreviations shorten words from the end: ``Intern`` / ``Internal``).

    Examples
    --------
    >>> same_journal("Arch Intern Med", "Archives of Internal Medicine")
    True
    >>> same_journal("BMJ", "British Medical Journal")
    True
    >>> same_journal("J Occup Health Psychol", "Journal of Occupational Health Psychology")
    True
    >>> same_journal("Spine", "Spine J"), same_journal("Arch Intern Med", "Ann Intern Med")
    (False, False)
    """
    na, nb = normalise_journal(a), normalise_journal(b)
    if not na or not nb:
        return False
    ca, cb = _JOURNAL_INDEX.get(na), _JOURNAL_INDEX.get(nb)
    if ca is not None and cb is not None:
        return ca == cb
    return _prefix_equal(na, nb)


_PAGE = re.compile(r"^([A-Za-z]*)(\d+)([A-Za-z]*)$")
_RANGE = re.compile(r"^\s*(\S+?)\s*(?:-{1,3}|\u2013|\u2014|\u2212|\u2010|\u2011)\s*(\S+)\s*$")


def _pages(value: object) -> tuple[str, str]:
    """(first, last) page, last page expanded from an abbreviated range; '' when absent."""
    text = decode_latex(str(value or "")).strip().replace(" ", "")
    if not text:
        return "", ""
    match = _RANGE.match(text)
    if not match:
        return text.upper(), ""
    first, last = match.group(1).upper(), match.group(2).upper()
    pa, pb = _PAGE.match(first), _PAGE.match(last)
    if pa and pb and not pb.group(1) and pa.group(1):
        last = pa.group(1) + last  # "E243-8": the prefix is not repeated
        pb = _PAGE.match(last)
    if pa and pb and pa.group(1) == pb.group(1) and len(pb.group(2)) < len(pa.group(2)):
        digits = pa.group(2)[: len(pa.group(2)) - len(pb.group(2))] + pb.group(2)
        last = f"{pb.group(1)}{digits}{pb.group(3)}"
    return first, last


def same_pages(a: object, b: object) -> bool:
    """True when two page fields give the same pages.

    Hyphen, en dash or ``--`` are the same; an abbreviated last page is expanded
    (``858-66`` = ``858-866``); a first page printed alone agrees with a range that
    starts there. Anything else, transposed digits included, is a difference.

    Examples
    --------
    >>> same_pages("858-66", "858\u2013866"), same_pages("E243-8", "E243--E248")
    (True, True)
    >>> same_pages("858-866", "858-868"), same_pages("885-866", "858-866")
    (False, False)
    """
    fa, la = _pages(a)
    fb, lb = _pages(b)
    if not fa or not fb or fa != fb:
        return False
    return la == lb or not la or not lb


def _norm_number(value: object) -> str:
    text = _plain(value).replace(" ", "")
    return (text.lstrip("0") or text) if text.isdigit() else text


# ------------------------------------------------------------------------------------------------
# Authors
# ------------------------------------------------------------------------------------------------

_TRUNCATION = {"others", "et al.", "et al", "etal"}
_VANCOUVER_INITIALS = re.compile(r"^[A-Z]{1,4}$")


@dataclass(frozen=True)
class _Name:
    text: str
    last: str
    initials: str


@lru_cache(maxsize=65536)
def _parse_name(raw: str) -> _Name:
    """A name as ``Last, F. M.`` (read_references), ``Last, FM`` or ``Last FM`` (Vancouver)."""
    text = decode_latex(str(raw)).strip()
    if "," in text:
        last, given = (part.strip() for part in text.split(",", 1))
    else:
        words = text.split()
        if len(words) >= 2 and _VANCOUVER_INITIALS.match(words[-1].replace(".", "")):
            last, given = " ".join(words[:-1]), words[-1]
        else:
            last, given = text, ""  # an organisation, or a single name
    letters = re.sub(r"[^A-Za-z]", "", _given_initials(given)).upper()
    key = re.sub(r"[^a-z0-9]", "", _plain(last))
    shown = f"{last}, {_given_initials(given)}" if given else last
    return _Name(shown, key, letters)


def _initials_compatible(a: str, b: str) -> bool:
    return not a or not b or a.startswith(b) or b.startswith(a)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _lis(values: Sequence[int]) -> set[int]:
    """Positions (into ``values``) of one longest strictly increasing subsequence."""
    if not values:
        return set()
    best = [1] * len(values)
    previous = [-1] * len(values)
    for i in range(len(values)):
        for j in range(i):
            if values[j] < values[i] and best[j] + 1 > best[i]:
                best[i], previous[i] = best[j] + 1, j
    end = max(range(len(values)), key=lambda i: (best[i], -i))
    chosen = set()
    while end >= 0:
        chosen.add(end)
        end = previous[end]
    return chosen


@dataclass(frozen=True)
class AuthorComparison:
    """Printed author list against a record's list.

    Attributes
    ----------
    agrees
        No issue found (``None`` when either list is empty).
    similarity
        0-1: each printed name scores 1 in place (same position for a truncated list,
        in the record's order for a full list), 0.5 found elsewhere, 0 not found; times
        0.8 when its initials differ. Divided by the number of printed names (truncated
        list or truncated record) or by the longer list.
    present
        Share of printed names whose last name is in the record.
    first_author
        The first printed last name is the record's first.
    positions
        For each printed name, its 0-based position in the record or ``None``.
    issues
        ``(kind, text)`` pairs; kinds are ``dropped``, ``added``, ``reordered``, ``initials``.
    """

    agrees: bool | None
    similarity: float
    present: float
    first_author: bool
    positions: tuple[int | None, ...]
    initials_ok: tuple[bool, ...]
    issues: tuple[tuple[str, str], ...]

    @property
    def kinds(self) -> tuple[str, ...]:
        """The issue kinds, in order, without repeats."""
        return tuple(dict.fromkeys(kind for kind, _ in self.issues))

    def describe(self) -> str:
        """The issues as one sentence fragment ('' when there are none)."""
        return "; ".join(text for _, text in self.issues)


def _split_name_list(names: object, truncated: bool | None) -> tuple[list[str], bool]:
    if names is None or (isinstance(names, float) and math.isnan(names)):
        return [], bool(truncated)
    if isinstance(names, str):
        from .names import split_authors

        found, flag = split_authors(names) if names.strip() else ([], False)
        return found, bool(truncated) or flag
    items = [str(n).strip() for n in names if str(n).strip()]
    flag = bool(items) and items[-1].lower() in _TRUNCATION
    if flag:
        items = items[:-1]
    return items, bool(truncated) or flag


def compare_authors(printed: object, record: object, printed_truncated: bool = False,
                    record_truncated: bool = False) -> AuthorComparison:
    """Compare a printed author list with a record's, name by name and in order.

    Parameters
    ----------
    printed, record
        Lists of names (``"Last, F. M."``, ``"Last, FM"`` or ``"Last FM"``), optionally
        ending in ``"others"`` / ``"et al."``, or BibTeX author strings.
    printed_truncated, record_truncated
        The list stops before the last author (``et al.``): only the names it gives are
        compared, and they must be the record's first names in order.

    Examples
    --------
    >>> real = ["Cherkin, D. C.", "Sherman, K. J.", "Avins, A. L.", "Deyo, R. A."]
    >>> compare_authors(["Cherkin DC", "Sherman KJ", "et al."], real).agrees
    True
    >>> result = compare_authors(["Cherkin, DC", "Deyo, RA", "others"], real)
    >>> result.kinds
    ('reordered', 'dropped')
    >>> print(result.describe())
    Deyo, R. A. is printed 2nd but is the 4th author; Sherman, K. J. (2nd author) is missing
    """
    p_names, p_trunc = _split_name_list(printed, printed_truncated)
    r_names, r_trunc = _split_name_list(record, record_truncated)
    P = [_parse_name(n) for n in p_names]
    R = [_parse_name(n) for n in r_names]
    if not P or not R:
        return AuthorComparison(None, float("nan"), float("nan"), False, (), (), ())
    used: set[int] = set()
    positions: list[int | None] = []
    for i, name in enumerate(P):
        j: int | None = None
        if i < len(R) and R[i].last == name.last:
            j = i
        else:
            j = next((k for k, other in enumerate(R) if other.last == name.last and k not in used), None)
        if j is not None:
            used.add(j)
        positions.append(j)
    initials_ok = tuple(j is None or _initials_compatible(n.initials, R[j].initials) for n, j in zip(P, positions,
                                                                                                       strict=True))
    issues: list[tuple[str, str]] = []
    in_place: set[int] = set()
    if p_trunc:
        in_place = {i for i, j in enumerate(positions) if j == i}
        for i, (name, j) in enumerate(zip(P, positions, strict=True)):
            if j is None:
                if not (r_trunc and i >= len(R)):
                    issues.append(("added", f"{name.text} is not an author of the record"))
            elif j != i:
                issues.append(("reordered", f"{name.text} is printed {_ordinal(i + 1)} but is the "
                                            f"{_ordinal(j + 1)} author"))
        window = range(min(len(P), len(R)))
    else:
        matched = [(i, j) for i, j in enumerate(positions) if j is not None]
        keep = _lis([j for _, j in matched])
        in_place = {matched[k][0] for k in keep}
        for i, (name, j) in enumerate(zip(P, positions, strict=True)):
            if j is None:
                if not (r_trunc and i >= len(R)):
                    issues.append(("added", f"{name.text} is not an author of the record"))
            elif i not in in_place:
                issues.append(("reordered", f"{name.text} is printed {_ordinal(i + 1)} but is the "
                                            f"{_ordinal(j + 1)} author"))
        window = range(len(R))
    for k in window:
        if k not in used:
            issues.append(("dropped", f"{R[k].text} ({_ordinal(k + 1)} author) is missing"))
    for name, j, ok in zip(P, positions, initials_ok, strict=True):
        if j is not None and not ok:
            issues.append(("initials", f"{name.text} is {R[j].text} in the record"))
    scores = [0.0 if j is None else (1.0 if i in in_place else 0.5) * (1.0 if ok else 0.8)
              for i, (j, ok) in enumerate(zip(positions, initials_ok, strict=True))]
    denominator = len(P) if (p_trunc or r_trunc) else max(len(P), len(R))
    similarity = sum(scores) / denominator
    present = sum(j is not None for j in positions) / len(P)
    return AuthorComparison(not issues, similarity, present, positions[0] == 0, tuple(positions), initials_ok,
                            tuple(issues))


# ------------------------------------------------------------------------------------------------
# Topic: the modality, design and population a title names
# ------------------------------------------------------------------------------------------------

# A title naming a specific exercise and "exercise" is about the specific one.
_MODALITY_PARENT = {"lumbar-extension-machine": "exercise", "motor-control-exercise": "exercise"}
_DESIGN_PHRASES = (
    ("review", ("systematic review", "meta analysis", "metaanalysis", "meta analyses", "review", "cochrane")),
    ("guideline", ("guideline", "guidelines", "practice recommendations")),
    ("trial", ("randomized", "randomised", "controlled trial", "clinical trial", "rct")),
    ("observational", ("cohort", "case series", "consecutive patients", "controlled study")),
)
_POPULATION_WORDS = {"chronic": "chronic", "persistent": "chronic", "acute": "acute", "subacute": "subacute"}
_POPULATION_COMPATIBLE = {("acute", "acute-subacute"), ("subacute", "acute-subacute")}


def _phrase_key(text: str) -> str:
    return normalise_title(text)


_MODALITY_PHRASES: dict[str, str] = {}
for _term in MODALITIES.values():
    for _phrase in (_term.term, *_term.synonyms):
        _MODALITY_PHRASES[_phrase_key(_phrase)] = _term.term
_MAX_PHRASE = max(len(p.split()) for p in _MODALITY_PHRASES)


@dataclass(frozen=True)
class _Topic:
    modalities: tuple[str, ...]
    design: str
    population: str

    def __str__(self) -> str:
        parts = ["/".join(self.modalities)] if self.modalities else []
        if self.design:
            parts.append(self.design)
        if self.population:
            known = self.population in _POPULATION_WORDS.values()
            parts.append(f"{self.population} pain" if known else self.population)
        return ", ".join(parts)


def _title_topic(title: object) -> _Topic:
    words = normalise_title(title).split()
    found: list[str] = []
    i = 0
    while i < len(words):
        for n in range(min(_MAX_PHRASE, len(words) - i), 0, -1):
            term = _MODALITY_PHRASES.get(" ".join(words[i:i + n]))
            if term:
                found.append(term)
                i += n
                break
        else:
            i += 1
    modalities = tuple(dict.fromkeys(m for m in found if m not in {_MODALITY_PARENT.get(o) for o in found}))
    text = f" {' '.join(words)} "
    design = next((family for family, phrases in _DESIGN_PHRASES if any(f" {p} " in text for p in phrases)), "")
    populations = {term for word, term in _POPULATION_WORDS.items() if f" {word} " in text}
    population = populations.pop() if len(populations) == 1 else ("mixed" if populations else "")
    return _Topic(modalities, design, population)


def _topic_similarity(topic: _Topic, modalities: Sequence[str], design: str, population: str) -> float:
    """0-1 agreement of a record's evidence fields with the topic a title names (NaN: no modality named)."""
    if not topic.modalities:
        return float("nan")
    record_modalities = set(modalities or [])

    def one(m: str) -> float:
        if m in record_modalities:
            return 1.0
        if _MODALITY_PARENT.get(m) in record_modalities or any(_MODALITY_PARENT.get(r) == m
                                                               for r in record_modalities):
            return 0.5
        return 0.0

    parts = [(0.6, sum(one(m) for m in topic.modalities) / len(topic.modalities))]
    if topic.design:
        level = DESIGNS[design].level if design in DESIGNS else ""
        parts.append((0.25, 1.0 if level == topic.design else 0.0))
    if topic.population:
        compatible = (population in ("mixed", "not-reported", "") or topic.population == "mixed"
                      or population == topic.population or (topic.population, population) in _POPULATION_COMPATIBLE)
        parts.append((0.15, 1.0 if compatible else 0.0))
    return sum(w * s for w, s in parts) / sum(w for w, _ in parts)


# ------------------------------------------------------------------------------------------------
# Records
# ------------------------------------------------------------------------------------------------


def _text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a year or volume read as a float
    return str(value).strip()


def _flag(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1")
    return not is_blank(value) and bool(value)


def _year(value: object) -> int | None:
    text = _text(value)
    return int(text) if re.fullmatch(r"\d{4}", text) else None


@dataclass
class _Record:
    key: str
    number: int | None
    authors: list[str]
    et_al: bool
    title: str
    journal: str
    year: int | None
    volume: str
    issue: str
    pages: str
    doi: str
    pmid: str
    modalities: list[str] = field(default_factory=list)
    design: str = ""
    population: str = ""
    first_author: str = ""

    @property
    def label(self) -> str:
        return f"{self.first_author or self.key} {self.year or ''}".strip()


def _records(table: pd.DataFrame) -> list[_Record]:
    out = []
    wanted = ("key", "printed_number", "authors", "et_al", "first_author", "title", "journal", "year", "volume",
              "issue", "number", "pages", "doi", "pmid", "modality", "design", "population")
    columns = [c for c in wanted if c in table.columns]
    for position, row in enumerate(table[columns].to_dict("records")):
        authors, et_al = _split_name_list(row.get("authors", []), _flag(row.get("et_al", False)))
        first = _parse_name(authors[0]).text.split(",")[0] if authors else _text(row.get("first_author"))
        number = row.get("printed_number") if "printed_number" in columns else None
        number = None if number is None or number is pd.NA or (isinstance(number, float) and math.isnan(number)) \
            else int(number)
        modality = row.get("modality")
        out.append(_Record(
            key=_text(row.get("key")) or f"row{position + 1}", number=number, authors=authors, et_al=et_al,
            title=_text(row.get("title")), journal=_text(row.get("journal")), year=_year(row.get("year")),
            volume=_text(row.get("volume")), issue=_text(row.get("issue", row.get("number", ""))),
            pages=_text(row.get("pages")), doi=_text(row.get("doi")).lower(), pmid=_text(row.get("pmid")),
            modalities=list(modality) if isinstance(modality, list | tuple) else [],
            design=_text(row.get("design")), population=_text(row.get("population")), first_author=first,
        ))
    return out


# ------------------------------------------------------------------------------------------------
# Field comparisons
# ------------------------------------------------------------------------------------------------


@dataclass
class _Field:
    name: str
    printed: str
    true: str
    agrees: bool | None
    similarity: float
    detail: str = ""


@lru_cache(maxsize=131072)
def _main_title(title: str) -> str:
    """The normalised title before a subtitle (': ', '. ', '? ')."""
    return normalise_title(re.split(r"[:.?]\s", decode_latex(title), maxsplit=1)[0])


def _title_similarity(a: str, b: str) -> float:
    na, nb = normalise_title(a), normalise_title(b)
    if not na or not nb:
        return float("nan")
    full = fuzz.ratio(na, nb)
    if full == 100:
        return 1.0
    return max(full, fuzz.ratio(_main_title(a), _main_title(b))) / 100


def _format_authors(names: Sequence[str], truncated: bool) -> str:
    shown = "; ".join(_parse_name(n).text for n in names)
    return f"{shown}; et al." if truncated and shown else shown


@dataclass
class _Comparison:
    record: _Record
    fields: dict[str, _Field]
    authors: AuthorComparison
    topic: float
    score: float
    signals: tuple[str, ...]


def _compare(printed: _Record, record: _Record, topic: _Topic, th: AuditThresholds) -> _Comparison:
    out: dict[str, _Field] = {}
    authors = compare_authors(printed.authors, record.authors, printed.et_al, record.et_al)
    window = record.authors[: len(printed.authors)] if printed.et_al else record.authors
    out["authors"] = _Field("authors", _format_authors(printed.authors, printed.et_al),
                            _format_authors(window, (printed.et_al and len(record.authors) > len(printed.authors))
                                            or record.et_al),
                            authors.agrees, authors.similarity, authors.describe())
    title_sim = _title_similarity(printed.title, record.title)
    title_agrees = None if math.isnan(title_sim) else normalise_title(printed.title) == normalise_title(record.title)
    out["title"] = _Field("title", printed.title, record.title, title_agrees, title_sim)
    if printed.journal and record.journal:
        same = same_journal(printed.journal, record.journal)
        sim = 1.0 if same else fuzz.ratio(" ".join(normalise_journal(printed.journal)),
                                          " ".join(normalise_journal(record.journal))) / 100
        out["journal"] = _Field("journal", printed.journal, record.journal, same, sim,
                                "" if same or not normalise_journal(printed.journal) else "another journal")
    else:
        out["journal"] = _Field("journal", printed.journal, record.journal, None, float("nan"))
    if printed.year is not None and record.year is not None:
        diff = abs(printed.year - record.year)
        out["year"] = _Field("year", str(printed.year), str(record.year), diff == 0,
                             max(0.0, 1 - diff / (th.year_window + 1)))
    else:
        out["year"] = _Field("year", str(printed.year or ""), str(record.year or ""), None, float("nan"))
    for name in ("volume", "issue"):
        a, b = getattr(printed, name), getattr(record, name)
        same = _norm_number(a) == _norm_number(b) if a and b else None
        out[name] = _Field(name, a, b, same, float("nan") if same is None else float(same))
    if printed.pages and record.pages:
        same = same_pages(printed.pages, record.pages)
        first_same = _pages(printed.pages)[0] == _pages(record.pages)[0]
        detail = "" if same else ("same first page, different last page" if first_same else "")
        out["pages"] = _Field("pages", printed.pages, record.pages, same,
                              1.0 if same else (0.5 if first_same else 0.0), detail)
    else:
        out["pages"] = _Field("pages", printed.pages, record.pages, None, float("nan"))
    for name in ("doi", "pmid"):
        a, b = getattr(printed, name), getattr(record, name)
        if a:
            same = a == b if b else None
            out[name] = _Field(name, a, b, same, float("nan") if same is None else float(same))
    topic_sim = _topic_similarity(topic, record.modalities, record.design, record.population)
    record_topic = _Topic(tuple(record.modalities), record.design, record.population)
    out["topic"] = _Field("topic", str(topic), str(record_topic) if topic.modalities else "",
                          None if math.isnan(topic_sim) else topic_sim >= th.topic_match, topic_sim)
    weights = dict(th.weights)
    present = [(weights[n], f.similarity) for n, f in out.items() if n in weights and not math.isnan(f.similarity)]
    score = sum(w * s for w, s in present) / sum(w for w, _ in present) if present else 0.0
    signals = []
    if any(out[n].agrees for n in ("doi", "pmid") if n in out):
        signals.append("identifier")
    if not math.isnan(title_sim) and title_sim >= th.title_match:
        signals.append("title")
    if authors.agrees is not None and authors.first_author and authors.present >= th.author_match:
        signals.append("authors")
    if _locator(out, ("journal", "year", "volume")) and _first_page_agrees(printed, record):
        signals.append("locator")
    return _Comparison(record, out, authors, topic_sim, score, tuple(signals))


def _locator(out: Mapping[str, _Field], names: Iterable[str]) -> bool:
    return all(out[n].agrees is True for n in names)


def _first_page_agrees(printed: _Record, record: _Record) -> bool:
    a, b = _pages(printed.pages)[0], _pages(record.pages)[0]
    return bool(a) and a == b


# ------------------------------------------------------------------------------------------------
# Attribution: which record each printed field resembles
# ------------------------------------------------------------------------------------------------


@dataclass
class _Source:
    key: str
    group: str
    fields: list[str]
    detail: str = ""


def _year_distance(printed: _Record, record: _Record) -> float:
    if printed.year is None or record.year is None:
        return float("inf")
    return abs(printed.year - record.year)


def _attribute(printed: _Record, comps: list[_Comparison], wanted: Sequence[str], th: AuditThresholds,
               use_topic: bool) -> list[_Source]:
    """Name, for each wanted field, the record it resembles most (see audit_citations)."""
    sources: list[_Source] = []
    wanted_set = set(wanted)

    def rank(c: _Comparison) -> tuple:
        return (c.score, -_year_distance(printed, c.record))

    # 1. authors, name by name: the best author record first, the other names to their own records.
    if "authors" in wanted_set and printed.authors:
        with_names = [c for c in comps if c.authors.agrees is not None and c.authors.present > 0]
        with_names.sort(key=lambda c: (c.authors.similarity, c.authors.present, *rank(c)), reverse=True)
        names = [_parse_name(n) for n in printed.authors]
        claimed: dict[int, str] = {}
        chosen: list[tuple[_Comparison, list[int]]] = []
        for comp in with_names:
            found = [i for i, j in enumerate(comp.authors.positions) if j is not None and i not in claimed]
            if not found:
                continue
            compatible = [i for i in found if comp.authors.initials_ok[i]]
            if not compatible and len(found) < 2:
                continue
            for i in found:
                claimed[i] = comp.record.key
            chosen.append((comp, found))
        for comp, found in chosen:
            detail = ", ".join(names[i].text.split(",")[0] for i in found)
            sources.append(_Source(comp.record.key, "authors", ["authors"], detail))
    # 2. title text, or else 3. the topic the title names.
    title_source = None
    if "title" in wanted_set:
        titled = [c for c in comps if not math.isnan(c.fields["title"].similarity)
                  and c.fields["title"].similarity >= th.title_match]
        if titled:
            title_source = max(titled, key=lambda c: (c.fields["title"].similarity, *rank(c)))
            sources.append(_Source(title_source.record.key, "title", ["title"]))
        elif use_topic:
            already = {s.key for s in sources}
            topical = [c for c in comps if not math.isnan(c.topic) and c.topic >= th.topic_match]
            if topical:
                best = max(topical, key=lambda c: (c.record.key in already, c.topic, -_year_distance(printed, c.record),
                                                   c.fields["title"].similarity if not
                                                   math.isnan(c.fields["title"].similarity) else 0))
                sources.append(_Source(best.record.key, "topic", ["title"], str(_title_topic(printed.title))))
    # 4. journal + year + volume; 5. journal + first page.
    for group, names, test in (
        ("volume", ("journal", "year", "volume"), lambda c: _locator(c.fields, ("journal", "year", "volume"))),
        ("pages", ("pages",), lambda c: c.fields["journal"].agrees is True and _first_page_agrees(printed, c.record)),
    ):
        if not wanted_set.intersection(names):
            continue
        located = [c for c in comps if test(c)]
        if located:
            best = max(located, key=rank)
            sources.append(_Source(best.record.key, group, [n for n in names if n in wanted_set]))
    # 6. every other wanted field: to a record named above that agrees on it.
    covered = {f for s in sources for f in s.fields}
    by_key = {c.record.key: c for c in comps}
    counts: dict[str, int] = {}
    for source in sources:
        counts[source.key] = counts.get(source.key, 0) + len(source.fields)
    for name in wanted:
        if name in covered or name in ("authors", "title"):
            continue
        agreeing = [k for k in counts if name in by_key[k].fields and by_key[k].fields[name].agrees is True]
        if agreeing:
            key = max(agreeing, key=lambda k: (counts[k], -list(counts).index(k)))
            sources.append(_Source(key, "other", [name]))
    return sources


def _merge_sources(sources: list[_Source]) -> dict[str, list[str]]:
    """key -> fields described ("authors Hides", "title topic (...)"), in the order keys were named."""
    merged: dict[str, list[str]] = {}
    for source in sources:
        items = merged.setdefault(source.key, [])
        for name in source.fields:
            if source.group == "authors":
                names = source.detail.split(", ")
                shown = _join(names) if len(names) <= 4 else f"{', '.join(names[:3])} and {len(names) - 3} more"
                text = f"author{'s' if len(names) > 1 else ''} {shown}"
            elif source.group == "topic":
                text = f"the title's topic: {source.detail}"
            else:
                text = name
            if text not in items:
                items.append(text)
    return merged


# ------------------------------------------------------------------------------------------------
# Explanations (our own templates)
# ------------------------------------------------------------------------------------------------


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _shorten(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_HOW_FOUND = {
    "identifier": "its DOI or PMID",
    "title": "its title",
    "authors": "its authors",
    "locator": "journal, year, volume and first page",
}


def _correction(f: _Field, limit: int = 10_000) -> str:
    if f.name == "authors":
        return f"authors: {f.detail if limit > 1000 else f.detail.replace('; ', ', ')}"
    return f"{f.name}: '{_shorten(f.printed, limit)}' should be '{_shorten(f.true, limit)}'"


def _explain(number: int | None, verdict: str, best: _Comparison | None, wrong: list[str],
             merged: dict[str, list[str]], unmatched: list[str], nearest: list[str],
             unknown_names: Sequence[str] = ()) -> str:
    who = f"Printed citation [{number}]" if number is not None else "The printed citation"
    if verdict in ("verified", "garbled") and best is not None:
        how = _join([_HOW_FOUND[s] for s in best.signals if s in _HOW_FOUND])
        head = f"{who} is {best.record.key} ({best.record.label}), recognised by {how}"
        if verdict == "verified":
            return f"{head}; every field it prints agrees with the verified record."
        right = [n for n in AUDIT_FIELDS if n in best.fields and best.fields[n].agrees is True]
        text = f"{head}, but {len(wrong)} field{'s are' if len(wrong) > 1 else ' is'} wrong: " + "; ".join(
            _correction(best.fields[n], 70) for n in wrong) + "."
        if right:
            text += f" Right: {_join(right)}."
        others = {k: v for k, v in merged.items() if k != best.record.key}
        if others:
            text += " The wrong values resemble " + _join(
                [f"{k} ({_join(v)})" for k, v in others.items()]) + "; a resemblance, not proof of their origin."
        return text
    if verdict == "conflated":
        text = (f"{who} matches no single verified record; its fields point to different publications: "
                + "; ".join(f"{k} ({', '.join(v)})" for k, v in merged.items()) + ".")
        if unmatched:
            text += f" {_join(unmatched).capitalize()} match{'' if len(unmatched) > 1 else 'es'} none of them."
        if unknown_names:
            text += f" {_join(unknown_names)} {'is' if len(unknown_names) == 1 else 'are'} an author of none of them."
        return text + " Check the original before calling it fabricated."
    text = f"{who} matches no verified record well enough to name it."
    if nearest:
        text += f" Nearest: {_join(nearest)}."
    return text + " This is a lead to check, not proof that the work does not exist."


# ------------------------------------------------------------------------------------------------
# Result and entry point
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AuditResult:
    """The citation audit: one row per printed citation, and the field-by-field comparisons.

    Attributes
    ----------
    citations
        :data:`CITATION_COLUMNS`: ``printed_number``, ``key`` (article.bib key),
        ``verdict`` (:data:`CITATION_VERDICTS`), ``best_match`` (the record meant, or
        the nearest record for ``conflated`` / ``not found``), ``score`` (its overall
        score, 0-1), ``wrong_fields`` (for ``garbled``: fields that disagree with the
        record meant; otherwise printed fields that agree with none of the records it
        resembles), ``corrections`` (``garbled``: what each wrong field should be),
        ``resembles`` (record keys: the one meant first, then the records the other
        fields resemble), ``sources`` (``"key: fields"`` for each record named),
        ``explanation`` (one plain sentence or three).
    fields
        :data:`FIELD_COLUMNS`, one row per printed citation x field x candidate record:
        ``printed_value``, ``true_value`` (the candidate's), ``agrees`` (missing when
        either side is empty), ``similarity`` (0-1), ``detail`` (author issues and the
        like) and ``attributed`` (the audit names this candidate as where the printed
        value comes from or resembles). The ``topic`` rows compare the terms the
        printed title names with the candidate's evidence fields; topic is never a
        wrong field.
    thresholds
        The :class:`AuditThresholds` used.
    """

    citations: pd.DataFrame
    fields: pd.DataFrame
    thresholds: AuditThresholds

    def to_frame(self) -> pd.DataFrame:
        """The citation table (:attr:`citations`).

        Examples
        --------
        >>> audit = audit_citations(None)             # bundled article.bib and studies.bib
        >>> audit.to_frame().loc[1, "wrong_fields"]
        ['authors', 'title', 'issue', 'pages']
        """
        return self.citations

    def wrong_field_table(self) -> pd.DataFrame:
        """One row per wrong field: printed key, verdict, field, printed and true value, record, detail.

        For ``garbled`` citations the true value is the record meant; for ``conflated``
        and ``not found`` there is no true record and the true value is empty.

        Examples
        --------
        >>> table = audit_citations(None).wrong_field_table()
        >>> table.loc[table["key"] == "printed2", ["field", "printed_value", "true_value"]].values[2:].tolist()
        [['issue', '16', '9'], ['pages', '1444–1451', '858–866']]
        """
        rows = []
        for citation in self.citations.to_dict("records"):
            for name in citation["wrong_fields"]:
                match = self.fields[(self.fields["printed_key"] == citation["key"]) & (self.fields["field"] == name)
                                    & (self.fields["candidate"] == citation["best_match"])]
                printed = match["printed_value"].iloc[0] if len(match) else ""
                garbled = citation["verdict"] == "garbled" and len(match)
                rows.append({
                    "printed_number": citation["printed_number"], "key": citation["key"],
                    "verdict": citation["verdict"], "field": name, "printed_value": printed,
                    "true_value": match["true_value"].iloc[0] if garbled else "",
                    "record": citation["best_match"] if garbled else "",
                    "detail": match["detail"].iloc[0] if garbled else "matches none of the records it resembles",
                })
        columns = ["printed_number", "key", "verdict", "field", "printed_value", "true_value", "record", "detail"]
        return pd.DataFrame(rows, columns=columns)


def _as_table(value: object, schema: str) -> pd.DataFrame:
    from .references import read_references

    if isinstance(value, pd.DataFrame):
        return value
    if value is None or isinstance(value, str | Path):
        return read_references(value, schema=schema)
    raise TypeError(f"Expected a .bib path or a references DataFrame, got {type(value).__name__}.")


def _candidates(printed: _Record, records: list[_Record], titles: list[str], topic: _Topic,
                th: AuditThresholds) -> list[int]:
    """Indices of candidate records (see the module docstring, step 1)."""
    chosen: dict[int, None] = {}
    p_last = {_parse_name(n).last for n in printed.authors}

    def related(record: _Record, title: str) -> bool:
        if (printed.doi and printed.doi == record.doi) or (printed.pmid and printed.pmid == record.pmid):
            return True
        if printed.title and title and _title_similarity(printed.title, record.title) >= th.title_candidate:
            return True
        if p_last.intersection(_parse_name(n).last for n in record.authors):
            return True
        if not (printed.journal and record.journal and same_journal(printed.journal, record.journal)):
            return False
        same_volume = bool(printed.volume) and _norm_number(printed.volume) == _norm_number(record.volume)
        return (printed.year == record.year and same_volume) or _first_page_agrees(printed, record)

    for i, record in enumerate(records):
        if related(record, titles[i]):
            chosen[i] = None
    if topic.modalities and th.topic_candidates:
        topical = [(i, _topic_similarity(topic, r.modalities, r.design, r.population)) for i, r in enumerate(records)]
        topical = [(i, s) for i, s in topical if s >= th.topic_match]
        topical.sort(key=lambda item: (-item[1], _year_distance(printed, records[item[0]])))
        for i, _ in topical[: th.topic_candidates]:
            chosen[i] = None
    return list(chosen)


def audit_citations(printed: str | Path | pd.DataFrame | None, references: str | Path | pd.DataFrame | None = None,
                    thresholds: AuditThresholds | None = None) -> AuditResult:
    """Compare each printed citation with the verified records, field by field, and give a verdict.

    Parameters
    ----------
    printed
        The printed citations: a .bib path (read with ``schema="printed"``; ``None`` =
        the bundled refs/article.bib) or a references-style DataFrame with any of the
        columns ``key``, ``printed_number``, ``authors`` (list of names, or a BibTeX
        author string), ``et_al``, ``title``, ``journal``, ``year``, ``volume``,
        ``issue``, ``pages``, ``doi``, ``pmid``.
    references
        The verified records: the table of :func:`~lbpevidence.read_references`, or a
        path to read (``None`` = the bundled refs/studies.bib).
    thresholds
        :class:`AuditThresholds`; the defaults are documented there.

    Returns
    -------
    AuditResult
        ``.citations`` (one row per printed citation) and ``.fields`` (long table);
        ``.to_frame()`` returns ``.citations``.

    Notes
    -----
    How fields are attributed when no record is clearly meant (and, for a garbled
    citation, where its wrong values resemble other records):

    1. authors, name by name: the record whose list best matches the printed one takes
       the names it contains; each remaining name goes to the best record containing
       it. A record is named only for a name with compatible initials or for two names;
    2. the title, to the record with the most similar title (at least ``title_match``);
    3. otherwise the title's topic (modality, design, population terms of the
       vocabulary) to a record with that topic (at least ``topic_match``): a record
       already named for another field first, then the one published nearest the
       printed year;
    4. journal + year + volume to a record agreeing on all three;
    5. pages to a record in the same journal with the same first page;
    6. any other field to a record named above that agrees on it.

    The citation is ``conflated`` when two of these groups point to two different
    records; with fewer it is ``not found``.

    Examples
    --------
    >>> import pandas as pd
    >>> printed = pd.DataFrame({"key": ["p1"], "authors": [["Cherkin DC", "Sherman KJ", "et al."]],
    ...     "title": ["A randomized trial comparing acupuncture, simulated acupuncture, and usual care "
    ...               "for chronic low back pain"], "journal": ["Archives of Internal Medicine"],
    ...     "year": [2009], "volume": ["169"], "issue": ["9"], "pages": ["858-66"]})
    >>> audit = audit_citations(printed)
    >>> audit.citations.loc[0, ["verdict", "best_match", "wrong_fields"]].tolist()
    ['verified', 'cherkin2009randomized', []]
    >>> wrong_year = printed.assign(year=[2010])
    >>> audit_citations(wrong_year).citations.loc[0, ["verdict", "wrong_fields"]].tolist()
    ['garbled', ['year']]
    """
    th = thresholds if thresholds is not None else AuditThresholds()
    if not isinstance(th, AuditThresholds):
        raise TypeError(f"The value for `thresholds` must be an AuditThresholds, but {th!r} was passed.")
    printed_table = _as_table(printed, "printed")
    reference_table = _as_table(references, "studies")
    records = _records(reference_table)
    titles = [normalise_title(r.title) for r in records]
    citation_rows, field_rows = [], []
    for p in _records(printed_table):
        topic = _title_topic(p.title)
        comps = [_compare(p, records[i], topic, th) for i in _candidates(p, records, titles, topic, th)]
        row, attributed = _judge(p, comps, th)
        citation_rows.append(row)
        for comp in sorted(comps, key=lambda c: -c.score):
            for name, f in comp.fields.items():
                field_rows.append({
                    "printed_key": p.key, "printed_number": p.number, "field": name, "candidate": comp.record.key,
                    "candidate_score": round(comp.score, 4), "printed_value": f.printed, "true_value": f.true,
                    "agrees": f.agrees, "similarity": None if math.isnan(f.similarity) else round(f.similarity, 4),
                    "detail": f.detail, "attributed": (name, comp.record.key) in attributed,
                })
    citations = pd.DataFrame(citation_rows, columns=CITATION_COLUMNS)
    citations["printed_number"] = pd.array(citations["printed_number"].tolist(), dtype="Int64")
    citations["score"] = citations["score"].astype("float64")
    table = pd.DataFrame(field_rows, columns=FIELD_COLUMNS)
    table["printed_number"] = pd.array(table["printed_number"].tolist(), dtype="Int64")
    table["agrees"] = pd.array(table["agrees"].tolist(), dtype="boolean")
    table["similarity"] = table["similarity"].astype("float64")
    table["attributed"] = table["attributed"].astype(bool)
    return AuditResult(citations, table, th)


def _judge(p: _Record, comps: list[_Comparison], th: AuditThresholds) -> tuple[dict, set[tuple[str, str]]]:
    """The verdict for one printed citation, and the (field, key) pairs it attributes."""
    printed_fields = [n for n in AUDIT_FIELDS if getattr(p, n)]
    # A citation printing only some of title, authors and locator needs fewer signals.
    available = sum((bool(p.title), bool(p.authors), all((p.journal, p.year, p.volume, p.pages))))
    needed = max(1, min(th.identify_signals, available))
    identified = [c for c in comps if "identifier" in c.signals
                  or sum(s in ("title", "authors", "locator") for s in c.signals) >= needed]
    best = max(identified, key=lambda c: ("identifier" in c.signals, len(c.signals), c.score)) if identified \
        else (max(comps, key=lambda c: c.score) if comps else None)
    attributed: set[tuple[str, str]] = set()
    if identified and best is not None:
        wrong = [n for n in AUDIT_FIELDS if n in best.fields and best.fields[n].agrees is False]
        verdict = "garbled" if wrong else "verified"
        for n in AUDIT_FIELDS:
            if n in best.fields and best.fields[n].agrees is True:
                attributed.add((n, best.record.key))
        others = [c for c in comps if c is not best]
        sources = _attribute(p, others, wrong, th, use_topic=False) if wrong else []
        if "authors" in wrong:  # another list must beat the record meant to be named
            sources = [s for s in sources if s.group != "authors"
                       or _author_beats(next(c for c in others if c.record.key == s.key), best)]
        merged = _merge_sources(sources)
        resembles = [best.record.key, *[k for k in merged if k != best.record.key]]
        all_merged = {best.record.key: [n for n in AUDIT_FIELDS if (n, best.record.key) in attributed], **merged}
        corrections = [_correction(best.fields[n]) for n in wrong]
        unmatched: list[str] = []
        nearest: list[str] = []
    else:
        sources = _attribute(p, comps, printed_fields, th, use_topic=True)
        merged = _merge_sources(sources)
        groups_by_key: dict[str, set[str]] = {}
        for s in sources:
            if s.group != "other":
                groups_by_key.setdefault(s.key, set()).add(s.group)
        pairs = [(k, g) for k, gs in groups_by_key.items() for g in gs]
        conflated = any(k1 != k2 and g1 != g2 for k1, g1 in pairs for k2, g2 in pairs)
        verdict = "conflated" if conflated else "not found"
        covered = {f for s in sources for f in s.fields}
        unmatched = [n for n in printed_fields if n not in covered]
        wrong = unmatched
        nearest = [c.record.key for c in sorted(comps, key=lambda c: -c.score)
                   if c.score >= th.min_resemblance][: th.nearest]
        resembles = list(merged) if conflated else list(dict.fromkeys([*merged, *nearest]))[: max(th.nearest,
                                                                                                  len(merged))]
        all_merged = merged
        corrections = []
        if verdict == "not found":
            nearest = resembles
    for s in sources:
        for n in s.fields:
            attributed.add((n if s.group != "topic" else "topic", s.key))
            if s.group == "topic":
                attributed.add(("title", s.key))
    named = {n.strip() for s in sources if s.group == "authors" for n in s.detail.split(",")}
    unknown_names = [] if identified else [_parse_name(n).text.split(",")[0] for n in p.authors
                                           if _parse_name(n).text.split(",")[0] not in named]
    explanation = _explain(p.number, verdict, best, wrong, merged if verdict != "not found" else {}, unmatched,
                           nearest, unknown_names)
    row = {
        "printed_number": p.number, "key": p.key, "verdict": verdict,
        "best_match": best.record.key if best is not None else "",
        "score": round(best.score, 4) if best is not None else 0.0,
        "wrong_fields": wrong, "corrections": corrections, "resembles": resembles,
        "sources": [f"{k}: {', '.join(v)}" for k, v in all_merged.items() if v],
        "explanation": explanation,
    }
    return row, attributed


def _in_place(comparison: AuthorComparison) -> int:
    return sum(j == i and ok for i, (j, ok) in enumerate(zip(comparison.positions, comparison.initials_ok,
                                                              strict=True)))


def _author_beats(other: _Comparison, best: _Comparison) -> bool:
    """Another record's list resembles the printed one better: more printed names sit in their printed places."""
    return _in_place(other.authors) > _in_place(best.authors)


# ------------------------------------------------------------------------------------------------
# Claims table
# ------------------------------------------------------------------------------------------------

CLAIM_COLUMNS = ["claim_id", "location", "modality", "outcome", "population", "claimed_direction",
                 "claimed_strength", "citation", "claim", "notes"]
_REQUIRED_CLAIM_COLUMNS = ("claim_id", "modality", "outcome", "population", "claimed_direction",
                           "claimed_strength", "claim")
CLAIM_DIRECTIONS = ("benefit", "no-benefit", "harm")
CLAIM_STRENGTHS = ("strong", "moderate", "weak", "unspecified")
_CLAIM_ID = re.compile(r"^C\d{2,}$")


def _printed_numbers(printed: object, file_path: Path) -> set[int] | None:
    from .references import read_references

    if isinstance(printed, pd.DataFrame):
        table = printed
    elif printed is not None:
        table = read_references(printed, strict=False, schema="printed")[0]
    else:
        sibling = file_path.parent / "article.bib"
        if not sibling.exists():
            return None
        table = read_references(sibling, strict=False, schema="printed")[0]
    if "printed_number" not in table.columns:
        return None
    return {int(n) for n in table["printed_number"] if n is not None and n is not pd.NA and not (
        isinstance(n, float) and math.isnan(n))}


def parse_claims(text: str, file: str = "<string>", printed_numbers: set[int] | None = None,
                 initial_problems: list[Problem] | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse claims CSV ``text`` into (table, problems); never raises on bad data.

    Examples
    --------
    >>> text = ("claim_id,location,modality,outcome,population,claimed_direction,claimed_strength,citation,claim\\n"
    ...         "C01,paragraph 3,acupunture,pain,chronic,benefit,strong,,Acupuncture eases pain.\\n")
    >>> table, problems = parse_claims(text, "claims.csv")
    >>> print(problems[0])
    claims.csv:2 C01 modality: found 'acupunture', expected a known modality (did you mean 'acupuncture'?); \
see refs/README.md
    """
    problems = list(initial_problems or [])
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    problems.extend(check_header(header, _REQUIRED_CLAIM_COLUMNS, CLAIM_COLUMNS, file, "claim"))
    records: list[dict] = []
    first_line: dict[str, int] = {}
    for line, _end, cells in csv_rows(reader, file, problems):  # shared with outcomes: no cell-size limit
        if not any(cell.strip() for cell in cells):
            continue
        raw = {k: (v or "").strip() for k, v in zip(header, cells, strict=False)}
        key = raw.get("claim_id", "")
        row_problems: list[Problem] = []

        def add(column: str, found: str, expected: str, severity: str = "error", key: str = key, line: int = line,
                bucket: list[Problem] = row_problems) -> None:
            bucket.append(Problem(file, line, key, column, found, expected, severity))

        if len(cells) != len(header):
            add("", f"{len(cells)} cells", f"{len(header)} cells as in the header")
        record: dict[str, Any] = {c: raw.get(c, "") for c in CLAIM_COLUMNS}
        if not key:
            add("claim_id", "an empty cell", "an id like C01")
        elif not _CLAIM_ID.match(key):
            add("claim_id", repr(key), "an id of the form Cnn (C01, C02, ...)")
        elif key in first_line:
            add("claim_id", f"duplicate claim_id '{key}'", f"unique ids (first at line {first_line[key]})")
        else:
            first_line[key] = line
        for column, kind, extra in (("modality", "modality", None), ("outcome", "outcome", "any"),
                                    ("population", "population", "mixed")):
            value = raw.get(column, "")
            if not value:
                add(column, "an empty cell", f"a {kind} term" + (f" or '{extra}'" if extra else ""))
                continue
            if extra and value.lower() == extra:
                record[column] = extra
                continue
            term, suggestion = resolve(kind, value)
            if term is None:
                hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
                alternative = f" or '{extra}'" if extra and extra != "mixed" else ""
                add(column, repr(value), f"a known {kind}{alternative}{hint}; see refs/README.md")
            record[column] = term or value
        for column, allowed in (("claimed_direction", CLAIM_DIRECTIONS), ("claimed_strength", CLAIM_STRENGTHS)):
            value = raw.get(column, "")
            if value.lower() not in allowed:
                close = [a for a in allowed if a.startswith(value.lower()[:3])] if value else []
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                add(column, repr(value) if value else "an empty cell", f"one of {', '.join(allowed)}{hint}")
            else:
                record[column] = value.lower()
        citation = raw.get("citation", "")
        record["citation"] = None
        if citation:
            if not citation.isdigit():
                add("citation", repr(citation), "a printed citation number (1, 2, ...) or an empty cell")
            else:
                number = int(citation)
                record["citation"] = number
                if printed_numbers is not None and number not in printed_numbers:
                    shown = ", ".join(str(n) for n in sorted(printed_numbers)) or "none"
                    add("citation", repr(citation), f"a printed_number of article.bib ({shown}) or an empty cell")
        if not raw.get("claim", ""):
            add("claim", "an empty cell", "the claim, paraphrased in our words")
        if "location" in header and not raw.get("location", ""):
            add("location", "an empty cell", "where the claim stands in the article ('paragraph 3')", "warning")
        record["line"] = line
        record["valid"] = not any(p.severity == "error" for p in row_problems)
        problems.extend(row_problems)
        records.append(record)
    if header and not records:
        problems.append(Problem(file, 0, "", "", "no rows", "one row per claim", "warning"))
    table = pd.DataFrame(records, columns=[*CLAIM_COLUMNS, "line", "valid"])
    table["citation"] = pd.array([r["citation"] for r in records], dtype="Int64")
    table["line"] = pd.array(table["line"].tolist(), dtype="Int64")
    table["valid"] = table["valid"].astype(bool)
    problems.sort(key=lambda p: (p.line, p.field))
    return table, problems


@overload
def read_claims(path: str | Path | None = ..., strict: Literal[True] = ..., *,
                printed: object = ...) -> pd.DataFrame: ...
@overload
def read_claims(path: str | Path | None = ..., strict: Literal[False] = ..., *,
                printed: object = ...) -> tuple[pd.DataFrame, pd.DataFrame]: ...


def read_claims(path: str | Path | None = None, strict: bool = True, *, printed: object = None):
    """Read claims.csv into a validated DataFrame, one row per claim.

    Parameters
    ----------
    path
        claims.csv, or a refs/ folder holding it; ``None`` = the bundled table.
    strict
        ``True``: raise :class:`~lbpevidence.errors.ClaimsTableError` listing every
        error. ``False``: return ``(table, problems)``; rows with errors stay in the
        table with ``valid = False``.
    printed
        The printed citations whose numbers ``citation`` may use: a DataFrame with
        ``printed_number`` or a .bib path. ``None`` reads article.bib next to the claims
        file; when there is none, citation numbers are not checked.

    Returns
    -------
    DataFrame
        :data:`CLAIM_COLUMNS` (terms canonical, ``citation`` nullable Int64) plus
        ``line`` (1-based CSV line) and ``valid``.

    Examples
    --------
    >>> claims = read_claims()
    >>> claims.loc[0, ["claim_id", "modality", "outcome"]].tolist(), int(claims.loc[0, "citation"])
    (['C01', 'exercise', 'any'], 3)
    """
    file_path = resolve_refs_file(path, "claims.csv")
    file = str(file_path)
    text, problems = read_text(file_path, file, "an existing claims .csv file")  # a FIFO: a problem, not a hang
    if text is None:
        table = pd.DataFrame(columns=[*CLAIM_COLUMNS, "line", "valid"])
    else:
        table, problems = parse_claims(text, file, _printed_numbers(printed, file_path), problems)
    table.attrs["path"] = file
    return table_result(table, problems, strict, ClaimsTableError, file)


# ------------------------------------------------------------------------------------------------
# Claims against the evidence verdicts
# ------------------------------------------------------------------------------------------------

VERDICT_TABLE_COLUMNS = ["modality", "outcome", "population", "comparator_class", "window", "k", "participants",
                         "measure", "estimate", "ci_low", "ci_high", "certainty", "verdict", "basis", "reasons",
                         "evidence"]
EVIDENCE_VERDICTS = tuple(VERDICTS)
CERTAINTIES = (*CERTAINTY_LEVELS, "")
CLAIM_VERDICTS = ("supported", "overstated", "unsupported", "contradicted", "no evidence in table")
CLAIM_RESULT_COLUMNS = ["claim_id", "modality", "outcome", "population", "claimed_direction", "claimed_strength",
                        "citation", "verdict", "reason", "evidence_outcome", "evidence_population", "comparator_class",
                        "window", "evidence_verdict", "certainty", "rated_by", "basis", "measure", "estimate",
                        "ci_low", "ci_high", "evidence", "rows_considered", "other_rows"]


@dataclass(frozen=True)
class ClaimRules:
    """Every rule that turns a claim and its evidence row into a claim verdict.

    Which evidence row a claim is judged on is not decided here: :func:`lbpevidence.evidence.for_claim`
    chooses it by the same rule as the headline.

    Attributes
    ----------
    strong_needs, moderate_needs, weak_needs, unspecified_needs
        Lowest certainty that supports a claim of that strength. ``strong`` ("strong research
        backing", "crucial") needs moderate certainty; ``moderate`` ("effective") and ``weak``
        ("can help") need low: at very low certainty GRADE says only that the evidence is very
        uncertain, which supports no claim.
    overstate_below_mid
        Strengths that overstate a benefit below the minimal important difference.
    contradict_at
        Certainties at which "no important difference" (or an important benefit, for a
        no-benefit claim) contradicts the claim; below them the claim is unsupported.

    Examples
    --------
    >>> ClaimRules().needed("strong"), ClaimRules().needed("weak")
    ('moderate', 'low')
    >>> ClaimRules().meets("low", "moderate"), ClaimRules().meets("very low", "weak")
    (True, False)
    """

    strong_needs: str | None = "moderate"
    moderate_needs: str | None = "low"
    weak_needs: str | None = "low"
    unspecified_needs: str | None = "low"
    overstate_below_mid: tuple[str, ...] = ("strong", "moderate")
    contradict_at: tuple[str, ...] = ("high", "moderate")

    def __post_init__(self) -> None:
        for name in ("strong_needs", "moderate_needs", "weak_needs", "unspecified_needs"):
            value = getattr(self, name)
            if value is not None:
                check_choice(name, value, CERTAINTY_LEVELS)
        for value in self.contradict_at:
            check_choice("contradict_at", value, CERTAINTY_LEVELS)
        for value in self.overstate_below_mid:
            check_choice("overstate_below_mid", value, CLAIM_STRENGTHS)

    def needed(self, strength: str) -> str | None:
        """Lowest certainty that supports a claim of ``strength``."""
        check_choice("strength", strength, CLAIM_STRENGTHS)
        return getattr(self, f"{strength}_needs")

    @staticmethod
    def rank(certainty: str) -> int:
        """0 for the best certainty; ungraded ranks last."""
        return CERTAINTY_LEVELS.index(certainty) if certainty in CERTAINTY_LEVELS else len(CERTAINTY_LEVELS)

    def meets(self, certainty: str, strength: str) -> bool:
        """True when evidence of ``certainty`` is enough for a claim of ``strength``."""
        need = self.needed(strength)
        return need is None or self.rank(certainty) <= self.rank(need)


def _check_verdict_table(verdicts: pd.DataFrame) -> None:
    missing = [c for c in VERDICT_TABLE_COLUMNS if c not in verdicts.columns]
    if missing:
        raise ValueError(f"The value for `verdicts` must have the columns {VERDICT_TABLE_COLUMNS}, "
                         f"but {missing} are missing.")
    for value in verdicts["verdict"]:
        check_choice("verdict", value, list(EVIDENCE_VERDICTS))
    for value in verdicts["certainty"]:
        check_choice("certainty", "" if is_blank(value) else value, CERTAINTIES)


def _describe_evidence(row: Mapping[str, Any]) -> str:
    certainty = f"{row['certainty']} certainty" if row["certainty"] else "not graded"
    window = {"": "", "any": " (any follow-up)"}.get(row["window"], f" ({row['window']})")
    comparator = COMPARISON_LABELS.get(row["comparator_class"], f"{row['comparator_class']} comparator")
    population = row.get("population") or ""
    population = "" if population in ("", "any") else f"{POPULATION_GROUP_LABELS.get(population, population)} pain, "
    basis = row["basis"] or "basis not stated"
    return f"{row['outcome']}, {population}vs {comparator}{window}: {row['verdict']}, {certainty}, {basis}"


def _judge_claim(claim: Mapping[str, Any], row: Mapping[str, Any], rules: ClaimRules) -> tuple[str, str]:
    """(claim verdict, reason) for one claim judged on its evidence row."""
    direction, strength = claim["claimed_direction"], claim["claimed_strength"]
    certainty = row["certainty"] or ""
    shown = f"{certainty} certainty" if certainty else "no certainty grade"
    need = rules.needed(strength)
    verdict = row["verdict"]
    shows = VERDICTS[verdict].direction
    weak_evidence = f"A {strength} claim needs at least {need} certainty; this evidence has {shown}."
    if direction == "benefit":
        if shows == "harm":
            result = "contradicted", "The claim says it helps, but the evidence favours the comparator."
        elif verdict == "no comparative estimate":
            result = "unsupported", "Only changes without a control group were reported: they cannot show a benefit."
        elif shows == "unknown":
            result = "unsupported", "The evidence is too imprecise to judge the claim."
        elif shows == "none" and row["comparator_class"] == "active":
            result = "unsupported", ("The evidence compares it with other active treatments and finds no important "
                                     "difference: that says it works about as well as they do, not whether it "
                                     "beats no treatment.")
        elif shows == "none" and certainty in rules.contradict_at:
            result = "contradicted", f"The claim says it helps, but the evidence shows no important difference, " \
                                     f"with {shown}."
        elif shows == "none":
            result = "unsupported", f"No benefit was shown, but with {shown} that neither supports nor rules out " \
                                    "the claim."
        elif verdict == "benefit below MID" and strength in rules.overstate_below_mid:
            result = "overstated", (f"A {strength} claim of benefit overstates an effect smaller than the minimal "
                                    "important difference.")
        elif not rules.meets(certainty, strength):
            result = "overstated" if certainty == "low" or need == "moderate" else "unsupported", weak_evidence
        else:
            result = "supported", f"The evidence agrees with a {strength} claim of benefit."
    elif direction == "no-benefit":
        if shows == "unknown":
            result = "unsupported", "The evidence is too imprecise to judge the claim."
        elif verdict == "important benefit" and certainty in rules.contradict_at:
            result = "contradicted", f"The claim says it does not help, but an important benefit was shown with " \
                                     f"{shown}."
        elif shows == "benefit" and not VERDICTS[verdict].quantified:
            result = "unsupported", "The sources report a benefit without a size, so the claim cannot be checked."
        elif verdict in ("important benefit", "benefit, possibly important", "benefit, size not judged"):
            result = "unsupported", f"A benefit was found, with {shown}: too uncertain to settle the claim."
        elif not rules.meets(certainty, strength):
            result = "unsupported", weak_evidence
        else:
            result = "supported", "The evidence shows no important benefit, as the claim says."
    elif shows == "harm":
        result = ("unsupported", weak_evidence) if not rules.meets(certainty, strength) else (
            "supported", "The evidence favours the comparator, as the claim of harm says.")
    else:
        result = "unsupported", "The evidence shows no harm for this outcome."
    return result[0], f"{result[1]} Evidence: {_describe_evidence(row)}."


def _keys(value: object) -> list[str]:
    """Study keys as a list, whether given as a list, tuple, array or '; '-separated text."""
    if isinstance(value, str):
        return [k for k in re.split(r"[;,\s]+", value) if k]
    if hasattr(value, "__iter__"):
        return [str(k) for k in value]  # type: ignore[union-attr]
    return [] if is_blank(value) else [str(value)]


def check_claims(claims: pd.DataFrame | str | Path | None, verdicts: pd.DataFrame,
                 rules: ClaimRules | None = None) -> pd.DataFrame:
    """Compare each claim's direction and strength with the evidence that answers it.

    Parameters
    ----------
    claims
        The claims table (:func:`read_claims`), or a path to read; ``None`` = bundled.
    verdicts
        The answers table (:func:`lbpevidence.evidence.answers`: one row per modality x outcome x
        population x comparison) with at least :data:`VERDICT_TABLE_COLUMNS`; ``verdict`` one of
        :data:`EVIDENCE_VERDICTS`, ``certainty`` one of :data:`CERTAINTIES`, ``evidence`` a list
        of study keys.
    rules
        :class:`ClaimRules`.

    Returns
    -------
    DataFrame
        :data:`CLAIM_RESULT_COLUMNS`, one row per claim, in claim order: the claim, its
        ``verdict`` (:data:`CLAIM_VERDICTS`), a plain ``reason``, and the evidence row it was
        judged on (``evidence_outcome``, ``evidence_population``, ``comparator_class``,
        ``window``, ``evidence_verdict``, ``certainty``, ``rated_by``, ``basis``, ``measure``,
        ``estimate``, ``ci_low``, ``ci_high``, ``evidence`` keys); ``rows_considered`` counts the
        answers for the claim's modality, outcome and population, ``other_rows`` describes the
        ones not chosen.

    Notes
    -----
    The evidence row is chosen by :func:`lbpevidence.evidence.for_claim`, the same rule as the
    headline's primary answer, among the answers whose population matches the claim's.

    Claim verdicts, for a claim of benefit:

    - ``contradicted``: the evidence favours the comparator (a harm verdict), or "no important
      difference" from an inactive, sham or mixed comparator at a certainty in ``contradict_at``;
    - ``unsupported``: "insufficient evidence", no comparative estimate, "no important
      difference" at lower certainty or against another active treatment (similar to other
      treatments is not "ineffective"), or very low certainty;
    - ``overstated``: "benefit below MID" for a strength in ``overstate_below_mid``, or a benefit
      at a certainty below what the strength needs;
    - ``supported``: otherwise;
    - ``no evidence in table``: no answer for the modality, outcome and population.

    A no-benefit claim is contradicted by an important benefit at a certainty in
    ``contradict_at`` and supported by no important difference or a benefit below the MID; a
    harm claim is supported only by a harm verdict.

    Examples
    --------
    >>> import pandas as pd
    >>> claims = pd.DataFrame({"claim_id": ["C01", "C02"], "modality": ["acupuncture", "yoga"],
    ...     "outcome": ["pain", "any"], "population": ["chronic", "mixed"],
    ...     "claimed_direction": ["benefit", "benefit"], "claimed_strength": ["strong", "weak"]})
    >>> verdicts = pd.DataFrame([{"modality": "acupuncture", "outcome": "pain", "population": "chronic",
    ...     "comparator_class": "sham", "window": "short-term", "k": 5, "participants": 1200, "year": 2020,
    ...     "measure": "SMD", "estimate": -0.2, "ci_low": -0.3, "ci_high": -0.1, "certainty": "low",
    ...     "rated_by": "lbpevidence (GRADE rules)", "verdict": "benefit below MID", "basis": "pooled",
    ...     "reasons": "", "evidence": ["a", "b"], "off_scale": False, "reported_certainty": ""}])
    >>> check_claims(claims, verdicts)[["claim_id", "verdict"]].values.tolist()
    [['C01', 'overstated'], ['C02', 'no evidence in table']]
    """
    from .evidence import for_claim

    rules = rules if rules is not None else ClaimRules()
    if not isinstance(rules, ClaimRules):
        raise TypeError(f"The value for `rules` must be a ClaimRules, but {rules!r} was passed.")
    if not isinstance(claims, pd.DataFrame):
        claims = read_claims(claims)
    if not isinstance(verdicts, pd.DataFrame):
        raise TypeError(f"The value for `verdicts` must be a DataFrame, but {type(verdicts).__name__} was passed.")
    _check_verdict_table(verdicts)
    answers = verdicts.copy()
    for column in ("certainty", "window", "basis", "comparator_class", "measure", "population"):
        answers[column] = answers[column].map(lambda v: "" if is_blank(v) else v)
    for column, default in (("rated_by", ""), ("reported_certainty", ""), ("off_scale", False), ("year", pd.NA)):
        if column not in answers.columns:
            answers[column] = default
    results = []
    for claim in claims.to_dict("records"):
        claim.setdefault("population", "")
        claim.setdefault("citation", None)
        base = {c: claim.get(c) for c in ("claim_id", "modality", "outcome", "population", "claimed_direction",
                                          "claimed_strength", "citation")}
        head, rows, note = for_claim(answers, claim["modality"], claim["outcome"], claim["population"] or "mixed")
        if head is None:
            what = "any outcome" if claim["outcome"] == "any" else claim["outcome"]
            population = claim["population"] if claim["population"] not in ("", "mixed") else "any population"
            results.append({**base, "verdict": "no evidence in table",
                            "reason": f"The evidence table has no answer for {claim['modality']}, {what} and "
                                      f"{population}.",
                            "evidence": [], "rows_considered": 0, "other_rows": []})
            continue
        verdict, reason = _judge_claim(claim, head, rules)
        if note:
            reason = f"{reason} ({note}.)"
        results.append({
            **base, "verdict": verdict, "reason": reason, "evidence_outcome": head["outcome"],
            "evidence_population": head["population"], "comparator_class": head["comparator_class"],
            "window": head["window"], "evidence_verdict": head["verdict"], "certainty": head["certainty"],
            "rated_by": head["rated_by"], "basis": head["basis"], "measure": head["measure"],
            "estimate": head["estimate"], "ci_low": head["ci_low"], "ci_high": head["ci_high"],
            "evidence": _keys(head["evidence"]), "rows_considered": len(rows),
            "other_rows": [_describe_evidence(r) for r in rows.to_dict("records") if r is not head
                           and not (r["comparator_class"] == head["comparator_class"]
                                    and r["population"] == head["population"]
                                    and r["outcome"] == head["outcome"])],
        })
    table = pd.DataFrame(results, columns=CLAIM_RESULT_COLUMNS)
    table["rows_considered"] = table["rows_considered"].fillna(0).astype(int)
    return table
