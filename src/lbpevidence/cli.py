"""The lbpevidence command: check, read and review the reference table of low back pain treatments.

Exit codes: 0 = done (for ``validate``: no errors), 1 = the input has problems,
2 = the command line is wrong. Heavy modules are imported inside each command so
that ``lbpevidence validate`` starts fast and never imports matplotlib or scipy.

Tables printed for reading (``summary``, ``table``, ``audit`` without ``--format``) fit the
terminal: :func:`fit_table` wraps cells and, when even wrapped columns do not fit, leaves out
the least important ones and says which. The width is ``--width``, else the terminal's width,
else 100 characters (output to a file or a pipe). ``--format markdown|csv|json`` writes every
column at full width, for files.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

__all__ = ["DEFAULT_WIDTH", "fit_table", "format_table", "main", "output_width"]

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
#: Width of text output when it does not go to a terminal (a pipe, a file, a test) and no --width is given.
DEFAULT_WIDTH = 100
_MIN_WIDTH = 40
_COMFORTABLE = 18  # characters a column of words gets before fit_table leaves less important columns out


def format_table(frame, fmt: str) -> str:
    """Render a DataFrame as ``csv``, ``markdown`` or ``json`` text (lists joined by '; ').

    Exports are safe to open: in CSV, text a spreadsheet would run as a formula (a leading
    ``=``, ``+``, ``-``, ``@``) gets a ``'`` in front (:func:`~lbpevidence.safety.spreadsheet_safe`);
    in markdown, raw HTML is escaped (:func:`~lbpevidence.safety.markdown_safe`).
    """
    import pandas as pd

    from .safety import markdown_safe, spreadsheet_safe

    flat = frame.copy()
    for column in flat.columns:
        if flat[column].map(lambda v: isinstance(v, list | tuple)).any():
            flat[column] = flat[column].map(lambda v: "; ".join(map(str, v)) if isinstance(v, list | tuple) else v)
    if fmt == "csv":
        for column in flat.columns:
            if not (pd.api.types.is_numeric_dtype(flat[column]) or pd.api.types.is_bool_dtype(flat[column])):
                flat[column] = flat[column].map(spreadsheet_safe)
        return flat.to_csv(index=False)
    if fmt == "json":
        return flat.to_json(orient="records", force_ascii=False, indent=1)
    cells = flat.astype(object).where(pd.notna(flat), "").astype(str)
    cells = cells.map(lambda s: markdown_safe(s).replace("|", "\\|").replace("\n", " "))
    header = "| " + " | ".join(map(str, flat.columns)) + " |"
    rule = "|" + "|".join("---" for _ in flat.columns) + "|"
    body = ["| " + " | ".join(row) + " |" for row in cells.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"


def output_width(requested: int | None = None) -> int:
    """Characters per line for text output: ``--width``, else the terminal's width, else :data:`DEFAULT_WIDTH`."""
    if requested:
        return requested
    try:
        on_terminal = sys.stdout.isatty()
    except (AttributeError, ValueError):
        on_terminal = False
    if on_terminal:
        return max(_MIN_WIDTH, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)
    return DEFAULT_WIDTH


def _text(value) -> str:
    """A cell as plain text: lists joined by '; ', missing values empty, floats rounded to 2 decimals."""
    import math
    import numbers

    from .safety import terminal_safe

    if isinstance(value, list | tuple):
        return "; ".join(_text(v) for v in value)
    if value is None or value is getattr(__import__("pandas"), "NA", None):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isnan(number):
            return ""
        return str(int(number)) if number.is_integer() else f"{number:.2f}".rstrip("0")
    return terminal_safe(" ".join(str(value).split()))


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=True) or [""]


