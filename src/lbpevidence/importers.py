"""Bring new records into the reference table: BibTeX, RIS and PubMed MEDLINE exports.

Three steps, each a public function, which ``lbpevidence add`` chains:

1. :func:`import_records` reads an export (``.bib``, ``.ris``, ``.nbib``/MEDLINE
   ``.txt``) into a references-style DataFrame (:data:`IMPORT_COLUMNS`: the columns
   of :func:`~lbpevidence.references.read_references` plus ``source_format``,
   ``source_line`` and ``author_names``) and gives every record a readable key
   (:func:`make_key`, :func:`assign_keys`);
2. :func:`find_duplicates` compares each record with the existing table and with
   the records before it in the same import (:class:`DuplicateRules`);
3. :func:`apply_evidence` fills the evidence fields the researcher supplies, and
   :func:`lbpevidence.refsio.append_entries` validates and appends atomically.

BibTeX is parsed by :func:`lbpevidence.references.parse_bibtex` (schema
``bibliography``), RIS by rispy; the MEDLINE parser is ours (the format is a few
lines of rules, see :func:`import_text`). Records keep plain Unicode text; LaTeX
escaping happens only when they are written to a .bib file.

Examples
--------
>>> text = '''PMID- 90000001
... TI  - Yoga for chronic low back pain: a randomised trial.
... FAU - Doe, Jane
... AU  - Doe J
... TA  - J Fict Musculoskelet Res
... DP  - 2021 Mar
... PG  - 112-9
... LID - 10.5555/JFMR.2021.0112 [doi]
... '''
>>> records = import_text(text, "medline")
>>> records.loc[0, ["key", "first_author", "pages", "doi", "pmid"]].tolist(), int(records.loc[0, "year"])
(['doe2021yoga', 'Doe', '112–119', '10.5555/jfmr.2021.0112', '90000001'], 2021)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, overload

import pandas as pd

from .errors import Problem, ReferenceTableError, check_choice, table_result
from .latex import normalise_pages
from .matching import ascii_fold, name_key, normalise_title, similar_titles
from .names import format_name, last_name, split_name
from .references import REFERENCE_COLUMNS, parse_bibtex
from .textio import read_text
from .validation import EVIDENCE_FIELDS, check_record, normalise_doi
from .vocabulary import resolve

__all__ = [
    "DUPLICATE_COLUMNS",
    "DUPLICATE_STATUSES",
    "FORMATS",
    "IMPORT_COLUMNS",
    "KEY_STOP_WORDS",
    "SOURCE_PLACEHOLDERS",
    "DuplicateRules",
    "apply_evidence",
    "assign_keys",
    "check_source_template",
    "detect_format",
    "find_duplicates",
    "import_records",
    "import_text",
    "make_key",
    "unique_key",
]

FORMATS = ("bibtex", "ris", "medline")
IMPORT_COLUMNS = [*REFERENCE_COLUMNS, "source_format", "source_line", "author_names"]
DUPLICATE_STATUSES = ("new", "duplicate", "possible-duplicate")
DUPLICATE_COLUMNS = ["row", "key", "source_line", "status", "rule", "match_in", "match_key", "match_row",
                     "match_line", "score"]

# Words skipped when the first word of a title is taken for a key.
KEY_STOP_WORDS = frozenset({
    "a", "an", "the", "of", "for", "in", "on", "at", "to", "and", "or", "with", "by", "from", "as", "is",
    "are", "does", "do", "vs", "versus",
})

_EXTENSIONS = {".bib": "bibtex", ".bibtex": "bibtex", ".ris": "ris", ".nbib": "medline", ".medline": "medline"}
_INT_COLUMNS = ("year", "participants", "studies", "pedro", "printed_number", "author_count", "line",
                "source_line")
_LIST_EVIDENCE = {"modality": "modality", "comparator": "comparator", "rob_domains": "rob", "unverified": None}
_TERM_EVIDENCE = {"design": "design", "population": "population", "finding": "finding", "rob": "rob"}
_INT_EVIDENCE = ("participants", "studies", "pedro")

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_DOI_IN_TEXT = re.compile(r"(10\.\d{4,9}/\S+)")
_PMID_NOTE = re.compile(r"\bPMID:?\s*(\d{1,9})\b", re.IGNORECASE)
_ABBREVIATED_PAGES = re.compile(r"^([A-Za-z]*)(\d+)\s*-\s*([A-Za-z]*)(\d+)$")


# --- keys -------------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return [w for w in _NON_ALNUM.split(ascii_fold(text).lower()) if w]


def make_key(author: str, year: int | str | None, title: str) -> str:
    """The base key ``firstauthorYEARfirstword`` for one record (lower-case ASCII).

    The rule, as written in refs/README.md:

    * ``firstauthor`` is the first author's last name (the part before the comma of a
      ``"Last, F."`` name) transliterated to ASCII (:func:`lbpevidence.matching.ascii_fold`) with everything
      but letters removed (``van Tulder`` -> ``vantulder``, ``O'Sullivan`` ->
      ``osullivan``); for an organisation (a name without a comma) it is the first word
      of the name that is not a stop word (``World Health Organization`` -> ``world``);
      ``anon`` when there is no author;
    * ``YEAR`` is the four-digit year, ``nd`` when there is none;
    * ``firstword`` is the first word of the title, transliterated, that contains a
      letter and is not in :data:`KEY_STOP_WORDS` (a, an, the, of, for, in, on, ...),
      keeping only its letters and digits; ``untitled`` when there is none.

    Examples
    --------
    >>> make_key("Cherkin, D. C.", 2009, "A randomized trial comparing acupuncture, simulated acupuncture")
    'cherkin2009randomized'
    >>> make_key("Núñez-O'Brien, J.", "2020", "The effect of 12-week yoga")
    'nunezobrien2020effect'
    >>> make_key("World Health Organization", 2023, "WHO guideline for non-surgical management")
    'world2023who'
    >>> make_key("", None, "")
    'anonnduntitled'
    """
    author = author.strip()
    if "," in author:
        name = "".join(_words(author.split(",", 1)[0]))
        name = re.sub(r"[0-9]", "", name)
    else:
        name = next((w for w in _words(author) if w not in KEY_STOP_WORDS and re.search("[a-z]", w)), "")
    match = _YEAR.search(str(year)) if year is not None and not _is_missing(year) else None
    word = next((w for w in _words(title) if w not in KEY_STOP_WORDS and re.search("[a-z]", w)), "")
    return f"{name or 'anon'}{match.group(1) if match else 'nd'}{word or 'untitled'}"


def _suffixes() -> Iterable[str]:
    """'', 'b', 'c', ..., 'z', then 'aa', 'ab', ... (spreadsheet-column order)."""
    yield ""
    yield from "bcdefghijklmnopqrstuvwxyz"
    width = 2
    while True:
        for number in range(26 ** width):
            letters = []
            for _ in range(width):
                number, digit = divmod(number, 26)
                letters.append(chr(ord("a") + digit))
            yield "".join(reversed(letters))
        width += 1


def unique_key(base: str, taken: set[str]) -> str:
    """``base``, or ``base`` + ``b``, ``c``, ... ``z``, ``aa``, ``ab``, ... : the first not in ``taken``.

    ``taken`` holds lower-case keys (BibTeX compares keys without regard to case);
    the key returned is added to it.

    Examples
    --------
    >>> taken = {"doe2021yoga", "doe2021yogab"}
    >>> unique_key("doe2021yoga", taken), unique_key("doe2021yoga", taken), unique_key("roe2020tai", taken)
    ('doe2021yogac', 'doe2021yogad', 'roe2020tai')
    """
    for suffix in _suffixes():
        key = base + suffix
        if key.lower() not in taken:
            taken.add(key.lower())
            return key
    raise AssertionError("unreachable")  # pragma: no cover - the suffixes never end


def assign_keys(records: pd.DataFrame, existing: Iterable[str] | pd.DataFrame = ()) -> list[str]:
    """Readable, unique keys for ``records``, in row order.

    Each record gets :func:`make_key` of its first author (``authors[0]``, else
    ``first_author``), year and title. A key already used by the existing table or by
    an earlier record of the same import gets the first free suffix ``b``, ``c``, ...
    (:func:`unique_key`); the first record to claim a key keeps it bare. The result
    depends only on the records, their order and the existing keys, so the same
    import gives the same keys again. Existing keys are never changed.

    Examples
    --------
    >>> records = pd.DataFrame({"authors": [["Doe, J."], ["Doe, J."]], "first_author": ["Doe", "Doe"],
    ...                         "year": [2021, 2021], "title": ["Yoga for pain", "Yoga for sleep"]})
    >>> assign_keys(records, existing=["doe2021yoga"])
    ['doe2021yogab', 'doe2021yogac']
    """
    existing_keys = existing["key"] if isinstance(existing, pd.DataFrame) else existing
    taken = {str(k).lower() for k in existing_keys if not _is_missing(k)}
    keys = []
    for row in records.itertuples(index=False):
        authors = getattr(row, "authors", None)
        first = authors[0] if isinstance(authors, list | tuple) and authors else ""
        if not first:
            author = getattr(row, "first_author", "")
            first = f"{author}," if isinstance(author, str) and author else ""
        title = getattr(row, "title", "")
        keys.append(unique_key(make_key(first, getattr(row, "year", None),
                                        title if isinstance(title, str) else ""), taken))
    return keys


# --- reading -------------------------------------------------------------------------------------------


def detect_format(path: str | Path, text: str | None = None) -> str:
    """Name the format of an export: by extension, else by content.

    ``.bib`` -> ``bibtex``, ``.ris`` -> ``ris``, ``.nbib``/``.medline`` -> ``medline``;
    any other file (PubMed saves MEDLINE as ``.txt``) is recognised by its first
    record: a line-start ``@`` (BibTeX), a ``TY  -`` line (RIS) or a ``PMID-`` line
    (MEDLINE).

    Raises
    ------
    ValueError
        When neither extension nor content tells; the message names :data:`FORMATS`.

    Examples
    --------
    >>> detect_format("export.nbib"), detect_format("pubmed-set.txt", "PMID- 90000001\\nTI  - X")
    ('medline', 'medline')
    >>> detect_format("notes.txt", "hello")
    Traceback (most recent call last):
    ...
    ValueError: Cannot tell the format of 'notes.txt' from its extension or its content: pass `format`, one of [...].
    """
    suffix = Path(path).suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    for line in (text or "").lstrip("\ufeff").splitlines():
        if not line.strip() or line.lstrip().startswith("%"):
            continue
        if line.lstrip().startswith("@"):
            return "bibtex"
        if re.match(r"^TY {2}-", line):
            return "ris"
        if re.match(r"^PMID- ?", line):
            return "medline"
        break
    raise ValueError(f"Cannot tell the format of {Path(path).name!r} from its extension or its content: "
                     f"pass `format`, one of {list(FORMATS)}.")


def _ascii_int(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str | list | tuple) and len(value) == 0


def _expand_pages(pages: str) -> str:
    """MEDLINE abbreviates the last page (``858-66``): write it in full with an en dash."""
    match = _ABBREVIATED_PAGES.match(pages.strip())
    if not match or match.group(3) not in ("", match.group(1)):
        return normalise_pages(pages)
    prefix, start, _, end = match.groups()
    if len(end) < len(start):
        end = start[: len(start) - len(end)] + end
    return f"{prefix}{start}–{prefix}{end}"


def _record(entry_type: str, line: int, names: list[str], fields: dict[str, str],
            field_lines: dict[str, int], source_format: str) -> dict:
    """A record dict in the shape references builds (columns plus ``_raw`` for the checks)."""
    fields = {name: value.strip() for name, value in fields.items() if value and value.strip()}
    if names:
        fields["author"] = " and ".join(names)
    authors = [format_name(n) for n in names]
    record: dict = {column: "" for column in REFERENCE_COLUMNS}
    record.update({
        "key": "", "entry_type": entry_type, "line": line, "authors": authors,
        "first_author": last_name(names[0]) if names else "", "author_count": len(authors), "et_al": False,
        "title": fields.get("title", ""), "journal": fields.get("journal", ""), "volume": fields.get("volume", ""),
        "issue": fields.get("number", ""), "pages": fields.get("pages", ""),
        "doi": normalise_doi(fields.get("doi", "")), "pmid": fields.get("pmid", ""),
        "pmcid": fields.get("pmcid", ""), "url": fields.get("url", ""),
        "registration": fields.get("registration", ""), "note": fields.get("note", ""),
        # ASCII digits only: '²⁰¹⁹'.isdigit() is True but int() refuses it (the validator names the year instead)
        "year": _ascii_int(fields.get("year", "")),
        "modality": [], "comparator": [], "rob_domains": [], "source": [], "seen_at": [], "unverified": [],
        "participants": None, "studies": None, "pedro": None, "printed_number": None,
        "source_format": source_format, "source_line": line,
        "author_names": [n[1:-1] if n.startswith("{") and n.endswith("}") else n for n in names],
        "_raw": fields, "_raw_lists": {}, "_field_lines": field_lines,
    })
    return record


def _medline_author(value: str) -> str:
    """``AU`` (``Cherkin DC``, ``van Tulder MW``) -> BibTeX ``Last, Initials``."""
    last, initials = split_name(value, printed=True)
    return format_name(f"{last}, {initials}") if initials else "{" + value.strip() + "}"


def _medline_records(text: str, file: str) -> tuple[list[dict], list[Problem]]:
    """Parse MEDLINE (PubMed format) text; see :func:`import_text` for the rules."""
    problems: list[Problem] = []
    raw_records: list[tuple[int, list[list]]] = []  # (first line, [[tag, value, line], ...])
    current: list[list] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            current = None
            continue
        is_tag = len(line) >= 5 and line[4] == "-" and re.fullmatch(r"[A-Z][A-Z0-9]{1,3} *", line[:4]) is not None
        if is_tag:
            tag, value = line[:4].strip(), line[5:].strip()
            if tag == "PMID" or current is None:
                current = []
                raw_records.append((number, current))
            current.append([tag, value, number])
        elif line[:1].isspace() and current:
            current[-1][1] = f"{current[-1][1]} {line.strip()}".strip()
        else:
            problems.append(Problem(file, number, "", "line", repr(line[:40]),
                                    "a MEDLINE line 'TAG - value' (tag padded to 4 characters) or a continuation "
                                    "line indented by 6 spaces; the line was ignored", "warning"))
    records = []
    for start, tags in raw_records:
        fields: dict[str, str] = {}
        field_lines: dict[str, int] = {}
        names: list[str] = []
        has_full: list[bool] = []  # per name: came from FAU (an AU that follows it is the same person)
        journals: dict[str, tuple[str, int]] = {}
        for tag, value, number in tags:
            target = {"PMID": "pmid", "TI": "title", "VI": "volume", "IP": "number", "PMC": "pmcid"}.get(tag)
            if tag == "FAU":
                names.append(value)
                has_full.append(True)
                field_lines.setdefault("author", number)
            elif tag == "AU":
                if has_full and has_full[-1]:
                    has_full[-1] = False  # the short form of the author just read
                else:
                    names.append(_medline_author(value))
                    has_full.append(False)
                field_lines.setdefault("author", number)
            elif tag == "CN":
                names.append("{" + value + "}")
                has_full.append(False)
                field_lines.setdefault("author", number)
            elif tag in ("TA", "JT") and tag not in journals:
                journals[tag] = (value, number)
            elif tag == "DP":
                year = _YEAR.search(value)
                fields["year"] = year.group(1) if year else value
                field_lines["year"] = number
            elif tag == "PG":
                fields["pages"] = _expand_pages(value)
                field_lines["pages"] = number
            elif tag in ("LID", "AID") and value.endswith("[doi]") and "doi" not in fields:
                fields["doi"] = value[: -len("[doi]")].strip()
                field_lines["doi"] = number
            elif tag == "SI" and "registration" not in fields:
                fields["registration"] = value.rsplit("/", 1)[-1]
                field_lines["registration"] = number
            elif tag == "BTI" and "title" not in fields:
                fields["title"] = value
                field_lines["title"] = number
            elif target and target not in fields:
                fields[target] = value
                field_lines[target] = number
        journal = journals.get("TA") or journals.get("JT")
        if journal:
            fields["journal"], field_lines["journal"] = journal
        if fields.get("title", "").endswith(".") and not fields["title"].endswith(".."):
            fields["title"] = fields["title"][:-1]  # PubMed ends every title with a period
        entry_type = "article" if fields.get("journal") else "book" if fields.get("title") else "misc"
        records.append(_record(entry_type, start, names, fields, field_lines, "medline"))
    return records, problems


_RIS_TYPES = {
    "JOUR": "article", "JFULL": "article", "EJOUR": "article", "MGZN": "article", "NEWS": "article",
    "ABST": "article", "INPR": "article", "BOOK": "book", "EBOOK": "book", "EDBOOK": "book",
    "CHAP": "incollection", "ECHAP": "incollection", "CONF": "inproceedings", "CPAPER": "inproceedings",
    "RPRT": "techreport", "GOVDOC": "techreport", "ELEC": "online", "BLOG": "online", "THES": "phdthesis",
    "UNPB": "unpublished",
}


def _first(entry: Mapping, *names: str) -> str:
    for name in names:
        value = entry.get(name)
        if isinstance(value, list):
            value = value[0] if value else ""
        if value and str(value).strip():
            return str(value).strip()
    return ""


def _ris_records(text: str, file: str) -> tuple[list[dict], list[Problem]]:
    """Parse RIS text with rispy, one record at a time so that each keeps its line."""
    import rispy

    problems: list[Problem] = []
    chunks: list[tuple[int, list[str]]] = []
    current: list[str] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        tag = line[:2] if line[2:5] == "  -" else None
        if tag == "TY":
            if current is not None:
                problems.append(Problem(file, chunks[-1][0], "", "ER", "a record without 'ER  -'",
                                        "each record to end with an 'ER  -' line", "warning"))
            current = [line]
            chunks.append((number, current))
        elif current is not None:
            current.append(line)
            if tag == "ER":
                current = None
        elif line.strip():
            problems.append(Problem(file, number, "", "line", repr(line[:40]),
                                    "records between 'TY  -' and 'ER  -'; the line was ignored", "warning"))
    if current is not None:
        problems.append(Problem(file, chunks[-1][0], "", "ER", "a record without 'ER  -'",
                                "each record to end with an 'ER  -' line", "warning"))
    records = []
    for start, lines in chunks:
        if not lines[-1].startswith("ER"):
            lines = [*lines, "ER  - "]
        parsed = rispy.loads("\n".join(lines))
        entry = parsed[0] if parsed else {}
        field_lines = {}
        for offset, line in enumerate(lines):
            name = {"AU": "author", "A1": "author", "TI": "title", "T1": "title", "PY": "year", "Y1": "year",
                    "DO": "doi", "AN": "pmid", "SP": "pages", "VL": "volume", "IS": "number"}.get(line[:2])
            if name and line[2:5] == "  -":
                field_lines.setdefault(name, start + offset)
        names = [*(entry.get("authors") or []), *(entry.get("first_authors") or [])]
        # RIS writes people as "Last, First"; a name without a comma is an organisation.
        names = [n.strip().rstrip(",").strip() for n in names if n.strip().rstrip(",").strip()]
        names = [n if "," in n else "{" + n + "}" for n in names]
        type_code = str(entry.get("type_of_reference", "")).strip().upper()
        entry_type = _RIS_TYPES.get(type_code, "misc")
        year = _YEAR.search(_first(entry, "year", "publication_year", "date"))
        start_page, end_page = _first(entry, "start_page"), _first(entry, "end_page")
        pages = f"{start_page}–{end_page}" if start_page and end_page else start_page
        urls = [u for u in entry.get("urls") or [] if u]
        doi = _first(entry, "doi")
        if not doi:
            doi = next((u for u in urls if re.match(r"https?://(dx\.)?doi\.org/", u)), "")
        accession = _first(entry, "accession_number")
        notes = " ".join([*(entry.get("notes") or []), _first(entry, "note")])
        pmid = accession if accession.isdigit() else ""
        if not pmid and _PMID_NOTE.search(notes):
            pmid = _PMID_NOTE.search(notes).group(1)
        pmcid = next((v for v in (_first(entry, "custom2"), _first(entry, "note")) if re.fullmatch(r"PMC\d+", v)), "")
        fields = {
            "title": _first(entry, "title", "primary_title"),
            "journal": _first(entry, "journal_name", "alternate_title3", "secondary_title", "alternate_title2",
                              "alternate_title1") if entry_type == "article" else "",
            "year": year.group(1) if year else _first(entry, "year", "publication_year"),
            "volume": _first(entry, "volume"), "number": _first(entry, "number"),
            "pages": normalise_pages(pages), "doi": doi, "pmid": pmid, "pmcid": pmcid,
            "url": next((u for u in urls if u != doi), ""),
        }
        records.append(_record(entry_type, start, names, fields, field_lines, "ris"))
    return records, problems


def _frame(records: list[dict]) -> pd.DataFrame:
    columns = {c: [r.get(c) for r in records] for c in IMPORT_COLUMNS}
    frame = pd.DataFrame(columns, columns=IMPORT_COLUMNS)
    for column in _INT_COLUMNS:
        frame[column] = pd.array([None if _is_missing(v) else int(v) for v in columns[column]], dtype="Int64")
    for column in IMPORT_COLUMNS:
        if column not in _INT_COLUMNS and frame[column].dtype != object:
            frame[column] = frame[column].astype(object)
    return frame


def _import(text: str, format: str, file: str, existing: Iterable[str] | pd.DataFrame
            ) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse ``text`` in ``format``; return (records with keys, problems)."""
    check_choice("format", format, FORMATS)
    if format == "bibtex":
        table, problems = parse_bibtex(text, file, schema="bibliography")
        records = table.assign(source_format="bibtex", source_line=table["line"], author_names=table["authors"])
        records = records.reindex(columns=IMPORT_COLUMNS)
        records["source_line"] = records["source_line"].astype("Int64")
        records["key"] = pd.Series(assign_keys(records, existing), index=records.index, dtype=object)
    else:
        rows, problems = (_medline_records if format == "medline" else _ris_records)(text, file)
        for row, key in zip(rows, assign_keys(_frame(rows), existing), strict=True):
            row["key"] = key
            problems.extend(check_record(row, file, schema="bibliography"))
        if not rows:
            problems.append(Problem(file, 0, "", "", "no records", f"at least one {format.upper()} record"))
        records = _frame(rows)
    records.attrs["path"] = file
    problems.sort(key=lambda p: (p.line, p.key, p.field))
    return records, problems


