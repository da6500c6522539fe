"""Write to the reference table safely: format entries and append them atomically.

:func:`append_entries` is the only function that changes a studies.bib. Its promise:

* **all or nothing**: the file as it would be after the append is parsed and
  validated first (:func:`lbpevidence.references.parse_bibtex`, schema ``studies``);
  if anything is wrong, nothing is written and one
  :class:`~lbpevidence.errors.ReferenceTableError` lists every problem;
* **the old bytes stay**: the new file is the old file's bytes, unchanged, followed
  by the appended block (comments, ``@string`` macros, field order, formatting, a
  byte-order mark and line endings before it are never touched); if the file does
  not end with a line break, exactly one is added before the block;
* **atomic**: the new content goes to a temporary file in the same directory, is
  flushed to disk (``os.fsync``), then renamed over the old one (``os.replace``) and
  the directory is synced; a crash leaves the old file or the new one, never half of
  one, and a failure removes the temporary file;
* an optional ``.bak`` copy of the previous version, and an exclusive lock
  (``fcntl.flock``, where available) so that two appends do not interleave.

This module needs no bibtexparser: it writes text, and validates by calling
:mod:`lbpevidence.references`.

Examples
--------
>>> print(format_entry({"key": "doe2021yoga", "authors": ["Doe, J.", "Roe, R."], "title": "Yoga & 50% less pain",
...                     "journal": "J Fict Res", "year": 2021, "pages": "112–119", "modality": ["yoga"]}), end="")
@article{doe2021yoga,
  author       = {Doe, J. and Roe, R.},
  title        = {Yoga \\& 50\\% less pain},
  journal      = {J Fict Res},
  year         = {2021},
  pages        = {112--119},
  modality     = {yoga},
}
"""

from __future__ import annotations

import errno
import math
import os
import re
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Problem, ReferenceTableError

__all__ = ["ENTRY_FIELDS", "AppendResult", "append_entries", "format_entry", "latex_escape", "lock",
           "stale_temporary_files"]

# (BibTeX field, record column), in the order refs/studies.bib writes them.
ENTRY_FIELDS = (
    ("author", "authors"), ("title", "title"), ("journal", "journal"), ("year", "year"), ("volume", "volume"),
    ("number", "issue"), ("pages", "pages"), ("doi", "doi"), ("pmid", "pmid"), ("pmcid", "pmcid"),
    ("url", "url"), ("registration", "registration"), ("note", "note"), ("modality", "modality"),
    ("design", "design"), ("population", "population"), ("participants", "participants"),
    ("studies", "studies"), ("comparator", "comparator"), ("finding", "finding"), ("rob", "rob"),
    ("rob_domains", "rob_domains"), ("rob1", "rob1"), ("rob_source", "rob_source"),
    ("rob_location", "rob_location"), ("pedro", "pedro"),
    ("pedro_items", "pedro_items"), ("pedro_source", "pedro_source"), ("summary", "summary"),
    ("source", "source"), ("seen_at", "seen_at"), ("location", "location"), ("verified", "verified"),
    ("unverified", "unverified"),
)
_VERBATIM = {"doi", "url", "source", "seen_at", "rob_source", "pedro_source"}
_SPACE_LISTS = {"source", "seen_at"}
_NAME_WIDTH = 12  # "participants", as in refs/studies.bib

_TEXT_SPECIAL = re.compile(r"[\\{}$&%#_~]|-(?=-)|`(?=`)|'(?=')")
_VERBATIM_SPECIAL = re.compile(r"[\\{}$]|-(?=-)|`(?=`)|'(?=')")
_ESCAPES = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "%": r"\%", "#": r"\#",
            "_": r"\_", "~": r"\textasciitilde{}", "-": "-{}", "`": "`{}", "'": "'{}"}
_ENTRY_START = re.compile(r"^[ \t]*@[ \t]*(?!(?:string|comment|preamble)\b)\w+[ \t]*[{(]",
                          re.MULTILINE | re.IGNORECASE)


