"""The ``lbpevidence`` command.

Exit codes: 0 = done (for ``validate``: no errors), 1 = the input has problems,
2 = the command line is wrong. Heavy modules are imported inside each command so
that ``lbpevidence validate`` starts fast and never imports matplotlib or scipy.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["format_table", "main"]

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def format_table(frame, fmt: str) -> str:
    """Render a DataFrame as ``csv``, ``markdown`` or ``json`` text (lists joined by '; ')."""
    import pandas as pd

    flat = frame.copy()
    for column in flat.columns:
        if flat[column].map(lambda v: isinstance(v, list | tuple)).any():
            flat[column] = flat[column].map(lambda v: "; ".join(map(str, v)) if isinstance(v, list | tuple) else v)
    if fmt == "csv":
        return flat.to_csv(index=False)
    if fmt == "json":
        return flat.to_json(orient="records", force_ascii=False, indent=1)
    cells = flat.astype(object).where(pd.notna(flat), "").astype(str)
    cells = cells.map(lambda s: s.replace("|", "\\|").replace("\n", " "))
    header = "| " + " | ".join(map(str, flat.columns)) + " |"
    rule = "|" + "|".join("---" for _ in flat.columns) + "|"
    body = ["| " + " | ".join(row) + " |" for row in cells.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"


def _problems(reader: str, path: Path, depends_on: list[Path], **kwargs) -> list:
    """Problems of one file, from the problems-only cache when its inputs are unchanged.

    ``reader`` is ``"module:function"``, imported only on a cache miss: a hit needs
    neither pandas nor the parser, which keeps ``lbpevidence validate`` fast.
    """
    from .cache import cached_problems
    from .errors import Problem

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
        problems += _problems("audit:read_claims", target, [target, target.parent / "article.bib"])
        files.append(target)
    else:
        default = "printed" if target.name == "article.bib" else "studies"
        problems += references(target, schema or default)
        files.append(target)
    return problems, files


# Tables read by later modules: (file name, "module:reader"); imported only on a cache miss.
_EXTRA_TABLES = (("claims.csv", "audit:read_claims"), ("overrides.csv", "grading:read_overrides"))


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
    sys.stdout.write(format_table(refs[columns], args.format))
    return EXIT_OK


_EVIDENCE_OPTIONS = ("modality", "design", "population", "participants", "comparator", "finding", "source",
                     "location", "verified")
_DUPLICATE_REASONS = {"doi": "same DOI", "pmid": "same PMID", "title-author-year": "same title, first author and year"}


def _cmd_add(args: argparse.Namespace) -> int:
    """Import FILE, refuse duplicates unless --force, validate, append atomically."""
    from .errors import ReferenceTableError
    from .importers import apply_evidence, find_duplicates, import_records
    from .paths import resolve_refs_file
    from .references import read_references
    from .refsio import append_entries

    refs_path = resolve_refs_file(args.refs, "studies.bib")
    if not refs_path.is_file():
        print(f"lbpevidence add: --refs {refs_path}: no such .bib file (create an empty one to start a new table)",
              file=sys.stderr)
        return EXIT_USAGE
    if not Path(args.file).is_file():
        print(f"lbpevidence add: {args.file}: no such file", file=sys.stderr)
        return EXIT_USAGE
    existing, _ = read_references(refs_path, strict=False)  # its problems are reported by the append
    try:
        records, problems = import_records(args.file, args.format, existing=existing, strict=False)
    except ValueError as exc:  # the format cannot be told
        print(f"lbpevidence add: {exc}", file=sys.stderr)
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
        for problem in exc.problems:
            print(problem)
        print(f"{len(exc.problems)} problem(s); nothing was written to {refs_path} (line numbers are those the "
              "file would have had)", file=sys.stderr)
        return EXIT_PROBLEMS
    for problem in result.warnings:
        print(f"warning: {problem}")
    verb = "added" if result.written else "would add"
    for key in result.keys:
        print(f"{verb} {key}")
    summary = f"{verb} {len(result.keys)} entr{'y' if len(result.keys) == 1 else 'ies'} to {refs_path}"
    if result.backup:
        summary += f" (previous version kept as {result.backup})"
    if refused:
        summary += f"; refused {refused} duplicate(s) (--force adds them)"
    print(summary + ("" if result.written else " (dry run: nothing was written)"), file=sys.stderr)
    return EXIT_PROBLEMS if refused else EXIT_OK


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

    from .audit import audit_citations
    from .errors import ReferenceTableError
    from .paths import bundled_refs
    from .references import read_references

    target = Path(args.path) if args.path else bundled_refs()
    folder = target if target.is_dir() else target.parent
    printed = folder / "article.bib" if target.is_dir() else target
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
    else:
        shown = citations.assign(score=citations["score"].round(2))
        columns = ["printed_number", "key", "verdict", "best_match", "score", "wrong_fields", "resembles"]
        sys.stdout.write("## Citations\n\n" + format_table(shown[columns], "markdown") + "\n")
        sys.stdout.write("".join(f"- [{n}] {text}\n" for n, text in zip(citations["printed_number"],
                                                                       citations["explanation"], strict=True)))
        if len(wrong):
            sys.stdout.write("\n## Wrong fields\n\n" + format_table(wrong, "markdown"))
        if claims is not None and len(claims):
            table = claims[[c for c in claim_columns if c in claims.columns]]
            sys.stdout.write("\n## Claims\n\n" + format_table(table.astype(object).where(pd.notna(table), ""),
                                                               "markdown"))
    return EXIT_OK


def _base_folder(base: str, refs: Path, scratch: Path) -> Path:
    """A refs/ folder for ``--base``: an existing folder, or the same files at a git revision."""
    import subprocess

    if Path(base).is_dir():
        return Path(base)
    top = subprocess.run(["git", "-C", str(refs), "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    if top.returncode != 0:
        raise ValueError(f"The value for `--base` must be a folder or a git revision, but {base!r} was passed "
                         f"and {refs} is not inside a git repository.")
    inside = refs.resolve().relative_to(Path(top.stdout.strip()).resolve()).as_posix()
    found = False
    for name in ("studies.bib", "outcomes.csv", "article.bib", "claims.csv", "overrides.csv"):
        shown = subprocess.run(["git", "-C", top.stdout.strip(), "show", f"{base}:{inside}/{name}"],
                               capture_output=True)
        if shown.returncode == 0:
            (scratch / name).write_bytes(shown.stdout)
            found = True
    if not found:
        raise ValueError(f"The value for `--base` must be a folder or a git revision holding {inside}/, "
                         f"but {base!r} was passed.")
    return scratch


def _cmd_diff(args: argparse.Namespace) -> int:
    import tempfile

    from .errors import LbpEvidenceError
    from .paths import bundled_refs
    from .review import compare_reviews, diff_markdown, load_review

    refs = Path(args.refs) if args.refs else bundled_refs()
    with tempfile.TemporaryDirectory(prefix="lbpevidence-base-") as scratch:
        try:
            base = _base_folder(args.base, refs, Path(scratch))
            changes = compare_reviews(load_review(base), load_review(refs))
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return EXIT_PROBLEMS if isinstance(exc, LbpEvidenceError) else EXIT_USAGE
    if args.format == "json":
        print(json.dumps({name: json.loads(table.to_json(orient="records", force_ascii=False))
                          for name, table in changes.items()}, indent=1, ensure_ascii=False))
    else:
        sys.stdout.write(diff_markdown(changes))
    return EXIT_OK


def _cmd_summary(args: argparse.Namespace) -> int:
    """The headline table: per modality and outcome, the verdict, the certainty and the effect on 0-100."""
    from .errors import LbpEvidenceError
    from .report import headline_table
    from .review import load_review

    try:
        review = load_review(args.path)
    except LbpEvidenceError as exc:
        print(exc, file=sys.stderr)
        return EXIT_PROBLEMS
    sys.stdout.write(format_table(headline_table(review), args.format))
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    """Execute the notebooks and write the HTML report to --output; print the index page's path."""
    from .errors import LbpEvidenceError

    try:
        from .report import build_report

        index = build_report(args.output, refs=args.refs)
    except LbpEvidenceError as exc:
        print(exc, file=sys.stderr)
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and documentation)."""
    from . import __version__

    parser = argparse.ArgumentParser(prog="lbpevidence", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"lbpevidence {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = sub.add_parser("validate", help="check a refs/ folder or one file; exit 1 on errors")
    validate.add_argument("path", nargs="?", help="refs/ folder, .bib or .csv (default: the bundled refs/)")
    validate.add_argument("--format", choices=["text", "json"], default="text")
    validate.add_argument("--schema", choices=["studies", "printed", "bibliography"],
                          help="rules for a .bib file (default: studies; article.bib: printed)")
    validate.set_defaults(func=_cmd_validate)

    table = sub.add_parser("table", help="print the reference table")
    table.add_argument("path", nargs="?", help="studies.bib or refs/ folder (default: the bundled refs/)")
    table.add_argument("--format", choices=["markdown", "csv", "json"], default="markdown")
    table.add_argument("--columns", help="comma-separated columns (default: a readable selection)")
    table.add_argument("--schema", choices=["studies", "printed", "bibliography"])
    table.set_defaults(func=_cmd_table)

    add = sub.add_parser("add", help="import records from a .bib/.ris/.nbib export into studies.bib")
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
    add.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    add.set_defaults(func=_cmd_add)

    audit = sub.add_parser("audit", help="audit the article's printed citations (and its claims); exit 0 unless "
                                         "the input is invalid")
    audit.add_argument("path", nargs="?", help="article.bib or refs/ folder (default: the bundled refs/)")
    audit.add_argument("--format", choices=["markdown", "csv", "json"], default="markdown")
    audit.set_defaults(func=_cmd_audit)
    diff = sub.add_parser("diff", help="how pooled estimates, certainty and verdicts moved since a base version")
    diff.add_argument("--base", default="HEAD", help="a git revision (default HEAD) or a refs/ folder to compare with")
    diff.add_argument("--refs", help="the refs/ folder to review (default: the bundled refs/)")
    diff.add_argument("--format", choices=["markdown", "json"], default="markdown")
    diff.set_defaults(func=_cmd_diff)
    summary = sub.add_parser("summary", help="the headline: per modality and outcome, the verdict and how sure")
    summary.add_argument("path", nargs="?", help="refs/ folder (default: the bundled refs/)")
    summary.add_argument("--format", choices=["markdown", "csv", "json"], default="markdown")
    summary.set_defaults(func=_cmd_summary)
    report = sub.add_parser("report", help="execute the notebooks and write the HTML report (index.html)")
    report.add_argument("-o", "--output", default="report", help="folder to write (default: ./report)")
    report.add_argument("--refs", help="refs/ folder to review (default: the bundled refs/)")
    report.set_defaults(func=_cmd_report)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # `lbpevidence table | head`
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