def fit_table(frame, width: int = DEFAULT_WIDTH, keep: Sequence[str] | None = None,
              whole: Sequence[str] = ()) -> str:
    """``frame`` as a plain-text table no wider than ``width`` characters, headings in words.

    Columns are two spaces apart; a cell longer than its column wraps onto more lines (rows
    are then separated by a blank line). Columns are taken in the order of ``keep`` (their
    importance; default: the frame's order) while each still gets a comfortable width (its
    widest cell, up to 18 characters, and never less than its longest word up to 18); the
    others are left out and a closing line names them. Columns in ``whole`` (citation keys)
    are never wrapped. Spare width then goes to the columns that wrap, the most important
    first. Headings come from
    :func:`lbpevidence.vocabulary.column_label`.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"modality": ["Spinal manipulation / chiropractic"],
    ...                       "verdict": ["no important difference"], "effect_ci_0_100": ["−3.0 (−6.9 to 0.9)"]})
    >>> print(fit_table(frame, 60))
    Treatment            Verdict              Effect, 0–100 (95%
                                              CI)
    -------------------  -------------------  ------------------
    Spinal manipulation  no important         −3.0 (−6.9 to 0.9)
    / chiropractic       difference
    <BLANKLINE>
    >>> print(fit_table(frame, 44, keep=["modality", "verdict"]))
    Treatment              Verdict
    ---------------------  ---------------------
    Spinal manipulation /  no important
    chiropractic           difference
    (1 column left out to fit 44 characters:
    Effect, 0–100 (95% CI); --format markdown
    shows every column)
    <BLANKLINE>
    """
    from .vocabulary import column_label

    columns = [str(c) for c in frame.columns]
    order = [c for c in (keep or columns) if c in columns] + [c for c in columns if c not in (keep or columns)]
    cells = {c: [_text(v) for v in frame[c].tolist()] for c in columns}
    labels = {c: column_label(c) for c in columns}

    def natural(c: str) -> int:
        return max([len(labels[c]), *map(len, cells[c])])

    def comfortable(c: str) -> int:
        if c in whole:
            return natural(c)
        words = [w for text in [labels[c], *cells[c]] for w in text.split()]
        longest = min(_COMFORTABLE, max(map(len, words), default=1))
        return min(natural(c), max(longest, _COMFORTABLE))

    shown: list[str] = []
    for c in order:
        if not shown or sum(comfortable(k) for k in [*shown, c]) + 2 * len(shown) <= width:
            shown.append(c)
    dropped = [c for c in order if c not in shown]
    widths = {c: comfortable(c) for c in shown}
    if len(shown) == 1:
        widths[shown[0]] = min(natural(shown[0]), width)
    spare = width - sum(widths.values()) - 2 * (len(shown) - 1)
    while spare > 0:
        wanting = [c for c in shown if natural(c) > widths[c]]
        if not wanting:
            break
        for c in wanting:
            if spare <= 0:
                break
            widths[c] += 1
            spare -= 1
    shown = [c for c in columns if c in shown]  # the frame's order on the page

    def line(parts: list[list[str]], i: int) -> str:
        return "  ".join((p[i] if i < len(p) else "").ljust(widths[c]) for c, p in zip(shown, parts,
                                                                                        strict=True)).rstrip()

    def block(texts: list[str]) -> list[str]:
        parts = [_wrap(t, widths[c]) for c, t in zip(shown, texts, strict=True)]
        return [line(parts, i) for i in range(max(map(len, parts)))]

    out = block([labels[c] for c in shown])
    out.append("  ".join("-" * widths[c] for c in shown))
    rows = [block([cells[c][i] for c in shown]) for i in range(len(frame))]
    spaced = any(len(r) > 1 for r in rows)
    for number, row in enumerate(rows):
        if spaced and number:
            out.append("")
        out.extend(row)
    if dropped:
        names = ", ".join(labels[c] for c in dropped)
        out.append(_paragraph(f"({len(dropped)} column{'' if len(dropped) == 1 else 's'} left out to fit {width} "
                              f"characters: {names}; --format markdown shows every column)", width).rstrip("\n"))
    return "\n".join(out) + "\n"


def _paragraph(text: str, width: int, indent: str = "") -> str:
    return textwrap.fill(" ".join(text.split()), width, subsequent_indent=indent, break_on_hyphens=False) + "\n"


def _problems(reader: str, path: Path, depends_on: list[Path], **kwargs) -> list:
    """Problems of one file, from the problems-only cache when its inputs are unchanged.

    ``reader`` is ``"module:function"``, imported only on a cache miss: a hit needs
    neither pandas nor the parser, which keeps ``lbpevidence validate`` fast.
    """
    from .cache import cached_problems
    from .errors import Problem
    from .textio import not_regular

    kind = not_regular(path)
    if kind is not None and kind != "no such file":  # a FIFO would block the reader: not opened at all
        return [Problem(str(path), 0, "", "", kind, "a regular file (a .bib or .csv file on disk)")]

    def compute() -> list[Problem]:
        module, function = reader.split(":")
        read = getattr(__import__(f"lbpevidence.{module}", fromlist=[function]), function)
        frame = read(path, strict=False, **kwargs)[1]
        columns = ("file", "line", "key", "field", "found", "expected", "severity")
        return [Problem(**{c: row[c] for c in columns}) for row in frame.to_dict("records")]

    label = f"{reader}:{sorted(kwargs.items())}"
    return cached_problems(label, depends_on, compute)


def _collect_problems(path: str | None, schema: str | None):
    """Validate a refs/ folder or one file; return (list of Problems, files checked)."""
    from .paths import bundled_refs

    def references(target: Path, file_schema: str) -> list:
        return _problems("references:read_references", target, [target], schema=file_schema)

    def outcomes(target: Path, studies: Path) -> list:
        return _problems("outcomes:read_outcomes", target, [target, studies])

    target = Path(path) if path else bundled_refs()
    problems, files = [], []
    if target.is_dir():
        studies_path = target / "studies.bib"
        problems += references(studies_path, schema or "studies")
        problems += _stale_temporaries(studies_path)
        files.append(studies_path)
        if (target / "outcomes.csv").exists():
            problems += outcomes(target / "outcomes.csv", studies_path)
            files.append(target / "outcomes.csv")
        if (target / "article.bib").exists():
            problems += references(target / "article.bib", "printed")
            files.append(target / "article.bib")
        for name, reader in _EXTRA_TABLES:
            if (target / name).exists():
                depends = [target / name, target / "article.bib"] if name == "claims.csv" else [target / name]
                problems += _problems(reader, target / name, depends)
                files.append(target / name)
    elif target.suffix.lower() == ".csv" and target.name != "claims.csv":
        problems += outcomes(target, target.parent / "studies.bib")
        files.append(target)
    elif target.suffix.lower() == ".csv":
        problems += _problems("claims:read_claims", target, [target, target.parent / "article.bib"])
        files.append(target)
    else:
        default = "printed" if target.name == "article.bib" else "studies"
        problems += references(target, schema or default)
        problems += _stale_temporaries(target)
        files.append(target)
    return problems, files