def latex_escape(text: str, verbatim: bool = False) -> str:
    """Escape what BibTeX and LaTeX would misread in a field value; nothing else.

    Plain Unicode stays as it is (the file is UTF-8). Escaped: ``\\ { } $ & % # _ ~``
    (LaTeX specials), and the second character of ``--``, ````` `` ````` and ``''``
    (which would become a dash or a curly quote). Braces that pair up become ``\\{``
    and ``\\}``; a lone one (a title with a stray ``}``) becomes ``\\textbraceright{}``,
    because BibTeX counts escaped braces too. ``verbatim=True`` (URLs, DOIs)
    escapes only ``\\ { } $`` and those pairs, so that ``%20`` and ``_`` in a URL
    stay readable. Runs of whitespace become one space. The loader
    (:func:`lbpevidence.latex.decode_latex`) turns every escape back, except two it
    does not handle yet: ``\\$`` is dropped and ``~`` is read as a space.

    Examples
    --------
    >>> print(latex_escape("Pain -- 50% less & {more}_x"))
    Pain -{}- 50\\% less \\& \\{more\\}\\_x
    >>> print(latex_escape("https://example.org/a_b%20c", verbatim=True))
    https://example.org/a_b%20c
    >>> print(latex_escape("A } lone brace"))
    A \\textbraceright{} lone brace
    """
    pattern = _VERBATIM_SPECIAL if verbatim else _TEXT_SPECIAL
    text = " ".join(str(text).split())
    lone = _unmatched_braces(text)
    if not lone:
        return pattern.sub(lambda m: _ESCAPES[m.group()], text)
    # BibTeX counts \{ and \} when it balances braces: a lone one would break the entry (and the append).
    return pattern.sub(lambda m: _LONE_BRACES[m.group()] if m.start() in lone else _ESCAPES[m.group()], text)


_LONE_BRACES = {"{": r"\textbraceleft{}", "}": r"\textbraceright{}"}


def _unmatched_braces(text: str) -> set[int]:
    """Positions of the braces in ``text`` that have no partner ('a } b {' -> both)."""
    if "{" not in text and "}" not in text:
        return set()
    opened: list[int] = []
    lone: set[int] = set()
    for position, char in enumerate(text):
        if char == "{":
            opened.append(position)
        elif char == "}":
            if opened:
                opened.pop()
            else:
                lone.add(position)
    return lone | set(opened)


def _missing(value: Any) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    if type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, str | list | tuple) and not [v for v in value if str(v).strip()]


def _author_value(names: Iterable[str], et_al: bool) -> str:
    parts = []
    for name in names:
        name = " ".join(str(name).split())
        # A name without a comma is an organisation: braces keep it one name (and its "and" a word).
        parts.append(latex_escape(name) if "," in name else "{" + latex_escape(name) + "}")
    if et_al:
        parts.append("others")
    return " and ".join(parts)


def _field_value(field: str, value: Any) -> str:
    if isinstance(value, list | tuple):
        items = [str(v).strip() for v in value if str(v).strip()]
        value = (" " if field in _SPACE_LISTS else "; ").join(items)
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if field == "pages":
        text = re.sub(r"\s*[–—−]\s*", "--", text)  # the loader shows "858--866" as "858–866"
    escaped = latex_escape(text, verbatim=field in _VERBATIM)
    return escaped.replace("-{}-", "--") if field == "pages" else escaped


