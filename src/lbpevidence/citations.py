"""The citation audit: each citation the article prints against the verified records, field by field.

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
     :data:`~lbpevidence.matching.JOURNAL_ABBREVIATIONS`, or when
     :func:`~lbpevidence.matching.normalise_journal` gives word lists of equal length
     whose words are prefixes of one another (ISO 4 style: ``Intern`` / ``Internal``);
   - year, volume, issue: equal (leading zeros ignored);
   - pages: :func:`~lbpevidence.matching.same_pages` (hyphen or en dash, ``858-66`` =
     ``858-866``; a range with the same first page but a different last page, or
     transposed digits, is not equal; a first page printed alone agrees with a range
     starting there).

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

How titles, journals, pages and author lists are compared is :mod:`lbpevidence.matching`.

Examples
--------
>>> import lbpevidence as lbp
>>> audit = audit_citations(lbp.bundled_refs() / "article.bib", lbp.read_references())
>>> audit.to_frame()[["key", "verdict", "best_match"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
[['printed1', 'conflated', 'hides1996multifidus'], ['printed2', 'garbled', 'cherkin2009randomized'],
 ['printed3', 'conflated', 'giles2003chronic'], ['printed4', 'conflated', 'vantulder1999effectiveness']]
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import is_blank
from .matching import (
    AuthorComparison,
    author_name,
    cell_text,
    compare_authors,
    journal_similarity,
    normalise_journal,
    normalise_title,
    page_range,
    same_journal,
    same_number,
    same_pages,
    title_similarity,
)
from .names import author_list
from .vocabulary import DESIGNS, MODALITIES

__all__ = [
    "AUDIT_FIELDS",
    "CITATION_COLUMNS",
    "CITATION_VERDICTS",
    "FIELD_COLUMNS",
    "AuditResult",
    "AuditThresholds",
    "audit_citations",
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
    """Every threshold the citation audit uses, in one place: similarities (0-1), the score's weights, counts.

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
    min_resemblance
        Lowest overall score for a record to be listed as nearest.
    weights
        Weights of the overall score (a weighted mean of the field similarities present
        on both sides), as ``(field, weight)`` pairs.
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
    min_resemblance: float = 0.35
    weights: tuple[tuple[str, float], ...] = (
        ("title", 0.30), ("authors", 0.25), ("journal", 0.10), ("year", 0.10), ("volume", 0.08),
        ("issue", 0.05), ("pages", 0.12),
    )
    topic_candidates: int = 3
    year_window: int = 3
    identify_signals: int = 2
    nearest: int = 3

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


def _flag(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1")
    return not is_blank(value) and bool(value)


def _year(value: object) -> int | None:
    text = cell_text(value)
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
        authors, et_al = author_list(row.get("authors", []), _flag(row.get("et_al", False)))
        first = author_name(authors[0]).last if authors else cell_text(row.get("first_author"))
        number = row.get("printed_number") if "printed_number" in columns else None
        number = None if number is None or number is pd.NA or (isinstance(number, float) and math.isnan(number)) \
            else int(number)
        modality = row.get("modality")
        out.append(_Record(
            key=cell_text(row.get("key")) or f"row{position + 1}", number=number, authors=authors, et_al=et_al,
            title=cell_text(row.get("title")), journal=cell_text(row.get("journal")), year=_year(row.get("year")),
            volume=cell_text(row.get("volume")), issue=cell_text(row.get("issue", row.get("number", ""))),
            pages=cell_text(row.get("pages")), doi=cell_text(row.get("doi")).lower(), pmid=cell_text(row.get("pmid")),
            modalities=list(modality) if isinstance(modality, list | tuple) else [],
            design=cell_text(row.get("design")), population=cell_text(row.get("population")), first_author=first,
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


def _format_authors(names: Sequence[str], truncated: bool) -> str:
    shown = "; ".join(author_name(n).text for n in names)
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
    title_sim = title_similarity(printed.title, record.title)
    title_agrees = None if math.isnan(title_sim) else normalise_title(printed.title) == normalise_title(record.title)
    out["title"] = _Field("title", printed.title, record.title, title_agrees, title_sim)
    if printed.journal and record.journal:
        sim = journal_similarity(printed.journal, record.journal)
        same = sim == 1.0
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
        same = same_number(a, b) if a and b else None
        out[name] = _Field(name, a, b, same, float("nan") if same is None else float(same))
    if printed.pages and record.pages:
        same = same_pages(printed.pages, record.pages)
        first_same = page_range(printed.pages)[0] == page_range(record.pages)[0]
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
    a, b = page_range(printed.pages)[0], page_range(record.pages)[0]
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
        names = [author_name(n) for n in printed.authors]
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
            detail = ", ".join(names[i].last for i in found)
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
    p_last = {author_name(n).key for n in printed.authors}

    def related(record: _Record, title: str) -> bool:
        if (printed.doi and printed.doi == record.doi) or (printed.pmid and printed.pmid == record.pmid):
            return True
        if printed.title and title and title_similarity(printed.title, record.title) >= th.title_candidate:
            return True
        if p_last.intersection(author_name(n).key for n in record.authors):
            return True
        if not (printed.journal and record.journal and same_journal(printed.journal, record.journal)):
            return False
        same_volume = bool(printed.volume) and same_number(printed.volume, record.volume)
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
    unknown_names = [] if identified else [author_name(n).last for n in p.authors
                                           if author_name(n).last not in named]
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