@overload
def import_text(text: str, format: str, *, file: str = ..., existing: Iterable[str] | pd.DataFrame = ...,
                strict: Literal[True] = ...) -> pd.DataFrame: ...
@overload
def import_text(text: str, format: str, *, file: str = ..., existing: Iterable[str] | pd.DataFrame = ...,
                strict: Literal[False]) -> tuple[pd.DataFrame, pd.DataFrame]: ...


def import_text(text: str, format: str, *, file: str = "<string>", existing: Iterable[str] | pd.DataFrame = (),
                strict: bool = True):
    """Import records from export ``text`` in ``format`` (``bibtex``, ``ris``, ``medline``).

    :func:`import_records` for text already in memory; the parameters and the result
    are the same, ``file`` names the text in problems.

    MEDLINE (PubMed's "PubMed format", ``.nbib``) is read by these rules: a line
    ``TAG - value`` has the tag left-justified in four columns, a hyphen in column
    five and the value from column seven; a line indented by spaces continues the
    value above it (joined with one space); a blank line (or a new ``PMID-`` line)
    starts a new record. ``FAU`` (full name) is preferred over the ``AU`` that
    follows it, ``CN`` is a group author, ``TA`` (journal abbreviation, as PubMed
    shows it) over ``JT``, the year is the first four digits of ``DP``, abbreviated
    page ranges are written in full (``858-66`` -> ``858–866``), the DOI comes from
    the first ``LID`` or ``AID`` value marked ``[doi]``, ``registration`` from the
    first ``SI`` (the part after ``/``: ``ClinicalTrials.gov/NCT01234567``), and the
    period PubMed puts at the end of every title is removed. Other tags (abstract,
    MeSH terms, ...) are not kept. RIS is read by rispy; ``AN`` is taken as the PMID
    when it is all digits (or ``PMID: n`` in a note), ``C2`` as the PMCID when it
    looks like one, an author without a comma (``Last, First`` is the RIS form) as an
    organisation, the journal from ``JO``, ``JF``, ``T2``, ``JA``, ``J2`` (first
    present), pages from ``SP``/``EP``.

    Examples
    --------
    >>> ris = ("TY  - JOUR\\nAU  - Roe, Richard\\nTI  - Tai chi and back pain\\nT2  - J Fict Res\\n"
    ...        "PY  - 2019\\nER  - \\n")
    >>> records = import_text(ris, "ris")
    >>> records.loc[0, ["key", "authors", "journal", "source_format"]].tolist(), int(records.loc[0, "source_line"])
    (['roe2019tai', ['Roe, R.'], 'J Fict Res', 'ris'], 1)
    """
    records, problems = _import(text, format, file, existing)
    return table_result(records, problems, strict, ReferenceTableError, file)