def format_entry(record: Mapping[str, Any]) -> str:
    """Format one record as a studies.bib entry, in the file's own style.

    ``record`` uses the column names of
    :func:`~lbpevidence.references.read_references` (``key``, ``entry_type``,
    ``authors`` as a list of names, or ``author_names`` with full given names, which
    win when present; a name without a comma is an organisation and is braced;
    ``et_al``, ``issue``, lists for ``modality``,
    ``comparator``, ``source`` ...); missing or empty values are left out. Fields come
    in the order of :data:`ENTRY_FIELDS`, one per line, names padded so that the
    ``=`` align (as in refs/studies.bib), values in braces and escaped with
    :func:`latex_escape`; page ranges are written ``858--866``. The text ends with a
    line break.

    Examples
    --------
    >>> print(format_entry({"key": "who2023guideline", "entry_type": "misc", "year": 2023,
    ...                     "authors": ["World Health Organization"], "title": "Guideline",
    ...                     "source": ["https://example.org/a", "https://example.org/b"]}), end="")
    @misc{who2023guideline,
      author       = {{World Health Organization}},
      title        = {Guideline},
      year         = {2023},
      source       = {https://example.org/a https://example.org/b},
    }
    """
    key = str(record.get("key") or "").strip()
    entry_type = str(record.get("entry_type") or "article").strip().lower() or "article"
    lines = []
    for field, column in ENTRY_FIELDS:
        value = record.get(column, record.get(field) if field != column else None)
        if _missing(value):
            continue
        if field == "author":
            full = record.get("author_names")
            names = list(full) if isinstance(full, list | tuple) and full else value
            names = [names] if isinstance(names, str) else list(names)
            et_al = record.get("et_al")
            text = _author_value(names, bool(et_al) if not _missing(et_al) else False)
        else:
            text = _field_value(field, value)
        lines.append((field, text))
    width = max([_NAME_WIDTH, *(len(f) for f, _ in lines)])
    body = "".join(f"  {field.ljust(width)} = {{{text}}},\n" for field, text in lines)
    return f"@{entry_type}{{{key},\n{body}}}\n"


@dataclass(frozen=True)
class AppendResult:
    """What :func:`append_entries` did.

    ``keys``: the appended entries, in order; ``written``: ``False`` for a dry run;
    ``backup``: the ``.bak`` copy, if one was made; ``warnings``: problems of
    severity ``warning`` in the new file (they do not block an append).
    """

    path: Path
    keys: tuple[str, ...]
    written: bool
    backup: Path | None = None
    warnings: tuple[Problem, ...] = ()


def _line_ending(data: bytes) -> bytes:
    """The file's line ending: the most common of LF, CRLF and CR (old Mac); LF when tied or none."""
    crlf = data.count(b"\r\n")
    lf, cr = data.count(b"\n") - crlf, data.count(b"\r") - crlf
    if crlf and crlf >= lf and crlf >= cr:
        return b"\r\n"
    return b"\r" if cr > lf and cr > crlf else b"\n"


def _records(entries: Any) -> list[Mapping[str, Any]]:
    if hasattr(entries, "to_dict") and hasattr(entries, "columns"):
        return entries.to_dict("records")
    if isinstance(entries, Mapping):
        return [entries]
    return list(entries)


_held = threading.local()  # paths this thread holds the lock of (lock() is re-entrant)


@contextmanager
def lock(path: str | Path) -> Iterator[None]:
    """Hold the exclusive lock on a studies.bib (or a refs/ folder's) for a block of work.

    ``lbpevidence add`` reads the table, looks for duplicates and appends under one lock, so
    that two runs adding the same record cannot both find it new. :func:`append_entries`
    called inside the block takes the lock again without waiting (the lock is re-entrant
    within a thread). The file is locked with ``fcntl.flock`` where it exists; another
    process's lock is waited for.
    """
    from .paths import resolve_refs_file

    path = resolve_refs_file(Path(path), "studies.bib")
    with _locked(path):
        yield