def _stale_temporaries(path: Path) -> list:
    """Warnings for the temporary files an interrupted append left beside ``path`` (the next append removes them)."""
    from .errors import Problem
    from .refsio import stale_temporary_files

    expected = (f"no such file: {path.name} itself is whole (appends are atomic); the next `lbpevidence add` "
                "removes it, or delete it")
    return [Problem(str(leftover), 0, "", "", "a temporary file left by an interrupted write", expected, "warning")
            for leftover in stale_temporary_files(path)]


# Tables read by later modules: (file name, "module:reader"); imported only on a cache miss.
_EXTRA_TABLES = (("claims.csv", "claims:read_claims"), ("overrides.csv", "overrides:read_overrides"))


_REFS_FILES = ("studies.bib", "outcomes.csv", "article.bib", "claims.csv", "overrides.csv")


def _refuse_unreadable(folder: Path | None) -> bool:
    """Print a problem for each file of a refs/ folder that is not a regular file (a FIFO would hang the
    readers); True when there is one. Commands that load the whole review call it first."""
    from .errors import Problem
    from .paths import bundled_refs
    from .textio import not_regular

    folder = folder or bundled_refs()
    if not folder.is_dir():
        return False
    found = [(folder / name, kind) for name in _REFS_FILES
             if os.path.lexists(folder / name) and (kind := not_regular(folder / name)) not in (None, "no such file")]
    for path, kind in found:
        print(Problem(str(path), 0, "", "", kind, "a regular file (a .bib or .csv file on disk)"), file=sys.stderr)
    return bool(found)