@overload
def import_records(path: str | Path, format: str | None = ..., *, existing: Iterable[str] | pd.DataFrame = ...,
                   strict: Literal[True] = ...) -> pd.DataFrame: ...
@overload
def import_records(path: str | Path, format: str | None = ..., *, existing: Iterable[str] | pd.DataFrame = ...,
                   strict: Literal[False]) -> tuple[pd.DataFrame, pd.DataFrame]: ...


def import_records(path: str | Path, format: str | None = None, *,
                   existing: Iterable[str] | pd.DataFrame = (), strict: bool = True):
    """Read the records of a BibTeX, RIS or PubMed MEDLINE export into a DataFrame.

    Parameters
    ----------
    path
        The export file: ``.bib`` (BibTeX), ``.ris`` (RIS), ``.nbib`` or ``.txt``
        (PubMed format, MEDLINE tags); UTF-8.
    format
        ``"bibtex"``, ``"ris"`` or ``"medline"``; ``None`` (default) detects it from the
        extension, else from the content (:func:`detect_format`).
    existing
        Keys already taken (a references DataFrame or an iterable of keys): new keys
        avoid them (:func:`assign_keys`).
    strict
        ``True`` (default): raise :class:`~lbpevidence.errors.ReferenceTableError` if
        the export has errors (bad bytes, a broken BibTeX entry, no records).
        ``False``: return ``(records, problems)`` where ``problems`` is a DataFrame
        (:data:`~lbpevidence.errors.PROBLEM_COLUMNS`). Content issues (a missing
        year, a malformed DOI) are warnings here: records are checked in full,
        evidence fields included, when they are appended.

    Returns
    -------
    DataFrame
        :data:`IMPORT_COLUMNS`: the columns of
        :func:`~lbpevidence.references.read_references` (authors as ``"Last, F."``
        names, ``doi`` normalised, ``pmid`` digits, page ranges with an en dash, plain
        Unicode text) with a fresh ``key`` per record, plus ``source_format``
        (``bibtex``/``ris``/``medline``), ``source_line`` (1-based line where the
        record starts in ``path``; ``line`` holds the same) and ``author_names``: the
        authors with their given names as the export spells them (``Müller, Jürgen``;
        an organisation as its name), which is what
        :func:`~lbpevidence.refsio.format_entry` writes (a BibTeX import has only the
        ``"Last, F."`` names). Evidence columns are empty unless a BibTeX import has
        them. ``attrs["path"]`` names the file.

    Raises
    ------
    ValueError
        ``format`` is not one of :data:`FORMATS`, or it cannot be detected.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "export.nbib"
    >>> _ = path.write_text("PMID- 90000002\\nTI  - Massage for acute back pain.\\nAU  - Roe RA\\n"
    ...                     "TA  - J Fict Res\\nDP  - 2020\\n", encoding="utf-8")
    >>> records = import_records(path, existing=["roe2020massage"])
    >>> records.loc[0, ["key", "authors", "title", "source_format"]].tolist()
    ['roe2020massageb', ['Roe, R. A.'], 'Massage for acute back pain', 'medline']
    >>> import_records(path, format="endnote")
    Traceback (most recent call last):
    ...
    ValueError: The value for `format` must be one of ['bibtex', 'ris', 'medline'], but 'endnote' was passed.
    """
    if format is not None:
        check_choice("format", format, FORMATS)
    path = Path(path)
    file = str(path)
    text, decode_problems = read_text(path, file, "an export file (.bib, .ris, .nbib)")  # a FIFO would block
    if text is None:  # bad bytes are reported by line; UTF-16 is named, and still read
        records = _frame([])
        records.attrs["path"] = file
        return table_result(records, decode_problems, strict, ReferenceTableError, file)
    records, problems = _import(text, format or detect_format(path, text), file, existing)
    return table_result(records, decode_problems + problems, strict, ReferenceTableError, file)


