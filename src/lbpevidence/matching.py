"""Matching: when two titles, journals, page ranges or author lists name the same thing.

One implementation of each comparison, used wherever records are matched: the citation
audit (:mod:`lbpevidence.citations`, a printed citation against verified records) and
duplicate detection on import (:mod:`lbpevidence.importers`). Names are split by
:mod:`lbpevidence.names`; this module compares them. It is the only module that imports
rapidfuzz.

- :func:`normalise_title`: LaTeX decoded, accents, case, punctuation and hyphen or dash
  variants ignored; :func:`title_similarity` (rapidfuzz ``ratio``) and
  :func:`similar_titles` (``token_sort_ratio``) score what is left;
- :func:`same_journal`: one entry of :data:`JOURNAL_ABBREVIATIONS` (full name or MEDLINE
  abbreviation), or word lists whose words are prefixes of one another (ISO 4 style);
- :func:`same_pages`, :func:`page_range`, :func:`same_number`: ``858-66`` is ``858-866``,
  ``09`` is ``9``;
- :func:`compare_authors`: name by name and in order (:class:`AuthorComparison`);
  :func:`name_key` is the last name as compared.

Examples
--------
>>> normalise_title(r"Low-back pain: the {C}ochrane review") == normalise_title("Low back pain. The Cochrane review")
True
>>> same_journal("Arch Intern Med", "Archives of Internal Medicine"), same_pages("858-66", "858--866")
(True, True)
>>> compare_authors(["Cherkin DC", "et al."], ["Cherkin, D. C.", "Sherman, K. J."]).agrees
True
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd
from rapidfuzz import fuzz, process

from .latex import decode_latex
from .names import author_list, initials, split_name

__all__ = [
    "JOURNAL_ABBREVIATIONS",
    "AuthorComparison",
    "AuthorName",
    "ascii_fold",
    "author_name",
    "cell_text",
    "compare_authors",
    "fold",
    "journal_similarity",
    "name_key",
    "normalise_journal",
    "normalise_title",
    "page_range",
    "same_journal",
    "same_number",
    "same_pages",
    "similar_titles",
    "title_similarity",
]


# --- text, titles, journals, pages ------------------------------------------------------------------------

_DASHES = re.compile(r"[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\-/]")
_NON_WORD = re.compile(r"[^\w\s]")
_PARENTHESES = re.compile(r"\([^)]*\)")
_NOT_KEY = re.compile(r"[^a-z0-9]")


# Letters that Unicode decomposition does not reduce to a base letter, and typographic punctuation.
_FOLD = str.maketrans({"ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ł": "l",
                       "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH", "ı": "i",
                       "–": "-", "—": "-", "’": "'", "‘": "'", "“": '"', "”": '"'})


def _unaccented(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def ascii_fold(text: str) -> str:
    """Transliterate ``text`` to ASCII: accents dropped, special letters spelled out.

    Characters with no ASCII form are dropped.

    Examples
    --------
    >>> ascii_fold("Müller, Søren, Łukasz, Straße, Ærø")
    'Muller, Soren, Lukasz, Strasse, AEro'
    """
    return _unaccented(text).encode("ascii", "ignore").decode("ascii")


def fold(text: object) -> str:
    """Text as compared: LaTeX decoded, accents dropped, special letters spelled out, lower case.

    Letters of other scripts stay (a title in Chinese still has words); missing is ``""``.

    >>> fold(r"M{\\"u}ller and S{\\o}ren"), fold(None)
    ('muller and soren', '')
    """
    if text is None or (isinstance(text, float) and math.isnan(text)) or text is pd.NA:
        return ""
    return _unaccented(decode_latex(str(text))).lower().strip()


def cell_text(value: object) -> str:
    """A table cell as text: ``""`` when missing, a whole float without its ``.0`` (a year read as 2009.0).

    >>> cell_text(2009.0), cell_text(float("nan")), cell_text("  Spine ")
    ('2009', '', 'Spine')
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def name_key(last: object) -> str:
    """A last name as compared: ASCII letters and digits only, lower case (``van Tulder`` -> ``vantulder``).

    >>> name_key("O'Sullivan"), name_key("Bø"), name_key(r"M{\\"u}ller")
    ('osullivan', 'bo', 'muller')
    """
    return _NOT_KEY.sub("", fold(last))


def normalise_title(title: object) -> str:
    """Title as compared: LaTeX decoded, no accents, lower case, no punctuation, hyphens as spaces.

    Examples
    --------
    >>> normalise_title(r"Low-back pain: the {C}ochrane review of M{\\"u}ller's {\\em trial}")
    'low back pain the cochrane review of mullers trial'
    >>> normalise_title("Low\u2013back pain") == normalise_title("low back pain")
    True
    """
    return _normalise_title(title if isinstance(title, str) else cell_text(title))


@lru_cache(maxsize=131072)
def _normalise_title(title: str) -> str:
    text = _DASHES.sub(" ", fold(title).replace("&", " and "))
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
    return _normalise_journal(name if isinstance(name, str) else cell_text(name))


@lru_cache(maxsize=65536)
def _normalise_journal(name: str) -> tuple[str, ...]:
    text = _PARENTHESES.sub(" ", fold(name).replace("&", " and "))
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


