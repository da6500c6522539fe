"""BibTeX reference files -> one validated DataFrame row per entry.

This is the only module that touches bibtexparser. The parse stack is pinned:
bibtexparser v2 splits the text into blocks with *no* middleware
(``parse_stack=[]``), and the steps after it are ours, one small step each:

1. read bytes, decode UTF-8 (:mod:`lbpevidence.textio`: bad bytes become a located problem, not a crash);
2. split the text into chunks at line-start ``@`` (bibtexparser ends a block
   there too), so memory stays bounded and progress can be reported;
3. parse each chunk with bibtexparser; failed, duplicate-key and duplicate-field
   blocks become problems with their line;
4. resolve ``@string`` macros and ``#`` concatenation ourselves, which also
   finds undefined macros and a missing comma between fields;
5. build the record and check it (:mod:`lbpevidence.validation`);
6. build the table column by column: LaTeX is decoded only in values that contain
   markup, each distinct value once and all of them in one pass
   (:func:`lbpevidence.latex.decode_many`), author names likewise
   (:func:`lbpevidence.names.split_authors_many`).

Python's cyclic garbage collector is paused while a file is parsed (see
:func:`lbpevidence.cache.gc_paused`): the objects made are acyclic, and the collector's
passes over them were a fifth of the time. ``benchmarks/bench_references.py`` measures all this
against bibtexparser's bare parse.

Examples
--------
>>> text = '''@string{spine = "Spine"}
... @article{doe2020trial, author = {M{\\\\"u}ller, Hans and Doe, J.}, title = {A {Trial}},
...   journal = spine, year = 2020, pages = {1--9}}'''
>>> table, problems = parse_bibtex(text, schema="bibliography")
>>> table.loc[0, ["key", "first_author", "journal", "pages"]].tolist(), int(table.loc[0, "line"])
(['doe2020trial', 'Müller', 'Spine', '1–9'], 2)
>>> table.loc[0, "authors"]
['Müller, H.', 'Doe, J.']
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import datetime as dt
import itertools
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, overload

import pandas as pd

from .cache import cache_key, gc_paused
from .cache import load as load_cached
from .cache import store as store_cached
from .errors import Problem, ReferenceTableError, check_choice, table_result
from .latex import decode_latex, decode_many, normalise_pages
from .names import split_authors_many
from .paths import resolve_refs_file
from .textio import decode_bytes, read_input
from .validation import LIST_FIELDS, MIRROR_HOSTS, SCHEMAS, check_record, normalise_doi
from .vocabulary import resolve

__all__ = ["REFERENCE_COLUMNS", "parse_bibtex", "read_references"]

REFERENCE_COLUMNS = [
    "key", "entry_type", "line", "authors", "first_author", "author_count", "et_al", "title", "journal",
    "year", "volume", "issue", "pages", "doi", "pmid", "pmcid", "url", "modality", "design",
    "population", "participants", "studies", "comparator", "finding", "rob", "rob_domains", "rob1", "rob_source",
    "rob_location", "pedro", "pedro_items", "pedro_source", "summary", "source", "seen_at", "location", "verified",
    "unverified", "printed_number", "registration", "note",
]
_INT_COLUMNS = ("year", "participants", "studies", "pedro", "printed_number", "author_count")
# Part of every cache key: a table cached before a column or a mirror host was added is not served again
# (it would lack the column, or miss a problem the rules now report).
_CACHE_RULES = "columns=" + ",".join(REFERENCE_COLUMNS) + ";mirrors=" + ",".join(sorted(MIRROR_HOSTS))
_TERM_FIELDS = {"design": "design", "population": "population", "finding": "finding", "rob": "rob"}
_LIST_TERMS = {"modality": "modality", "comparator": "comparator", "rob_domains": "rob"}
_MONTHS = {m: m.capitalize() for m in ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
                                        "oct", "nov", "dec")}
_BLOCK_START = re.compile(r"^[ \t]*@", re.MULTILINE)
_ENTRY_HEAD = re.compile(r"@\s*(\w+)\s*[({]\s*([^,\s{}()]*)")
_LOOKS_LIKE_ENTRY = re.compile(r"^\s*(\w+)\s*\{\s*([^,\s{}]+)\s*,", re.MULTILINE)
_LIST_SPLIT = re.compile(r"\s*;\s*")
_BRACE = re.compile(r"[{}]")
_BRACE_STEP = {"{": 1, "}": -1}
_CHUNK_CHARS = 1 << 20

logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)  # we report failed blocks ourselves


# --- step 1-2: bytes -> text (textio.decode_bytes) -> chunks -----------------------------------------


def _chunks(text: str) -> Iterator[tuple[int, str]]:
    """Yield (0-based first line, text) pieces that end before a line-start ``@``."""
    cut_points = [0]
    while (found := _BLOCK_START.search(text, cut_points[-1] + _CHUNK_CHARS)) is not None:
        cut_points.append(found.start())
    cut_points.append(len(text))
    line = 0
    for begin, end in itertools.pairwise(cut_points):
        piece = text[begin:end]
        yield line, piece
        line += piece.count("\n")


# --- step 4: values ----------------------------------------------------------------------------


def _matching_brace(text: str, start: int) -> int:
    """Index of the brace closing ``text[start]`` or -1 (scanned in place: no copy of the rest of ``text``)."""
    depth = 0
    for match in _BRACE.finditer(text, start):
        depth += 1 if match.group() == "{" else -1
        if depth == 0:
            return match.start()
    return -1


def _one_braced_group(raw: str) -> str | None:
    """The inside of ``raw`` when it is exactly one braced group ``{...}``, else None.

    Most values have no inner brace: two substring tests. Otherwise the brace depth inside
    must never drop below zero and must end at zero, computed by C-level loops (findall, map,
    accumulate): linear in the number of braces, at any depth, and far faster than a regex that
    walks every character of a long abstract.

    >>> _one_braced_group("{A {DNA} study}"), _one_braced_group("{a}{b}"), _one_braced_group("{a}}")
    ('A {DNA} study', None, None)
    """
    if raw[:1] != "{" or raw[-1:] != "}":
        return None
    inner = raw[1:-1]
    if "{" not in inner and "}" not in inner:
        return inner
    depths = list(itertools.accumulate(map(_BRACE_STEP.__getitem__, _BRACE.findall(inner))))
    return inner if min(depths) >= 0 and depths[-1] == 0 else None


MAX_EXPANDED_VALUE = 1 << 20     # characters one value may hold after @string macros are substituted
MAX_EXPANDED_FILE = 64 << 20     # characters macros may add in a whole file
_TOKEN = re.compile(r"[^\s#{}\"]+")
_MISSING_COMMA_AT = re.compile(r"\s*,?\s*([A-Za-z][\w\-]*)\s*=")


class _Macros(dict):
    """The @string macros of one file (lower-case name -> value), and what their substitution has added so far."""

    expanded = 0


_EXPANSION = "@string macros expanding to more than"
_EXPANSION_EXPECTED = (f"at most {MAX_EXPANDED_VALUE:,} characters per value and {MAX_EXPANDED_FILE:,} per file "
                       "from @string macros (a macro that repeats another is a 'billion laughs' attack)")
_VALUE_EXPECTED = "fields separated by commas, values in {braces}, \"quotes\" or defined @string macros"


def _expansion_problem(size: int) -> str:
    return f"{_EXPANSION} {size:,} characters"


def _expected_for(issue: str, otherwise: str = _VALUE_EXPECTED) -> str:
    return _EXPANSION_EXPECTED if issue.startswith(_EXPANSION) else otherwise


def _resolve_value(raw: str, strings: dict[str, str]) -> tuple[str, str | None]:
    """Resolve one raw BibTeX value; return (value, problem description or None).

    An undefined macro keeps its name as the value (so the field is not reported
    missing as well); after a missing comma, the value ends where the next field
    begins (see :func:`_swallowed_field` for the field it swallowed). Linear in the
    length of ``raw`` (a million ``#`` parts included): the text is scanned in place.
    Macro substitution is capped (:data:`MAX_EXPANDED_VALUE` per value,
    :data:`MAX_EXPANDED_FILE` per file when ``strings`` is the file's :class:`_Macros`):
    beyond that, the raw text is kept and the problem says why.
    """
    raw = raw.strip()
    # Fast paths for the common shapes: {...}, "...", 1234, macro.
    braced = _one_braced_group(raw)
    if braced is not None:
        return braced, None
    if raw[:1] == '"' and raw[-1:] == '"' and '"' not in raw[1:-1]:
        return raw[1:-1], None
    if raw.isdigit():
        return raw, None
    if raw.lower() in strings:
        return strings[raw.lower()], None  # the macro's own string object: nothing is copied
    parts: list[str] = []
    size = from_macros = 0
    pos, expect_value = 0, True
    while pos < len(raw):
        char = raw[pos]
        if char.isspace():
            pos += 1
            continue
        if not expect_value:
            if char == "#":
                expect_value = True
                pos += 1
                continue
            field = _MISSING_COMMA_AT.match(raw, pos)
            if field:
                return "".join(parts), f"missing comma before field '{field.group(1).lower()}'"
            return "".join(parts), f"unexpected text {raw[pos:pos + 30]!r} after the value"
        if char == "{":
            end = _matching_brace(raw, pos)
            if end < 0:
                return "".join(parts), "unbalanced braces in the value"
            part = raw[pos + 1:end]
            pos = end + 1
        elif char == '"':
            depth, end = 0, -1
            for i in range(pos + 1, len(raw)):
                if raw[i] == "{":
                    depth += 1
                elif raw[i] == "}":
                    depth -= 1
                elif raw[i] == '"' and depth == 0:
                    end = i
                    break
            if end < 0:
                if "{" in raw[pos:] and '"' in raw[pos + 1:]:  # "A {Trial" of}: the second quote is inside braces
                    return "".join([*parts, raw[pos + 1:]]), (
                        f"unclosed quote in the value ({raw[pos:pos + 40]!r}: a '\"' inside {{braces}} does not end a "
                        "quoted value, and the parser ended the entry at the brace after it)")
                return "".join([*parts, raw[pos + 1:]]), "unclosed quote in the value"
            part = raw[pos + 1:end]
            pos = end + 1
        else:
            match = _TOKEN.match(raw, pos)
            token = match.group() if match else raw[pos]
            pos += len(token)
            if token.isdigit():
                part = token
            elif token.lower() in strings:
                part = strings[token.lower()]
                from_macros += len(part)
            elif token.lower() in _MONTHS:
                part = _MONTHS[token.lower()]
            else:
                return "".join([*parts, token]), f"undefined @string macro '{token}'"
        size += len(part)
        if from_macros and size > max(MAX_EXPANDED_VALUE, len(raw)):
            return raw[:MAX_EXPANDED_VALUE], _expansion_problem(MAX_EXPANDED_VALUE)
        parts.append(part)
        expect_value = False
    if from_macros and isinstance(strings, _Macros):
        strings.expanded += from_macros
        if strings.expanded > MAX_EXPANDED_FILE:
            return raw[:MAX_EXPANDED_VALUE], _expansion_problem(MAX_EXPANDED_FILE)
    return "".join(parts), None


def _swallowed_field(raw: str) -> tuple[str, str] | None:
    """After a missing comma, bibtexparser reads ``{a}\n  title = {b}`` as one value: recover ``title``."""
    depth, pos = 0, 0
    for pos, char in enumerate(raw):
        depth += (char == "{") - (char == "}")
        if depth == 0 and pos > 0 and char == "}":
            break
    match = re.match(r"\s*,?\s*([A-Za-z][\w\-]*)\s*=\s*(.*)$", raw[pos + 1:], re.DOTALL)
    return (match.group(1).lower(), match.group(2).strip().rstrip(",")) if match else None


# --- step 6: records ---------------------------------------------------------------------------


def _split_list(value: str) -> list[str]:
    return [v for v in _LIST_SPLIT.split(value.strip()) if v]


_EVIDENCE_TEXT = frozenset(("modality", "design", "population", "comparator", "finding", "rob", "rob_domains",
                            "unverified", "verified", "participants", "studies", "pedro", "pedro_items"))
# URLs keep '~', '%' and '--' literally: LaTeX decoding would turn '~' into a space.
_URL_FIELDS = frozenset(("source", "seen_at", "url", "rob_source", "pedro_source"))


def _build_record(entry_type: str, key: str, line: int, fields: dict[str, str],
                  field_lines: dict[str, int]) -> dict:
    """A light record for validation; columns are built later, column by column (see _to_frame).

    Evidence fields are decoded here (they are few and the checks need clean terms);
    bibliographic fields stay as resolved BibTeX until :func:`_to_frame` decodes each
    distinct value once.
    """
    raw = fields
    if not _EVIDENCE_TEXT.isdisjoint(fields):
        raw = {name: decode_latex(value) if name in _EVIDENCE_TEXT else value for name, value in fields.items()}
    raw_lists = {name: _split_list(raw[name]) for name in LIST_FIELDS if name in raw}
    return {
        "key": key,
        "entry_type": entry_type,
        "line": line,
        "_raw": raw,
        "_raw_lists": raw_lists,
        "_field_lines": field_lines,
        "doi": normalise_doi(decode_latex(raw["doi"])) if "doi" in raw else "",
        "source": raw.get("source", "").split(),
        "seen_at": raw.get("seen_at", "").split(),
        "unverified": [v.lower() for v in raw_lists.get("unverified", [])],
        "rob_domains": raw_lists.get("rob_domains", []),
    }


def _empty_table() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in REFERENCE_COLUMNS})


def _int_or_none(text: str) -> int | None:
    text = text.strip()
    # ASCII digits only ('²'.isdigit() is True but int('²') fails), and small enough for Int64;
    # the validator reports anything else with its line.
    return int(text) if text.isascii() and text.isdigit() and len(text.lstrip("0")) <= 18 else None


_TEXT_COLUMNS = ("title", "journal", "volume", "issue", "pages", "pmcid", "summary", "location", "verified",
                 "pedro_items", "registration", "note", "rob_location")
_NUMBER_COLUMNS = ("year", "participants", "studies", "pedro", "printed_number")


def _to_frame(records: list[dict]) -> pd.DataFrame:
    """Build the table column by column: every distinct string is decoded once, all in one pass."""
    if not records:
        return _empty_table()
    raws = [r["_raw"] for r in records]
    count = len(raws)
    present = set().union(*raws)  # a field no entry has is a constant column, built without a loop

    def field(name: str) -> list[str]:
        return [r.get(name, "") for r in raws] if name in present else [""] * count

    def mapped(mapping: dict, values: list) -> list:
        return list(map(mapping.__getitem__, values))  # a C loop: twice as fast as a comprehension

    columns: dict[str, list] = {name: [r[name] for r in records]
                                for name in ("key", "entry_type", "line", "doi", "source", "seen_at", "unverified")}
    author_fields = [r.get("author") or r.get("editor") or "" for r in raws]
    parsed = split_authors_many(set(author_fields))
    columns["authors"] = [list(parsed[a][0]) for a in author_fields]
    # The first formatted name up to ", " is its last name (an organisation has no comma and stays whole).
    columns["first_author"] = mapped({a: names[0].split(", ", 1)[0] if names else ""
                                      for a, (names, _) in parsed.items()}, author_fields)
    columns["author_count"] = mapped({a: len(names) for a, (names, _) in parsed.items()}, author_fields)
    columns["et_al"] = mapped({a: truncated for a, (_, truncated) in parsed.items()}, author_fields)
    raw_columns = {name: field(name) for name in (*_TEXT_COLUMNS, *_NUMBER_COLUMNS)}
    if present & {"number", "issue"}:
        raw_columns["issue"] = [r.get("number", r.get("issue", "")) for r in raws]
    decoded = decode_many(itertools.chain.from_iterable(set(values) for values in raw_columns.values()))
    for name in _TEXT_COLUMNS:
        columns[name] = mapped(decoded, raw_columns[name])
    columns["pages"] = mapped({v: normalise_pages(v) for v in set(columns["pages"])}, columns["pages"])
    for name in _NUMBER_COLUMNS:
        values = raw_columns[name]
        columns[name] = mapped({v: _int_or_none(decoded[v]) for v in set(values)}, values)
    for name in ("url", "rob_source", "pedro_source", "pmid"):
        columns[name] = [v.strip() for v in field(name)]
    for name, kind in _TERM_FIELDS.items():
        values = field(name)
        columns[name] = mapped({v: (resolve(kind, v, suggest=False)[0] or v) if v else "" for v in set(values)},
                               values)
    for name, kind in _LIST_TERMS.items():
        columns[name] = [[resolve(kind, v, suggest=False)[0] or v for v in r["_raw_lists"].get(name, [])]
                         for r in records] if name in present else [[] for _ in range(count)]
    columns["rob1"] = [list(r["_raw_lists"].get("rob1", [])) for r in records] if "rob1" in present \
        else [[] for _ in range(count)]
    table = pd.DataFrame({c: columns[c] for c in REFERENCE_COLUMNS})
    for column in (*_INT_COLUMNS, "line"):
        table[column] = pd.array(columns[column], dtype="Int64")
    return table


# --- steps 3-6 ---------------------------------------------------------------------------------


def parse_bibtex(text: str, file: str = "<string>", schema: str = "studies",
                 initial_problems: list[Problem] | None = None, *,
                 line_offset: int = 0) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse BibTeX ``text`` into (table, problems) without raising on bad data.

    Every entry found is either a row of the table or named in the problems.
    ``line_offset``: the number of lines before ``text`` in its file (text appended to
    a file of that many lines), so that lines in the table and the problems are the file's.
    """
    return _parse_boxed([text], file, schema, initial_problems, line_offset)


def _parse_boxed(box: list[str], file: str, schema: str, initial_problems: list[Problem] | None,
                 line_offset: int = 0) -> tuple[pd.DataFrame, list[Problem]]:
    """parse_bibtex on text handed over in a one-item list, so the text can be freed before the
    table is built (the caller keeps no reference): the peak memory of a large file drops."""
    # Parsing allocates hundreds of thousands of short-lived, acyclic objects; the collector would
    # walk the growing heap again and again and find nothing (15-25 % of the CPU time). The one
    # cycle bibtexparser makes, a failed block's exception whose traceback holds the splitter and
    # its library, is broken where the block is read, so a file of broken entries does not pile up.
    with gc_paused():
        return _parse_blocks(box, file, schema, initial_problems, line_offset)


def _parse_blocks(box: list[str], file: str, schema: str, initial_problems: list[Problem] | None,
                  line_offset: int = 0) -> tuple[pd.DataFrame, list[Problem]]:
    text = box.pop()
    check_choice("schema", schema, SCHEMAS)
    import bibtexparser
    from bibtexparser import model

    if "\r" in text:  # CRLF and old Mac CR line endings: lines and values as editors show them
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    problems = list(initial_problems or [])
    locate = any(_unlocated(p) for p in problems)  # bad bytes found before parsing: name their entry later
    strings: dict[str, str] = _Macros()
    records: list[dict] = []
    first_line_of: dict[str, int] = {}
    for offset, chunk in _progress(_chunks(text), len(text), file):
        offset += line_offset
        library = bibtexparser.parse_string(chunk, parse_stack=[])
        previous: str | None = None  # key of the entry just before this block
        previous_failed = False
        for block in library.blocks:
            line = offset + (block.start_line or 0) + 1
            before, previous = previous, _entry_key(block, model)
            before_failed, previous_failed = previous_failed, isinstance(block, model.ParsingFailedBlock)
            if isinstance(block, model.String):
                value, issue = _resolve_value(block.value, strings)
                if issue:
                    problems.append(Problem(file, line, block.key, "@string", issue,
                                            _expected_for(issue, "a defined value")))
                strings[block.key.lower()] = value
            elif isinstance(block, (model.Entry, model.DuplicateFieldKeyBlock)):
                repeated = isinstance(block, model.DuplicateFieldKeyBlock)
                entry = block.ignore_error_block if repeated else block
                if repeated:
                    _report_repeated_fields(entry, block, offset, file, problems)
                record = _entry_record(entry, line, offset, file, strings, problems, dedupe=repeated)
                if record is not None:
                    _register_key(record, first_line_of, file, problems)
                    records.append(record)
                    if locate:
                        record["_end_line"] = line + (block.raw or "").count("\n")
            elif isinstance(block, model.DuplicateBlockKeyBlock):
                problems.append(Problem(file, line, block.key, "key", f"duplicate key '{block.key}'",
                                        f"unique keys (first at line {first_line_of.get(block.key, '?')})"))
            elif isinstance(block, model.ParsingFailedBlock):
                with contextlib.suppress(AttributeError):  # error -> traceback -> splitter -> library -> block
                    block.error.__traceback__ = None
                raw = getattr(block, "raw", "") or ""
                head = _ENTRY_HEAD.search(raw)
                key = head.group(2) if head else ""
                field, detail, expected = _describe_failure(raw, line)
                problems.append(Problem(file, line, key, field, detail, expected))
            elif isinstance(block, model.ImplicitComment):
                stray = _STRAY_FIELDS.match(block.comment) if before is not None else None
                if stray:  # fields after an entry: a '}' in a value closed it early, and they would be lost
                    at = line + block.comment.count("\n", 0, stray.start(1))
                    why = ("the entry could not be read, see the problem on its first line" if before_failed else
                           "a '}' in a value above closed the entry early?")
                    problems.append(Problem(file, at, before, stray.group(1).lower(),
                                            f"field '{stray.group(1).lower()}' after the end of entry '{before}' "
                                            f"({why})", "every field inside its entry: balanced braces in each value"))
                for match in _LOOKS_LIKE_ENTRY.finditer(block.comment):
                    if match.group(1).lower() in ("comment",):
                        continue
                    at = line + block.comment.count("\n", 0, match.start())
                    problems.append(Problem(file, at, match.group(2), "entry",
                                            f"text that looks like an entry without '@' ({match.group(1)}{{...)",
                                            "'@' before the entry type, or a % comment", "warning"))
    library = block = chunk = text = None  # the last chunk's parse and the text are not needed any more
    if not records and not any(p.severity == "error" for p in problems):
        problems.append(Problem(file, 0, "", "", "no entries", "at least one @type{key, ...} entry"))
    today = dt.date.today()
    for record in records:
        problems.extend(check_record(record, file, schema, today))
    if locate:
        problems = _locate_in_entries(problems, records)
    for record in records:  # keep only what _to_frame reads: the table is built next, at peak memory
        del record["_field_lines"]
        record.pop("_end_line", None)
    problems.sort(key=lambda p: (p.line, p.key, p.field))
    return _to_frame(records), problems


def _unlocated(problem: Problem) -> bool:
    return problem.field == "encoding" and not problem.key and problem.found.startswith("byte 0x")


def _locate_in_entries(problems: list[Problem], records: list[dict]) -> list[Problem]:
    """Give a bad-byte problem the key and field of the entry line it is on (comments keep none)."""
    spans = sorted((r["line"], r.get("_end_line", r["line"]), i) for i, r in enumerate(records))
    starts = [span[0] for span in spans]
    located = []
    for problem in problems:
        at = bisect.bisect_right(starts, problem.line) - 1
        if _unlocated(problem) and at >= 0 and problem.line <= spans[at][1]:
            record = records[spans[at][2]]
            lines = [(line, name) for name, line in record["_field_lines"].items() if line <= problem.line]
            problem = dataclasses.replace(problem, key=record["key"], field=max(lines)[1] if lines else "encoding")
        located.append(problem)
    return located


_PROGRESS_MIN_CHARS = 4 * _CHUNK_CHARS  # about 2 s of parsing: below that a bar is noise


def _progress(chunks: Iterator[tuple[int, str]], total: int, file: str) -> Iterator[tuple[int, str]]:
    """Show a tqdm bar on stderr for large files, only when stderr is a terminal."""
    import sys

    if total < _PROGRESS_MIN_CHARS or not sys.stderr.isatty():
        yield from chunks
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="B", unit_scale=True, desc=f"reading {Path(file).name}", file=sys.stderr,
              leave=False) as bar:
        for offset, chunk in chunks:
            yield offset, chunk
            bar.update(len(chunk))


# An implicit comment that starts with fields (after junk ending in a comma on the first line): the remains of
# an entry closed early ("title = {A } something},\n  journal = {...}").
_STRAY_FIELDS = re.compile(r"[^\S\n]*(?:[^\n{}@%=]*,)?\s*([A-Za-z][\w\-]*)\s*=\s*[{\"\w]")


def _entry_key(block, model) -> str | None:
    """The key of an entry block (parsed, or failed with a readable head); None for other blocks."""
    if isinstance(block, model.Entry | model.DuplicateBlockKeyBlock):
        return block.key or ""
    if isinstance(block, model.DuplicateFieldKeyBlock):
        return getattr(block.ignore_error_block, "key", "") or ""
    if isinstance(block, model.ParsingFailedBlock):
        head = _ENTRY_HEAD.search(getattr(block, "raw", "") or "")
        return head.group(2) if head else ""
    return None


_COMMA_KEY = re.compile(r"@\s*\w+\s*[{(]\s*([^,\s{}()=]+\s*,\s*[^,\s{}()=\"]+)\s*(?:,|$)")
_FIELD_START = re.compile(r"^\s*([A-Za-z][\w\-]*)\s*=")
_ENTRY_EXPECTED = "a complete entry: @type{key, field = {value}, ...}"


def _describe_failure(raw: str, line: int) -> tuple[str, str, str]:
    """(field, found, expected) for an entry bibtexparser could not parse, with where it went wrong.

    A key with a comma (``@article{doe,2020,``) is named as such; for unbalanced braces the
    line that goes wrong is named: the line whose '}' closes the entry early, or the line
    where a value's '{' is still open when the next field starts.
    """
    comma_key = _COMMA_KEY.match(raw)
    if comma_key and "=" not in comma_key.group(1):
        return ("key", f"a key with a comma ({comma_key.group(1)!r})",
                "a key without commas or spaces: lower-case ASCII letters and digits, like 'cherkin2009randomized'")
    opened, closed = raw.count("{"), raw.count("}")
    if opened == closed:
        return "entry", "an entry bibtexparser could not parse", _ENTRY_EXPECTED
    found = f"unbalanced braces ({opened} '{{' vs {closed} '}}')"
    return "entry", found + _brace_hint(raw, line, opened > closed), _ENTRY_EXPECTED


def _brace_hint(raw: str, line: int, unclosed: bool) -> str:
    """Where the braces of a failed entry go wrong, as '; ...' text (empty when no line stands out)."""
    depth, value_opened = 0, 0
    for number, text in enumerate(raw.split("\n"), start=line):
        field = _FIELD_START.match(text) if number > line else None
        if field and depth >= 2:
            return (f"; the '{{' opened at line {value_opened} is still open when field '{field.group(1).lower()}' "
                    f"starts at line {number}")
        for brace in _BRACE.finditer(text):  # braces only: a 48 MB entry is mostly text
            if brace.group() == "{":
                depth += 1
                if depth == 2:
                    value_opened = number
            else:
                depth -= 1
                if depth == 0 and text.strip() != "}" and number > line:
                    return f"; a '}}' at line {number} closes the entry early (a '}}' too many in a value?)"
    return "; the entry's closing '}' is missing (the file cut off, or a '{' too many)" if unclosed else ""


def _report_repeated_fields(entry, block, offset: int, file: str, problems: list[Problem]) -> None:
    """A problem for each field an entry gives a second time (bibtexparser keeps the first)."""
    seen: dict[str, int] = {}
    for fld in getattr(entry, "fields", []):
        name = fld.key.lower()
        fline = offset + (fld.start_line or block.start_line or 0) + 1
        if name in seen:
            problems.append(Problem(file, fline, entry.key, name, f"a second '{name}' field",
                                    f"each field once (first at line {seen[name]})"))
        else:
            seen[name] = fline


def _register_key(record: dict, first_line_of: dict[str, int], file: str, problems: list[Problem]) -> None:
    key = record["key"]
    if key in first_line_of:
        problems.append(Problem(file, record["line"], key, "key", f"duplicate key '{key}'",
                                f"unique keys (first at line {first_line_of[key]})"))
    else:
        first_line_of[key] = record["line"]


def _entry_record(entry, line: int, offset: int, file: str, strings: dict[str, str],
                  problems: list[Problem], dedupe: bool = False) -> dict | None:
    fields: dict[str, str] = {}
    field_lines: dict[str, int] = {}
    base = offset + 1
    entry_line = base + (entry.start_line or 0)
    for fld in entry.fields:
        name = fld.key.lower()
        start = fld.start_line
        fline = entry_line if start is None else base + start
        if name in fields:
            if not dedupe:
                problems.append(Problem(file, fline, entry.key, name, f"a second '{name}' field",
                                        f"each field once (first at line {field_lines[name]})"))
            continue
        raw = fld.value
        if raw[:1] == "{" and raw[-1:] == "}":  # the common case, inlined: one braced group
            inner = raw[1:-1]
            if ("{" not in inner and "}" not in inner) or _one_braced_group(raw) is not None:
                fields[name] = inner
                field_lines[name] = fline
                continue
        value, issue = _resolve_value(raw, strings)
        if issue:
            problems.append(Problem(file, fline, entry.key, name, issue, _expected_for(issue)))
        fields[name] = value
        field_lines[name] = fline
        swallowed = _swallowed_field(str(raw)) if issue and issue.startswith("missing comma") else None
        if swallowed and swallowed[0] not in fields:
            fields[swallowed[0]] = _resolve_value(swallowed[1], strings)[0]
            field_lines[swallowed[0]] = fline + str(raw).count("\n")
    if not entry.key:
        problems.append(Problem(file, line, "", "key", "an entry without a key", "@type{key, ...}"))
        return None
    return _build_record(entry.entry_type.lower(), entry.key, line, fields, field_lines)


def table_cache_key(data: bytes, schema: str, file: str) -> str:
    """The cache key of the table parsed from ``data``: the bytes, the schema, the file problems name, and the
    rules (columns, mirror hosts) that a table cached before a change of them would miss."""
    return cache_key(data, "references", schema, file, _CACHE_RULES)


def parse_bytes(box: list[bytes], file: str, schema: str = "studies") -> tuple[pd.DataFrame, list[Problem]]:
    """(table, problems) of a .bib file's bytes, from the cache when these bytes were parsed before.

    The bytes come in a one-item list that is emptied, so that they can be freed as soon as
    they are decoded (peak memory of a large file). The cache key is the bytes, ``file``
    (which problems name) and ``schema``.
    """
    data = box.pop()
    key = table_cache_key(data, schema, file)
    cached = load_cached(key)
    if cached is not None:
        return cached
    decoded = decode_bytes(data, file)
    del data  # bytes and text are dropped as soon as they are not needed
    text_box, problems = [decoded[0]], decoded[1]
    del decoded
    table, problems = _parse_boxed(text_box, file, schema, problems)
    store_cached(key, (table, problems))
    return table, problems


# --- public ------------------------------------------------------------------------------------


@overload
def read_references(path: str | Path | None = ..., *, strict: Literal[True] = ...,
                    schema: str = ...) -> pd.DataFrame: ...
@overload
def read_references(path: str | Path | None = ..., *, strict: Literal[False],
                    schema: str = ...) -> tuple[pd.DataFrame, pd.DataFrame]: ...


def read_references(path: str | Path | None = None, *, strict: bool = True, schema: str = "studies"):
    """Read a BibTeX reference file into a DataFrame, one row per entry.

    Parameters
    ----------
    path
        A .bib file, or a refs/ folder (its ``studies.bib`` is read). ``None`` reads
        the table bundled with the package.
    strict
        ``True`` (default): raise :class:`~lbpevidence.errors.ReferenceTableError`
        listing every problem of severity ``error``. ``False``: return
        ``(table, problems)`` where ``problems`` is a DataFrame
        (:data:`~lbpevidence.errors.PROBLEM_COLUMNS`); warnings are returned too.
    schema
        ``"studies"`` (refs/studies.bib rules), ``"printed"`` (refs/article.bib) or
        ``"bibliography"`` (any .bib: content rules become warnings).

    Returns
    -------
    DataFrame
        Columns :data:`REFERENCE_COLUMNS`, documented in refs/README.md: ``authors``
        is a list of ``"Last, F."`` names, ``year`` an integer, ``doi`` lower case
        without resolver, ``modality``/``comparator``/``source``/``unverified``
        lists, LaTeX decoded to Unicode, page ranges with an en dash. ``line`` is
        the 1-based line of the entry. ``attrs["path"]`` names the file.

    Examples
    --------
    >>> refs = read_references()
    >>> {"key", "authors", "modality", "doi"} <= set(refs.columns)
    True
    >>> bool(refs["key"].is_unique)
    True
    """
    check_choice("schema", schema, SCHEMAS)
    default_name = "article.bib" if schema == "printed" else "studies.bib"
    file_path = resolve_refs_file(path, default_name)
    file = str(file_path)
    problems: list[Problem]
    if not file_path.exists() and not file_path.is_symlink():  # a symlink loop "does not exist": read_input names it
        problems = [Problem(file, 0, "", "", "no such file", "an existing .bib file")]
        table = _empty_table()
    elif file_path.is_dir():
        problems = [Problem(file, 0, "", "", "a directory", f"a .bib file (or a folder holding {default_name})")]
        table = _empty_table()
    else:
        data, unreadable = read_input(file_path, file)  # a FIFO or /dev/zero is a problem, not a hang
        if unreadable is not None:
            table, problems = _empty_table(), [unreadable]
        else:
            box = [data]
            del data  # the parser frees the bytes once decoded (peak memory)
            table, problems = parse_bytes(box, file, schema)
    table.attrs["path"] = file
    return table_result(table, problems, strict, ReferenceTableError, file)