# --- duplicates ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateRules:
    """When an imported record is a duplicate, and when it only may be one.

    Exact rules, tried in this order, make a record a ``duplicate``:

    1. ``doi``: the same DOI (normalised: lower case, no resolver prefix);
    2. ``pmid``: the same PubMed id;
    3. ``title-author-year``: the same normalised title (:func:`lbpevidence.matching.normalise_title`,
       the one the citation audit compares titles with),
       the same first-author last name (ASCII, letters only) and the same year.

    Otherwise a ``possible-duplicate`` (rule ``fuzzy-title``) is a record whose
    normalised title scores at least ``title_threshold`` (0-100) with rapidfuzz's
    ``token_sort_ratio`` against another, provided their years are at most
    ``max_year_gap`` apart (or one has no year). 90 catches spelling variants
    (randomized/randomised: 98) and a dropped leading article (99) but not a
    protocol of the same trial (88) or a different population (acute vs chronic: 81).
    """

    title_threshold: float = 90.0
    max_year_gap: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.title_threshold <= 100:
            raise ValueError(f"`title_threshold` must be between 0 and 100, but {self.title_threshold!r} was passed.")
        if self.max_year_gap < 0:
            raise ValueError(f"`max_year_gap` must be 0 or more, but {self.max_year_gap!r} was passed.")