def journal_similarity(a: object, b: object) -> float:
    """0-1: 1 for the same journal (:func:`same_journal`), else rapidfuzz ``ratio`` of the normalised names.

    >>> journal_similarity("Spine (Phila Pa 1976)", "Spine"), round(journal_similarity("Spine", "Spine J"), 2)
    (1.0, 0.83)
    """
    if same_journal(a, b):
        return 1.0
    return fuzz.ratio(" ".join(normalise_journal(a)), " ".join(normalise_journal(b))) / 100


_PAGE = re.compile(r"^([A-Za-z]*)(\d+)([A-Za-z]*)$")
_RANGE = re.compile(r"^\s*(\S+?)\s*(?:-{1,3}|\u2013|\u2014|\u2212|\u2010|\u2011)\s*(\S+)\s*$")


def page_range(value: object) -> tuple[str, str]:
    """``(first, last)`` page, the last expanded from an abbreviated range; ``""`` when absent.

    >>> page_range("858-66"), page_range("E243-8"), page_range("CD009790"), page_range(None)
    (('858', '866'), ('E243', 'E248'), ('CD009790', ''), ('', ''))
    """
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
    fa, la = page_range(a)
    fb, lb = page_range(b)
    if not fa or not fb or fa != fb:
        return False
    return la == lb or not la or not lb


def _number(value: object) -> str:
    text = fold(value).replace(" ", "")
    return (text.lstrip("0") or text) if text.isdigit() else text


def same_number(a: object, b: object) -> bool:
    """True when two volume or issue numbers are equal, leading zeros, case and spaces ignored.

    >>> same_number("09", "9"), same_number("Suppl 1", "suppl1"), same_number("9", "19")
    (True, True, False)
    """
    return _number(a) == _number(b)


@lru_cache(maxsize=131072)
def _main_title(title: str) -> str:
    """The normalised title before a subtitle (': ', '. ', '? ')."""
    return normalise_title(re.split(r"[:.?]\s", decode_latex(title), maxsplit=1)[0])


def title_similarity(a: str, b: str) -> float:
    """0-1 similarity of two titles: rapidfuzz ``ratio`` of the normalised titles, or of their main titles.

    The better of the full titles and the main titles (before a colon, a full stop or a
    question mark followed by a space) counts, so a dropped subtitle still matches; NaN
    when either title is empty.

    >>> title_similarity("Yoga for chronic low back pain: a randomized trial", "Yoga for chronic low-back pain")
    1.0
    >>> round(title_similarity("Massage for back pain", "Heat wrap therapy"), 2)
    0.32
    """
    na, nb = normalise_title(a), normalise_title(b)
    if not na or not nb:
        return float("nan")
    full = fuzz.ratio(na, nb)
    if full == 100:
        return 1.0
    return max(full, fuzz.ratio(_main_title(a), _main_title(b))) / 100


def similar_titles(title: str, titles: Sequence[str], threshold: float) -> list[tuple[float, int]]:
    """``(score, position)`` of each of ``titles`` whose rapidfuzz ``token_sort_ratio`` with ``title`` is at least
    ``threshold`` (0-100), best first.

    The titles are compared as given: pass :func:`normalise_title` output. Word order does
    not count (``token_sort_ratio``), so a reordered title still matches.

    >>> similar_titles("yoga for back pain", ["yoga for the back pain", "heat wraps", "back pain yoga for"], 90)
    [(100.0, 2), (90.0, 0)]
    """
    found = process.extract(title, list(titles), scorer=fuzz.token_sort_ratio, score_cutoff=threshold, limit=None)
    return [(float(score), int(position)) for _, score, position in found]


# --- authors --------------------------------------------------------------------------------------------

_NOT_LETTER = re.compile(r"[^A-Za-z]")


@dataclass(frozen=True)
class AuthorName:
    """One printed or recorded name, as the comparison sees it.

    ``text`` is the name shown (``"Cherkin, D. C."``), ``last`` its last name as printed,
    ``key`` the last name as compared (:func:`name_key`), ``initials`` the initials as
    capitals without periods (``"DC"``).
    """

    text: str
    last: str
    key: str
    initials: str


@lru_cache(maxsize=65536)
def author_name(raw: str) -> AuthorName:
    """A name as ``Last, F. M.`` (read_references), ``Last, FM`` or ``Last FM`` (Vancouver).

    The name is split by :func:`lbpevidence.names.split_name` (``printed=True``).

    >>> author_name("Cherkin DC")
    AuthorName(text='Cherkin, D. C.', last='Cherkin', key='cherkin', initials='DC')
    """
    last, given = split_name(raw, printed=True)
    shown = initials(given)
    letters = _NOT_LETTER.sub("", shown).upper()
    return AuthorName(f"{last}, {shown}" if given else last, last, name_key(last), letters)


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
    p_names, p_trunc = author_list(printed, printed_truncated)
    r_names, r_trunc = author_list(record, record_truncated)
    P = [author_name(n) for n in p_names]
    R = [author_name(n) for n in r_names]
    if not P or not R:
        return AuthorComparison(None, float("nan"), float("nan"), False, (), (), ())
    used: set[int] = set()
    positions: list[int | None] = []
    for i, name in enumerate(P):
        j: int | None = None
        if i < len(R) and R[i].key == name.key:
            j = i
        else:
            j = next((k for k, other in enumerate(R) if other.key == name.key and k not in used), None)
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