def _cmd_validate(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    problems, files = _collect_problems(args.path, args.schema)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if args.format == "json":
        print(json.dumps([{**asdict(p), "message": str(p)} for p in problems], ensure_ascii=False, indent=1))
    else:
        for problem in problems:
            print(problem if problem.severity == "error" else f"warning: {problem}")
    names = ", ".join(str(f) for f in files)
    print(f"{errors} error(s), {warnings} warning(s) in {names}", file=sys.stderr)
    return EXIT_PROBLEMS if errors else EXIT_OK


def _cmd_table(args: argparse.Namespace) -> int:
    from .errors import ReferenceTableError
    from .references import read_references

    try:
        refs = read_references(args.path, schema=args.schema or "studies")
    except ReferenceTableError as exc:
        print(exc, file=sys.stderr)
        return EXIT_PROBLEMS
    columns = args.columns.split(",") if args.columns else [
        "key", "first_author", "year", "title", "journal", "modality", "design", "population", "participants",
        "comparator", "finding", "doi", "pmid", "unverified"]
    unknown = [c for c in columns if c not in refs.columns]
    if unknown:
        print(f"The value for `--columns` must name columns of {sorted(refs.columns)}, but {unknown} was passed.",
              file=sys.stderr)
        return EXIT_USAGE
    if args.format == "text":
        from .tables import readable

        keep = ["key", "first_author", "year", "title", "modality", "design", "finding", "journal", "population",
                "participants", "comparator", "doi", "pmid", "unverified"]
        sys.stdout.write(fit_table(readable(refs[columns]), output_width(args.width), keep=keep, whole=["key"]))
    else:
        sys.stdout.write(format_table(refs[columns], args.format))
    return EXIT_OK


_EVIDENCE_OPTIONS = ("modality", "design", "population", "participants", "comparator", "finding", "source",
                     "location", "verified")
_DUPLICATE_REASONS = {"doi": "same DOI", "pmid": "same PMID", "title-author-year": "same title, first author and year"}


def _cmd_add(args: argparse.Namespace) -> int:
    """Import FILE, refuse duplicates unless --force, validate, append atomically.

    studies.bib is locked from the moment it is read until the append is written, so the
    duplicate check sees every entry another ``lbpevidence add`` appended meanwhile.
    """
    from .importers import check_source_template
    from .paths import resolve_refs_file
    from .refsio import lock
    from .textio import not_regular

    refs_path = resolve_refs_file(args.refs, "studies.bib")
    kind = not_regular(refs_path)
    if kind == "no such file":
        print(f"lbpevidence add: --refs {refs_path}: no such .bib file (create an empty one to start a new table)",
              file=sys.stderr)
        return EXIT_USAGE
    if kind == "a directory":
        print(f"lbpevidence add: --refs {refs_path}: found a folder without studies.bib, expected a .bib file or a "
              "folder holding studies.bib (create an empty studies.bib there to start a new table)", file=sys.stderr)
        return EXIT_USAGE
    if kind is not None:
        print(f"lbpevidence add: --refs {refs_path}: found {kind}, expected a regular .bib file", file=sys.stderr)
        return EXIT_USAGE
    if not Path(args.file).exists():
        print(f"lbpevidence add: {args.file}: no such file", file=sys.stderr)
        return EXIT_USAGE
    try:
        for url in (args.source or "").split():
            check_source_template(url)
    except ValueError:
        print(f"lbpevidence add: --source {args.source!r}: a URL may hold only the placeholders {{pmid}}, {{doi}} "
              "and {key} in braces (https://pubmed.ncbi.nlm.nih.gov/{pmid}/), filled per record", file=sys.stderr)
        return EXIT_USAGE
    with lock(refs_path):
        return _add_locked(args, refs_path)


def _add_locked(args: argparse.Namespace, refs_path: Path) -> int:
    from .errors import ReferenceTableError
    from .importers import FORMATS, apply_evidence, find_duplicates, import_records
    from .references import read_references
    from .refsio import append_entries

    existing, _ = read_references(refs_path, strict=False)  # its problems are reported by the append
    try:
        records, problems = import_records(args.file, args.format, existing=existing, strict=False)
    except ValueError:  # the format cannot be told
        print(f"lbpevidence add: {args.file}: cannot tell the format from the extension or the content; pass "
              f"--format ({', '.join(FORMATS)})", file=sys.stderr)
        return EXIT_USAGE
    for message, severity in zip(problems["message"], problems["severity"], strict=True):
        print(message if severity == "error" else f"warning: {message}")
    if (problems["severity"] == "error").any():
        print(f"{args.file}: cannot import; nothing was written", file=sys.stderr)
        return EXIT_PROBLEMS

    duplicates = find_duplicates(records, existing)
    refused = 0
    for row in duplicates[duplicates["status"] != "new"].itertuples(index=False):
        if row.match_in == "existing":
            other = f"existing entry {row.match_key} ({refs_path}:{row.match_line})"
        else:
            other = f"{row.match_key} (line {row.match_line} of this import)"
        reason = _DUPLICATE_REASONS.get(row.rule, f"title {row.score:.0f}% similar")
        kind = "duplicate" if row.status == "duplicate" else "possible duplicate"
        outcome = "added anyway (--force)" if args.force else "not added"
        print(f"{args.file}:{row.source_line} {row.key}: {kind} of {other}: {reason}; {outcome}")
        refused += not args.force
    keep = duplicates["status"].eq("new").to_numpy() | args.force
    records = records[keep]
    if not len(records):
        print(f"nothing to add: {refused} duplicate(s) refused (--force adds them)", file=sys.stderr)
        return EXIT_PROBLEMS

    evidence = {name: getattr(args, name) for name in _EVIDENCE_OPTIONS if getattr(args, name) is not None}
    records = apply_evidence(records, **evidence)
    try:
        result = append_entries(refs_path, records, backup=args.backup, dry_run=args.dry_run)
    except ReferenceTableError as exc:
        ours, theirs = _locate_in_import(exc.problems, records, args.file, evidence)
        for problem in ours + theirs:
            print(problem)
        if theirs and not ours and all(not p.line for p in theirs):  # the write itself failed
            print(str(exc).splitlines()[0], file=sys.stderr)
        else:
            note = (f"; {len(theirs)} of them already in {refs_path} (fix those first: lbpevidence validate)"
                    if theirs and ours else "")
            print(f"{len(exc.problems)} problem(s){note}; nothing was written to {refs_path}", file=sys.stderr)
        return EXIT_PROBLEMS
    for problem in result.warnings:
        print(f"warning: {problem}")
    verb = "added" if result.written else "would add"
    if not result.written:  # a dry run shows what it would write, entry by entry
        from .refsio import format_entry

        for key, record in zip(result.keys, records.to_dict("records"), strict=True):
            print(f"{verb} {key}\n\n{format_entry({**record, 'key': key})}")
    else:
        for key in result.keys:
            print(f"{verb} {key}")
    summary = f"{verb} {len(result.keys)} entr{'y' if len(result.keys) == 1 else 'ies'} to {refs_path}"
    if result.backup:
        summary += f" (previous version kept as {result.backup})"
    if refused:
        summary += f"; refused {refused} duplicate(s) (--force adds them)"
    print(summary + ("" if result.written else " (dry run: nothing was written)"), file=sys.stderr)
    return EXIT_PROBLEMS if refused else EXIT_OK


def _locate_in_import(problems, records, file: str, evidence: dict) -> tuple[list, list]:
    """Problems of the new entries, moved to the line of the import FILE they come from (and the option
    that set an evidence field); the other problems (already in studies.bib) as they are."""
    import dataclasses

    lines = {str(k): (int(v) if v == v and v is not None else 0)
             for k, v in zip(records["key"], records["source_line"], strict=True)}
    ours, theirs = [], []
    for problem in problems:
        if problem.key in lines:
            field = f"{problem.field} (--{problem.field})" if problem.field in evidence else problem.field
            ours.append(dataclasses.replace(problem, file=file, line=lines[problem.key], field=field))
        else:
            theirs.append(problem)
    return ours, theirs


def _audit_claims(folder: Path):
    """The article's claims against the evidence verdicts, or None while lbpevidence.grading is missing."""
    try:
        from . import grading  # noqa: F401  (the claims need its verdicts)
        from .review import load_review
    except ImportError:
        return None
    if not all((folder / name).is_file() for name in ("studies.bib", "outcomes.csv", "claims.csv")):
        return None
    return load_review(folder).claims


def _cmd_audit(args: argparse.Namespace) -> int:
    """Audit the printed citations (and the claims, when grading exists); exit 0 whatever the verdicts."""
    import pandas as pd

    from .citations import audit_citations
    from .errors import ReferenceTableError
    from .paths import bundled_refs
    from .references import read_references

    target = Path(args.path) if args.path else bundled_refs()
    folder = target if target.is_dir() else target.parent
    printed = folder / "article.bib" if target.is_dir() else target
    if _refuse_unreadable(folder):
        return EXIT_PROBLEMS
    studies = folder / "studies.bib" if (folder / "studies.bib").is_file() else bundled_refs() / "studies.bib"
    try:  # ClaimsTableError and OutcomeTableError are ReferenceTableErrors
        result = audit_citations(read_references(printed, schema="printed"), read_references(studies))
        claims = _audit_claims(folder)
    except ReferenceTableError as exc:
        print(exc, file=sys.stderr)
        return EXIT_PROBLEMS
    citations, wrong = result.citations, result.wrong_field_table()
    claim_columns = ["claim_id", "modality", "outcome", "claimed_strength", "verdict", "evidence_verdict",
                     "certainty", "basis", "reason"]
    if args.format == "json":
        payload = {"citations": json.loads(citations.to_json(orient="records", force_ascii=False)),
                   "wrong_fields": json.loads(wrong.to_json(orient="records", force_ascii=False))}
        if claims is not None:
            payload["claims"] = json.loads(claims.to_json(orient="records", force_ascii=False))
        print(json.dumps(payload, ensure_ascii=False, indent=1))
    elif args.format == "csv":
        sys.stdout.write(format_table(citations, "csv"))
        if claims is not None:
            sys.stdout.write("\n" + format_table(claims, "csv"))
    elif args.format == "text":
        width = output_width(args.width)
        shown = citations.assign(score=citations["score"].round(2))
        columns = ["printed_number", "key", "verdict", "best_match", "score", "wrong_fields", "resembles"]
        sys.stdout.write("The article's printed citations, against the verified records\n\n")
        sys.stdout.write(fit_table(shown[columns], width, keep=["printed_number", "verdict", "best_match",
                                                                 "wrong_fields", "key", "score", "resembles"],
                                   whole=["key", "best_match"]))
        sys.stdout.write("\n")
        for number, text in zip(citations["printed_number"], citations["explanation"], strict=True):
            sys.stdout.write(_paragraph(f"[{number}] {text}", width, indent="    "))
        if len(wrong):
            sys.stdout.write("\nWrong fields: as printed, and as in the record\n\n")
            sys.stdout.write(fit_table(wrong, width, whole=["key"]))
        if claims is not None and len(claims):
            table = claims[[c for c in claim_columns if c in claims.columns]]
            sys.stdout.write("\nThe article's claims, against the evidence\n\n")
            sys.stdout.write(fit_table(table, width, keep=["claim_id", "modality", "verdict", "outcome", "reason",
                                                            "evidence_verdict", "certainty", "claimed_strength",
                                                            "basis"]))
    else:
        shown = citations.assign(score=citations["score"].round(2))
        columns = ["printed_number", "key", "verdict", "best_match", "score", "wrong_fields", "resembles"]
        sys.stdout.write("## Citations\n\n" + format_table(shown[columns], "markdown") + "\n")
        from .safety import markdown_safe

        explained = zip(citations["printed_number"], citations["explanation"], strict=True)
        # the explanations quote printed author names as given: raw HTML is escaped like any markdown cell
        sys.stdout.write("".join(f"- [{n}] {markdown_safe(str(text))}\n" for n, text in explained))
        if len(wrong):
            sys.stdout.write("\n## Wrong fields\n\n" + format_table(wrong, "markdown"))
        if claims is not None and len(claims):
            table = claims[[c for c in claim_columns if c in claims.columns]]
            sys.stdout.write("\n## Claims\n\n" + format_table(table.astype(object).where(pd.notna(table), ""),
                                                               "markdown"))
    return EXIT_OK


# git runs with options that keep a repository's own configuration from running programs on our behalf.
_GIT = ("git", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null")


def _base_folder(base: str, refs: Path, scratch: Path) -> Path:
    """A refs/ folder for ``--base``: an existing folder, or the same files at a git revision.

    A revision is checked before git sees it: one that starts with '-' is refused (git
    would read it as an option: ``--output=FILE`` writes a file), and the rest must name
    a commit (``git rev-parse --verify --end-of-options REV^{commit}``). The files are
    then read from that commit's id, never from the text given.
    """
    import subprocess

    if Path(base).is_dir():
        return Path(base)
    if not base or base.startswith("-") or any(ch.isspace() or not ch.isprintable() for ch in base):
        raise ValueError(f"The value for `--base` must be a folder or a git revision (a branch, tag or commit; "
                         f"not starting with '-'), but {base!r} was passed.")
    instead = (f"; to compare without git, pass the refs/ folder of the older version as --base "
               f"(lbpevidence diff --base OLD/refs --refs {refs}), or run lbpevidence diff inside a git clone of the "
               "repository")
    try:
        top = subprocess.run([*_GIT, "-C", str(refs), "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, stdin=subprocess.DEVNULL)
    except FileNotFoundError:  # no git program at all
        raise ValueError(f"The value for `--base` must be a folder or a git revision, but {base!r} was passed and "
                         f"git is not installed{instead}.") from None
    if top.returncode != 0:
        raise ValueError(f"The value for `--base` must be a folder or a git revision, but {base!r} was passed "
                         f"and {refs} is not inside a git repository{instead}.")
    root = top.stdout.strip()
    commit = subprocess.run([*_GIT, "-C", root, "rev-parse", "--verify", "--quiet", "--end-of-options",
                             f"{base}^{{commit}}"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    sha = commit.stdout.strip()
    if commit.returncode != 0 or not re.fullmatch(r"[0-9a-f]{40,64}", sha):
        raise ValueError(f"The value for `--base` must be a folder or a git revision of {root}, but {base!r} was "
                         "passed and git knows no such commit.")
    inside = refs.resolve().relative_to(Path(root).resolve()).as_posix()
    found = False
    for name in ("studies.bib", "outcomes.csv", "article.bib", "claims.csv", "overrides.csv"):
        with open(scratch / name, "wb") as out:  # streamed to disk: a huge blob is not held in memory
            shown = subprocess.run([*_GIT, "-C", root, "show", "--no-textconv", "--end-of-options",
                                    f"{sha}:{inside}/{name}"], stdout=out, stderr=subprocess.DEVNULL,
                                   stdin=subprocess.DEVNULL)
        if shown.returncode == 0:
            found = True
        else:
            (scratch / name).unlink()
    if not found:
        raise ValueError(f"The value for `--base` must be a folder or a git revision holding {inside}/, "
                         f"but {base!r} was passed.")
    (scratch / ".commit").write_text(sha, encoding="ascii")  # named in the diff's heading
    return scratch


_COMPARED = ("every answer (treatment x outcome x population x comparison: its evidence, estimate, 95% CI, number "
             "of studies, certainty and verdict), the studies of studies.bib and the rows of outcomes.csv")


def _cmd_diff(args: argparse.Namespace) -> int:
    import tempfile

    from .errors import LbpEvidenceError
    from .paths import bundled_refs
    from .review import compare_reviews, diff_markdown, load_review
    from .safety import markdown_safe

    refs = Path(args.refs) if args.refs else bundled_refs()
    if _refuse_unreadable(refs) or (Path(args.base).is_dir() and _refuse_unreadable(Path(args.base))):
        return EXIT_PROBLEMS
    with tempfile.TemporaryDirectory(prefix="lbpevidence-base-") as scratch:
        try:
            base = _base_folder(args.base, refs, Path(scratch))
            commit = (Path(scratch) / ".commit").read_text()[:10] if base != Path(args.base) else ""
            described = (f"{args.base} (commit {commit}) of {refs.resolve()}" if commit
                         else f"the folder {base.resolve()}")
            changes = compare_reviews(load_review(base), load_review(refs))
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return EXIT_PROBLEMS if isinstance(exc, LbpEvidenceError) else EXIT_USAGE
    current = f"the refs/ folder {refs.resolve()} as it is now"
    if args.format == "json":
        payload = {name: json.loads(table.to_json(orient="records", force_ascii=False))
                   for name, table in changes.items()}
        payload["compared"] = {"base": described, "current": current, "what": _COMPARED}
        print(json.dumps(payload, indent=1, ensure_ascii=False))
    else:
        text = diff_markdown(changes)
        heading, _, rest = text.partition("\n")
        said = (f"Base: {markdown_safe(described)}.  \nCompared with: {markdown_safe(current)}.  \n"
                f"What was compared: {_COMPARED}.")
        sys.stdout.write(f"{heading}\n\n{said}\n{rest}")
    return EXIT_OK


def _cmd_summary(args: argparse.Namespace) -> int:
    """The headline table: per modality and outcome, the verdict, the certainty and the effect on 0-100."""
    from .errors import LbpEvidenceError
    from .review import load_review
    from .tables import headline_table

    target = Path(args.path) if args.path else None
    if _refuse_unreadable(target if target is None or target.is_dir() else target.parent):
        return EXIT_PROBLEMS
    try:
        review = load_review(args.path)
    except LbpEvidenceError as exc:
        print(exc, file=sys.stderr)
        return EXIT_PROBLEMS
    if args.format == "text":
        width = output_width(args.width)
        sys.stdout.write(_paragraph(
            "What the best evidence says, per treatment and outcome: the verdict, how sure (and who rated it), and "
            "the effect on a 0–100 scale with its 95% CI (negative = less pain or disability than the comparison; "
            "minimal important difference 15 for pain, 10 for disability).", width) + "\n")
        keep = ["modality", "verdict", "effect_ci_0_100", "certainty_rated_by", "comparison", "population",
                "studies", "participants", "window", "basis"]
        table = headline_table(review, words=True)
        for number, outcome in enumerate(table["outcome"].unique()):
            rows = table[table["outcome"] == outcome].drop(columns="outcome")
            sys.stdout.write(("\n" if number else "") + _paragraph(_OUTCOME_HEADINGS.get(outcome, outcome), width)
                             + "\n")
            sys.stdout.write(fit_table(rows, width, keep=keep))
    else:
        sys.stdout.write(format_table(headline_table(review), args.format))
    return EXIT_OK


_OUTCOME_HEADINGS = {"pain": "Pain (effect on 0–100: negative = less pain)",
                     "disability": "Back-related disability (effect on 0–100: negative = less disability)"}


def _cmd_report(args: argparse.Namespace) -> int:
    """Execute the notebooks and write the HTML report to --output; print the index page's path."""
    from .errors import LbpEvidenceError

    output = Path(args.output)
    if output.exists() and not output.is_dir():
        print(f"lbpevidence report: -o {output}: found an existing file, expected a folder to write the report in "
              "(a new or an existing one)", file=sys.stderr)
        return EXIT_USAGE
    if _refuse_unreadable(Path(args.refs) if args.refs else None):
        return EXIT_PROBLEMS
    try:
        from .report import build_report

        index = build_report(args.output, refs=args.refs)
    except LbpEvidenceError as exc:
        print(exc, file=sys.stderr)
        return EXIT_PROBLEMS
    except OSError as exc:  # a read-only folder, a full disk: say what could not be written
        print(f"lbpevidence report: cannot write the report in {output}: {exc.strerror or exc}"
              f"{f' ({exc.filename})' if exc.filename else ''}", file=sys.stderr)
        return EXIT_PROBLEMS
    except ImportError as exc:
        print(f"lbpevidence report needs nbclient and nbconvert (pip install 'lbpevidence[report]'): {exc}",
              file=sys.stderr)
        return EXIT_PROBLEMS
    except Exception as exc:  # a notebook cell failed: nbclient's CellExecutionError names the cell
        if type(exc).__name__ != "CellExecutionError":
            raise
        print(f"lbpevidence report: a notebook failed:\n{exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(index)
    return EXIT_OK


_EXAMPLES = {
    None: """examples:
  lbpevidence summary                 what the evidence says, per treatment and outcome
  lbpevidence report -o report        the HTML report: open report/index.html in a browser
  lbpevidence validate refs/          check a copy of the reference table
  lbpevidence COMMAND --help          the options of one command, with examples""",
    "validate": """examples:
  lbpevidence validate                       the bundled reference table
  lbpevidence validate refs/studies.bib      one file
  lbpevidence validate refs/ --format json   the problems as JSON""",
    "table": """examples:
  lbpevidence table                                 fitted to the terminal (100 characters in a pipe)
  lbpevidence table --columns key,year,title        chosen columns
  lbpevidence table --format csv > studies.csv      every column, for a spreadsheet""",
    "add": """examples:
  lbpevidence add pubmed.nbib --modality yoga --design rct --dry-run    show the entries, write nothing
  lbpevidence add export.ris --refs refs/ --backup                      append, keep studies.bib.bak""",
    "audit": """examples:
  lbpevidence audit                          fitted to the terminal
  lbpevidence audit --format markdown > audit.md""",
    "diff": """examples:
  lbpevidence diff                           the working copy of refs/ against the last commit (HEAD)
  lbpevidence diff --base main               against the branch main
  lbpevidence diff --base old/refs --refs refs   two folders, no git needed""",
    "summary": """examples:
  lbpevidence summary                        fitted to the terminal (100 characters in a pipe)
  lbpevidence summary --width 80
  lbpevidence summary --format csv > headline.csv""",
    "report": """examples:
  lbpevidence report -o report               then open report/index.html in a browser
  lbpevidence report -o out --refs my-refs/  the report of a copy of the table""",
}


def _command(sub, name: str, help: str, description: str):
    return sub.add_parser(name, help=help, description=description, epilog=_EXAMPLES[name],
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def _printing_command(sub, name: str, help: str, description: str, path_help: str, func,
                      options: dict[str, dict] | None = None) -> argparse.ArgumentParser:
    """A command that prints a table: PATH, --format text|markdown|csv|json, its own ``options``, --width."""
    command = _command(sub, name, help, description)
    command.add_argument("path", nargs="?", help=path_help)
    command.add_argument("--format", choices=["text", "markdown", "csv", "json"], default="text")
    for flag, settings in (options or {}).items():
        command.add_argument(flag, **settings)
    _width_option(command)
    command.set_defaults(func=func)
    return command


def _width_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--width", type=_positive_width, metavar="N",
                        help=f"characters per line of the text format (default: the terminal's width, or "
                             f"{DEFAULT_WIDTH} when the output is not a terminal)")


def _positive_width(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < _MIN_WIDTH:
        raise argparse.ArgumentTypeError(f"must be a whole number of characters, at least {_MIN_WIDTH}, but {text!r} "
                                         "was passed")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and documentation)."""
    from . import __version__

    parser = argparse.ArgumentParser(prog="lbpevidence", description=__doc__.splitlines()[0], epilog=_EXAMPLES[None],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"lbpevidence {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = _command(sub, "validate", "check a refs/ folder or one file; exit 1 on errors",
                        "Check a refs/ folder (or one .bib or .csv file) against the rules of the reference table. "
                        "Exit 0 when clean, 1 with problems (one per line: file:line key field: found, expected).")
    validate.add_argument("path", nargs="?", help="refs/ folder, .bib or .csv (default: the bundled refs/)")
    validate.add_argument("--format", choices=["text", "json"], default="text")
    validate.add_argument("--schema", choices=["studies", "printed", "bibliography"],
                          help="rules for a .bib file (default: studies; article.bib: printed)")
    validate.set_defaults(func=_cmd_validate)

    _printing_command(sub, "table", "print the reference table",
                      "Print the reference table (studies.bib), one row per publication. The text format fits the "
                      "terminal; markdown, csv and json keep every column at full width, for files.",
                      "studies.bib or refs/ folder (default: the bundled refs/)", _cmd_table,
                      {"--columns": {"help": "comma-separated columns (default: a readable selection)"},
                       "--schema": {"choices": ["studies", "printed", "bibliography"]}})

    add = _command(sub, "add", "import records from a .bib/.ris/.nbib export into studies.bib",
                   "Import records from a PubMed (.nbib), RIS or BibTeX export, refuse duplicates (unless --force), "
                   "check them with the table's rules and append them to studies.bib, all or nothing. With "
                   "--dry-run, show the entries that would be written and write nothing.")
    add.add_argument("file", help="the export: BibTeX .bib, RIS .ris, PubMed .nbib (or MEDLINE .txt)")
    add.add_argument("--refs", help="studies.bib or refs/ folder to append to (default: the bundled refs/)")
    add.add_argument("--format", choices=["bibtex", "ris", "medline"], help="format of FILE (default: detected)")
    add.add_argument("--modality", help="modality term(s) for every record, ';'-separated")
    add.add_argument("--design", help="design term (rct, systematic-review, ...)")
    add.add_argument("--population", help="population term (acute, chronic, mixed, ...)")
    add.add_argument("--participants", help="number of participants")
    add.add_argument("--comparator", help="comparator term(s), ';'-separated")
    add.add_argument("--finding", help="finding term (benefit, small-benefit, no-difference, ...)")
    add.add_argument("--source", metavar="URL",
                     help="URL(s) of the page(s) read, space-separated; {pmid}, {doi}, {key} are filled per record")
    add.add_argument("--location", metavar="TEXT", help="where on the source the facts were seen")
    add.add_argument("--verified", metavar="DATE", help="date checked against the source, YYYY-MM-DD")
    add.add_argument("--force", action="store_true", help="add duplicates and possible duplicates too")
    add.add_argument("--backup", action="store_true", help="keep the previous studies.bib as studies.bib.bak")
    add.add_argument("--dry-run", action="store_true", help="show the entries that would be written; write nothing")
    add.set_defaults(func=_cmd_add)

    _printing_command(sub, "audit", "audit the article's printed citations (and its claims); exit 0 unless the input "
                                    "is invalid",
                      "Compare the article's printed citations with the verified records, field by field, and its "
                      "claims with the evidence. Exit 0 whatever the verdicts; 1 only on invalid input.",
                      "article.bib or refs/ folder (default: the bundled refs/)", _cmd_audit)

    diff = _command(sub, "diff", "how pooled estimates, certainty and verdicts moved since a base version",
                    "Compare the review of a refs/ folder with the review of a base version: every answer "
                    "(treatment x outcome x population x comparison) whose estimate, certainty or verdict moved, and "
                    "the studies and outcome rows that changed. The base is a git revision of the same refs/ "
                    "folder (needs git and a clone) or another refs/ folder.")
    diff.add_argument("--base", default="HEAD", help="a git revision (default HEAD) or a refs/ folder to compare with")
    diff.add_argument("--refs", help="the refs/ folder to review (default: the bundled refs/)")
    diff.add_argument("--format", choices=["markdown", "json"], default="markdown")
    diff.set_defaults(func=_cmd_diff)

    _printing_command(sub, "summary", "the headline: per treatment and outcome, the verdict and how sure",
                      "Print the headline: per treatment and outcome (pain, disability), what the best evidence "
                      "shows (the verdict), how sure (the certainty, and who rated it) and the effect on a 0-100 "
                      "scale with its 95% CI. The text format fits the terminal; markdown, csv and json keep every "
                      "column at full width, for files.",
                      "refs/ folder (default: the bundled refs/)", _cmd_summary)

    report = _command(sub, "report", "execute the notebooks and write the HTML report (index.html)",
                      "Execute the review's notebooks on a refs/ folder and write the HTML report: index.html (the "
                      "answer: the evidence map and one row per treatment) and one page per notebook. The pages are "
                      "self-contained and open offline in any browser.")
    report.add_argument("-o", "--output", default="report", help="folder to write (default: ./report)")
    report.add_argument("--refs", help="refs/ folder to review (default: the bundled refs/)")
    report.set_defaults(func=_cmd_report)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Everything the command prints, on stdout and stderr, passes through
    :func:`lbpevidence.safety.terminal_safe`: an escape sequence in a key or a title
    (or a byte of a folder name that is not UTF-8) is shown as ``\\x1b``, never sent
    to the terminal.
    """
    from .safety import SafeStream

    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(out), SafeStream(err)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        return args.func(args)
    except BrokenPipeError:  # `lbpevidence table | head`
        return EXIT_OK
    finally:
        sys.stdout, sys.stderr = out, err


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