def _match_table(frame: pd.DataFrame | None) -> list[dict]:
    if frame is None or len(frame) == 0:
        return []
    rows = []
    for position, row in enumerate(frame.to_dict("records")):
        year = row.get("year")
        line = row.get("source_line", row.get("line"))
        rows.append({
            "position": position,
            "key": "" if _is_missing(row.get("key")) else str(row.get("key")),
            "doi": "" if _is_missing(row.get("doi")) else normalise_doi(str(row["doi"])),
            "pmid": "" if _is_missing(row.get("pmid")) else str(row["pmid"]).strip(),
            "title": normalise_title(row.get("title") or ""),
            "author": name_key(row.get("first_author") or ""),
            "year": None if _is_missing(year) else int(year),
            "line": None if _is_missing(line) else int(line),
        })
    return rows


def find_duplicates(records: pd.DataFrame, existing: pd.DataFrame | None = None,
                    rules: DuplicateRules | None = None) -> pd.DataFrame:
    """Say, for each imported record, whether it is already in the table or earlier in the import.

    Each record is compared with every row of ``existing`` and with the records
    before it in ``records``. The exact rules of :class:`DuplicateRules` are tried
    in order (``doi``, ``pmid``, ``title-author-year``), each first against the
    existing table, then against earlier imported records; the first match makes the
    record a ``duplicate``. Failing those, the best fuzzy title match at or above the
    threshold (the existing table wins a tie) makes it a ``possible-duplicate``.

    Returns
    -------
    DataFrame
        One row per record, in order, with :data:`DUPLICATE_COLUMNS`: ``row`` (0-based
        position in ``records``), ``key``, ``source_line``, ``status`` (``new``,
        ``duplicate``, ``possible-duplicate``), ``rule`` (``doi``, ``pmid``,
        ``title-author-year``, ``fuzzy-title``; empty when new), ``match_in``
        (``existing`` or ``import``), ``match_key``, ``match_row`` (0-based row of the
        earlier imported record, or ``<NA>``), ``match_line`` (line of the match in its
        file) and ``score`` (100 for exact rules, the similarity for fuzzy ones).

    Examples
    --------
    >>> existing = pd.DataFrame({"key": ["doe2021yoga"], "doi": ["10.5555/a"], "pmid": [""],
    ...                          "title": ["Yoga for back pain"], "first_author": ["Doe"], "year": [2021]})
    >>> new = pd.DataFrame({"key": ["x", "y", "z"], "doi": ["10.5555/A", "", ""], "pmid": ["", "", ""],
    ...                     "title": ["Yoga for back pain", "Yoga for the back pain", "Heat wraps"],
    ...                     "first_author": ["Doe", "Roe", "Poe"], "year": [2021, 2022, 2020]})
    >>> for row in find_duplicates(new, existing)[["key", "status", "rule", "match_in", "match_key"]].values:
    ...     print(*row)
    x duplicate doi existing doe2021yoga
    y possible-duplicate fuzzy-title existing doe2021yoga
    z new
    """
    rules = rules or DuplicateRules()
    old = _match_table(existing)
    new = _match_table(records)
    exact = (("doi", ("doi",)), ("pmid", ("pmid",)), ("title-author-year", ("title", "author", "year")))

    def signature(row: dict, fields: tuple[str, ...]) -> tuple | None:
        values = tuple(row[f] for f in fields)
        return None if any(v in ("", None) for v in values) else values

    old_index: dict[str, dict[tuple, dict]] = {name: {} for name, _ in exact}
    new_index: dict[str, dict[tuple, dict]] = {name: {} for name, _ in exact}
    for row in old:
        for name, fields in exact:
            sig = signature(row, fields)
            if sig is not None:
                old_index[name].setdefault(sig, row)
    out = []
    for i, row in enumerate(new):
        found: tuple[str, str, dict, float] | None = None
        for name, fields in exact:
            sig = signature(row, fields)
            if sig is None:
                continue
            if sig in old_index[name]:
                found = (name, "existing", old_index[name][sig], 100.0)
            elif sig in new_index[name]:
                found = (name, "import", new_index[name][sig], 100.0)
            if found:
                break
        if found is None and row["title"]:
            best: tuple[float, int, int, dict] | None = None
            for rank, (where, pool) in enumerate((("existing", old), ("import", new[:i]))):
                titles = [r["title"] for r in pool]
                for score, j in similar_titles(row["title"], titles, rules.title_threshold):
                    other = pool[j]
                    if (row["year"] is not None and other["year"] is not None
                            and abs(row["year"] - other["year"]) > rules.max_year_gap):
                        continue
                    candidate = (-score, rank, j, {**other, "where": where})
                    if best is None or candidate[:3] < best[:3]:
                        best = candidate
            if best is not None:
                found = ("fuzzy-title", best[3]["where"], best[3], round(-best[0], 1))
        for name, fields in exact:
            sig = signature(row, fields)
            if sig is not None:
                new_index[name].setdefault(sig, row)
        entry = {"row": i, "key": row["key"], "source_line": row["line"], "status": "new", "rule": "",
                 "match_in": "", "match_key": "", "match_row": None, "match_line": None, "score": float("nan")}
        if found:
            name, where, other, score = found
            entry.update(status="possible-duplicate" if name == "fuzzy-title" else "duplicate", rule=name,
                         match_in=where, match_key=other["key"],
                         match_row=other["position"] if where == "import" else None,
                         match_line=other["line"], score=float(score))
        out.append(entry)
    frame = pd.DataFrame(out, columns=DUPLICATE_COLUMNS)
    for column in ("row", "source_line", "match_row", "match_line"):
        frame[column] = pd.array([None if _is_missing(v) else int(v) for v in frame[column]], dtype="Int64")
    frame["score"] = frame["score"].astype(float)
    return frame