@contextmanager
def _locked(path: Path) -> Iterator[Any]:
    """Open ``path`` for reading under an exclusive lock that follows renames.

    After the lock is taken, the file at ``path`` must still be the one opened; if
    another process replaced it meanwhile, open and lock the new one. A thread that
    already holds the lock on this file (see :func:`lock`) gets a new read handle at once.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock
        fcntl = None
    held: set[str] = getattr(_held, "paths", None) or set()
    _held.paths = held
    real = os.path.realpath(path)
    if real in held:
        with open(path, "rb") as handle:
            yield handle
        return
    while True:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, or in the finally
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            same = os.path.samestat(os.fstat(handle.fileno()), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        handle.close()
    held.add(real)
    try:
        yield handle
    finally:
        held.discard(real)
        handle.close()  # releases the lock


def _fsync_directory(directory: Path) -> None:
    if os.name != "posix":  # pragma: no cover
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, data: bytes, info: os.stat_result) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, rename it over ``path``.

    ``path`` is the real file (symlinks resolved by the caller, so a link stays a link);
    the new file gets the old one's permission bits and, where allowed, its owner.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.chmod(tmp, stat.S_IMODE(info.st_mode))
        if hasattr(os, "chown") and (os.stat(tmp).st_uid, os.stat(tmp).st_gid) != (info.st_uid, info.st_gid):
            with suppress(OSError):  # only root may give a file away; the others keep their own
                os.chown(tmp, info.st_uid, info.st_gid)
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(path.parent)


def _write_failed(file: str, target: Path, exc: OSError) -> ReferenceTableError:
    """A located error for a write that failed (a full disk, a read-only folder): the file is unchanged."""
    reason = f"{errno.errorcode.get(exc.errno or 0, 'error')}: {exc.strerror or exc}"
    expected = {errno.ENOSPC: "free space on the disk", errno.EDQUOT: "free space in your disk quota",
                errno.EROFS: "a file system that is not read-only",
                errno.EACCES: f"permission to create files in {target.parent}",
                errno.EPERM: f"permission to create files in {target.parent}"}.get(exc.errno or 0, "a successful write")
    problem = Problem(file, 0, "", "", f"the write failed ({reason})",
                      f"{expected}; the file was not changed (the append wrote to a temporary copy first)")
    return ReferenceTableError([problem], f"{file}: cannot write; nothing was changed")


STALE_SUFFIX = ".tmp"


def stale_temporary_files(path: str | Path) -> list[Path]:
    """Temporary files an interrupted write (a SIGKILL, a power cut) left beside a studies.bib.

    :func:`append_entries` writes ``.studies.bib.XXXX.tmp`` (and ``.studies.bib.bak.XXXX.tmp``)
    before renaming it over the file; a write cut short leaves it behind. The next append
    removes them (under the lock, so no write is in progress); ``lbpevidence validate``
    lists them.
    """
    path = Path(os.path.realpath(path))
    prefix = f".{path.name}."
    try:
        return sorted(p for p in path.parent.iterdir() if p.name.startswith(prefix) and p.name.endswith(STALE_SUFFIX)
                      and p.is_file() and not p.is_symlink())
    except OSError:
        return []


_MACRO_DEFINITION = re.compile(r"^[ \t]*@[ \t]*string[ \t]*[{(]", re.MULTILINE | re.IGNORECASE)


def _check_appended(old: bytes, block: str, file: str, prefix_lines: int, expected: int,
                    after: list | None = None) -> tuple[tuple[str, ...], list[Problem]]:
    """(keys appended, problems of the file as it would be), without parsing the old part again.

    The old part's table and problems come from the cache (the bytes were just read by
    ``lbpevidence add``, or by the previous append), so appending to a large table costs
    the new entries, not the whole file. The result is the one a parse of the whole new
    file gives: the parser cuts blocks at every line-start '@', so the block, which starts
    on a line of its own, reads the same alone; what the old part contributes is its keys
    (a key taken is a duplicate) and its problems. Records formatted by
    :func:`format_entry` use no @string macros; BibTeX text goes through
    :func:`_check_whole` when the file defines any. ``after`` (a list) receives the table and
    problems of the file as it will be, for the cache (see :func:`_remember`).
    """
    from .references import parse_bibtex, parse_bytes

    old_table, old_problems = parse_bytes([old], file, "studies")
    block_table, block_problems = parse_bibtex(block, file, schema="studies", line_offset=prefix_lines)
    problems = [p for p in old_problems + block_problems if not (p.line == 0 and p.found == "no entries")]
    first_line = dict(zip(old_table["key"], old_table["line"], strict=True))
    keys = []
    for key, line in zip(block_table["key"], block_table["line"], strict=True):
        if key in first_line:
            problems.append(Problem(file, int(line), key, "key", f"duplicate key '{key}'",
                                    f"unique keys (first at line {first_line[key]})"))
        else:
            keys.append(str(key))
    if len(keys) != expected and not any(p.severity == "error" for p in problems):
        problems.append(Problem(file, prefix_lines + 1, "", "entry", f"{len(keys)} entries read back",
                                f"the {expected} entries given"))
    problems.sort(key=lambda p: (p.line, p.key, p.field))
    if after is not None and len(old_table) and len(keys) == len(block_table):
        import pandas as pd

        after[:] = [pd.concat([old_table, block_table], ignore_index=True), list(problems)]
    return tuple(keys), problems


def _remember(data: bytes, file: str, after: list) -> None:
    """Cache the table of the file just written, so the next read (the next ``add``) does not parse it.

    What is stored is what a parse of ``data`` gives (the old part's cached table and problems
    followed by the new block's: tests/test_hostile.py compares them with a parse without cache).
    """
    if not after:
        return
    from .cache import store
    from .references import table_cache_key

    store(table_cache_key(data, "studies", file), tuple(after))


def _check_whole(new_text: str, block: str, file: str, prefix_lines: int,
                 expected: int) -> tuple[tuple[str, ...], list[Problem]]:
    """(keys appended, problems) by parsing the whole file as it would be (BibTeX text in a file with macros)."""
    from .references import parse_bibtex

    table, problems = parse_bibtex(new_text, file, schema="studies")
    added = table[table["line"] > prefix_lines]
    if len(added) != expected:
        # An entry whose key is taken is set aside by the parser: check it on its own too.
        block_table, block_problems = parse_bibtex(block, file, schema="studies", line_offset=prefix_lines)
        unread = set(block_table["key"]) - set(added["key"])
        problems.extend(p for p in block_problems if p.key in unread and p.field != "key")
        if not any(p.severity == "error" for p in problems):
            problems.append(Problem(file, prefix_lines + 1, "", "entry", f"{len(added)} entries read back",
                                    f"the {expected} entries given"))
    return tuple(str(k) for k in added["key"]), problems


def append_entries(path: str | Path, entries: str | Any, *, backup: bool = False,
                   dry_run: bool = False) -> AppendResult:
    """Append entries to a studies.bib, all or nothing, atomically.

    Parameters
    ----------
    path
        An existing .bib file (refs/studies.bib); a refs/ folder means its
        ``studies.bib``.
    entries
        BibTeX text (one or more entries), or records: a DataFrame (for example from
        :func:`~lbpevidence.importers.import_records` after
        :func:`~lbpevidence.importers.apply_evidence`), a mapping or an iterable of
        mappings, formatted with :func:`format_entry`.
    backup
        Keep the previous version as ``<path>.bak`` (replacing an older one).
    dry_run
        Validate and report, write nothing.

    Returns
    -------
    AppendResult
        The keys appended (in order), whether the file was written, the backup path
        and any warnings.

    Raises
    ------
    ReferenceTableError
        Listing every problem, when the file as it would be after the append does not
        pass :func:`~lbpevidence.references.read_references` (schema ``studies``):
        problems of the new entries (evidence fields included), a key already used,
        and problems already in the file (fix those first: ``lbpevidence validate``).
        Line numbers refer to the file as it would be. Nothing is written.
    ValueError
        When ``entries`` is empty.

    Notes
    -----
    The block appended is, for each entry, a blank line and the entry; the blank
    line is left out when the file is empty or already ends with a blank line. It
    uses the file's line endings (CRLF when most lines end so) and is UTF-8.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "studies.bib"
    >>> _ = path.write_bytes(b"% my table")
    >>> record = {"key": "doe2021yoga", "authors": ["Doe, J."], "title": "Yoga for back pain",
    ...           "journal": "J Fict Res", "year": 2021, "pmid": "90000001", "modality": ["yoga"],
    ...           "design": "rct", "population": "chronic", "comparator": ["usual-care"],
    ...           "finding": "benefit", "source": ["https://pubmed.ncbi.nlm.nih.gov/90000001/"],
    ...           "location": "PubMed abstract", "verified": "2025-01-31"}
    >>> append_entries(path, [record]).keys
    ('doe2021yoga',)
    >>> path.read_bytes().startswith(b"% my table\\n\\n@article{doe2021yoga,\\n  author       = {Doe, J.},")
    True
    >>> append_entries(path, [{**record, "key": "roe2021yoga", "design": "rtc"}])
    Traceback (most recent call last):
    ...
    lbpevidence.errors.ReferenceTableError: ...: 1 problem(s); nothing was written:
      ...:26 roe2021yoga design: found 'rtc', expected a known design (did you mean 'rct'?); see refs/README.md
    """
    from .paths import resolve_refs_file
    from .textio import not_regular

    path = resolve_refs_file(Path(path), "studies.bib")
    file = str(path)
    if isinstance(entries, str):
        block_text = entries.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
        expected = len(_ENTRY_START.findall(block_text))
        block_entries = [block_text + "\n"] if block_text.strip() else []
    else:
        block_entries = [format_entry(record) for record in _records(entries)]
        expected = len(block_entries)
    if not block_entries:
        raise ValueError("There are no entries to append.")
    found = not_regular(path)  # a FIFO would block the locked read below; a device would never end
    if found is not None:
        raise ReferenceTableError([Problem(file, 0, "", "", found, "an existing .bib file (create an empty one to "
                                                                   "start a new table)")], f"{file}: cannot append")
    with _locked(path) as handle:
        old = handle.read()
        info = os.fstat(handle.fileno())
        if info.st_nlink > 1:
            raise ReferenceTableError([Problem(file, 0, "", "", f"a file with {info.st_nlink} hard links",
                                               "a file with one name: the atomic append replaces the file, and its "
                                               "other names would keep the old version (use a symbolic link)")],
                                      f"{file}: cannot append; nothing was written")
        eol = _line_ending(old)
        try:
            old_text = old.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = old[: exc.start].count(b"\n") + 1
            raise ReferenceTableError([Problem(file, line, "", "encoding", "bytes that are not UTF-8",
                                               "a UTF-8 file (nothing was written)")],
                                      f"{file}: cannot append") from None
        flat = old_text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in old_text else old_text
        glue = "" if not old_text or flat.endswith("\n") else "\n"  # exactly one line break before the block
        ends_blank = (flat + glue).endswith("\n\n")
        lead = "" if not old_text or ends_blank else "\n"
        block = lead + "\n".join(block_entries)
        prefix_lines = (flat + glue).count("\n")
        del flat
        after: list = []
        if isinstance(entries, str) and _MACRO_DEFINITION.search(old_text):
            # BibTeX text may use the file's @string macros: read it as part of the whole file
            keys, problems = _check_whole(old_text + glue + block, block, file, prefix_lines, expected)
        else:
            keys, problems = _check_appended(old, block, file, prefix_lines, expected, after)
        del old_text
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise ReferenceTableError(errors, f"{file}: {len(errors)} problem(s); nothing was written")
        stale = stale_temporary_files(path)
        if stale and not dry_run:  # under the lock no write is in progress: these are left by a killed one
            for leftover in stale:
                with suppress(OSError):
                    leftover.unlink()
        problems += [Problem(str(leftover), 0, "", "", "a temporary file left by an interrupted write",
                             "no such file (" + ("it would be removed" if dry_run else "removed") + "; the table "
                             "itself is whole: writes are atomic)", "warning") for leftover in stale]
        warnings = tuple(p for p in problems if p.severity != "error")
        if dry_run:
            return AppendResult(path, keys, written=False, warnings=warnings)
        addition = (glue + block).replace("\n", eol.decode("ascii")).encode("utf-8")
        target = Path(os.path.realpath(path))  # a symlinked studies.bib stays a link; its target is written
        backup_path = None
        try:
            if backup:
                backup_path = target.with_name(target.name + ".bak")
                _atomic_write(backup_path, old, info)
            _atomic_write(target, old + addition, info)
        except OSError as exc:
            raise _write_failed(file, target, exc) from None
        _remember(old + addition, file, after)
    return AppendResult(path, keys, written=True, backup=backup_path, warnings=warnings)