# --- evidence fields ---------------------------------------------------------------------------------


#: The placeholders a ``source`` template may hold, each filled with the record's own value.
SOURCE_PLACEHOLDERS = ("pmid", "doi", "key")
_PLACEHOLDER = re.compile(r"\{(pmid|doi|key)\}")


def check_source_template(url: str) -> None:
    """Refuse a ``source`` template with anything but ``{pmid}``, ``{doi}`` or ``{key}`` in braces.

    The template is filled by plain substitution of those three names, never by
    :meth:`str.format` (which would evaluate ``{pmid.__class__}``); any other brace is an
    error that says which placeholders exist.

    Examples
    --------
    >>> check_source_template("https://pubmed.ncbi.nlm.nih.gov/{pmid}/")
    >>> check_source_template("https://x.org/{pmid.__class__}")
    Traceback (most recent call last):
    ...
    ValueError: The value for `source` may hold only the placeholders {pmid}, {doi} and {key}, but ...
    """
    rest = _PLACEHOLDER.sub("", url)
    if "{" in rest or "}" in rest:
        bad = re.search(r"\{[^{}]*\}?|\}", rest)
        piece = bad.group() if bad else "{"
        raise ValueError(f"The value for `source` may hold only the placeholders {{pmid}}, {{doi}} and {{key}}, "
                         f"but {url!r} has {piece!r}.")


def apply_evidence(records: pd.DataFrame, **fields: Any) -> pd.DataFrame:
    """Return a copy of ``records`` with the given evidence fields set on every row.

    Names are the evidence fields of refs/README.md (``modality``, ``design``,
    ``population``, ``participants``, ``comparator``, ``finding``, ``source``,
    ``location``, ``verified``, ...); ``None`` leaves a field as it is. Values are
    written as a researcher would type them in studies.bib: lists separated by
    ``;`` (``source``: by spaces), terms and synonyms (stored as the canonical term
    when known; unknown words are kept so that validation can name them). In
    ``source``, ``{pmid}``, ``{doi}`` and ``{key}`` are replaced by each record's
    own value (``https://pubmed.ncbi.nlm.nih.gov/{pmid}/``); a URL whose placeholder
    the record cannot fill is left out. Nothing is validated here:
    :func:`lbpevidence.refsio.append_entries` does that.

    Examples
    --------
    >>> records = pd.DataFrame({"key": ["doe2021yoga"], "pmid": ["90000001"], "doi": [""]})
    >>> out = apply_evidence(records, modality="Yoga; MBSR", design="randomised controlled trial",
    ...                      source="https://pubmed.ncbi.nlm.nih.gov/{pmid}/ https://doi.org/{doi}")
    >>> out.loc[0, ["modality", "design", "source"]].tolist()
    [['yoga', 'mindfulness'], 'rct', ['https://pubmed.ncbi.nlm.nih.gov/90000001/']]
    >>> apply_evidence(records, modalities="yoga")
    Traceback (most recent call last):
    ...
    ValueError: The value for `field` must be one of ['modality', 'design', ...], but 'modalities' was passed.
    """
    for name in fields:
        check_choice("field", name, EVIDENCE_FIELDS)
    out = records.copy()
    for name, value in fields.items():
        if value is None:
            continue
        text = str(value).strip()
        cells: list[Any]
        if name == "source":
            templates = text.split()
            for url in templates:
                check_source_template(url)
            cells = []
            for row in out.to_dict("records"):
                values = {p: "" if _is_missing(row.get(p)) else str(row.get(p)) for p in SOURCE_PLACEHOLDERS}
                urls = []
                for url in templates:
                    needed = _PLACEHOLDER.findall(url)
                    if all(values[p] for p in needed):
                        # plain substitution of the three names: no format-string attribute or index access
                        urls.append(_PLACEHOLDER.sub(lambda m, v=values: v[m.group(1)], url))
                cells.append(urls)
        elif name == "seen_at":
            cells = [text.split() for _ in range(len(out))]
        elif name in _LIST_EVIDENCE:
            kind = _LIST_EVIDENCE[name]
            items = [v for v in re.split(r"\s*;\s*", text) if v]
            terms = [(resolve(kind, v)[0] or v) if kind else v.lower() for v in items]
            cells = [list(terms) for _ in range(len(out))]
        elif name in _TERM_EVIDENCE:
            term = resolve(_TERM_EVIDENCE[name], text)[0] or text
            cells = [term] * len(out)
        elif name in _INT_EVIDENCE:
            cells = [int(text) if text.isdigit() else text] * len(out)
        else:
            cells = [text] * len(out)
        out[name] = pd.Series(cells, index=out.index, dtype=object)
    return out
