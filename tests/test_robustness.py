"""Robustness (issue 9): bad input becomes located problems, never a traceback, and nothing is dropped.

1. A catalogue of bad inputs (:data:`CATALOGUE`) across the four files of refs/, each checked for a
   message that names file, line, key and field; refs/README.md lists it ("Bad inputs and their
   messages") and a test keeps that table equal to what the library prints.
2. Property tests that mutate real entries (../shared/bench-bibs, and refs/studies.bib itself):
   only documented problems come out, and the entries around a damaged one survive.
3. outcomes.csv: absurd and non-numeric values are named problems; a row is never dropped.
4. A 50 MB .bib (and one holding a single 48 MB unbalanced entry) loads within bounded memory
   (``@pytest.mark.slow``).
5. No default code path opens a network connection.
"""

from __future__ import annotations

import csv
import gc
import io
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import lbpevidence as lbp
from conftest import REPO, SHARED, VALID_FIELDS, bib_entry
from lbpevidence.errors import PROBLEM_COLUMNS, ClaimsTableError, OutcomeTableError, ReferenceTableError
from lbpevidence.outcomes import OUTCOME_COLUMNS
from lbpevidence.references import parse_bibtex

BENCH = SHARED / "bench-bibs"
BENCH_FILES = ("cdl.bib", "tugboat.bib", "manabibliography.bib")
needs_bench = pytest.mark.skipif(not all((BENCH / name).is_file() for name in BENCH_FILES),
                                 reason="../shared/bench-bibs is not present")


@pytest.fixture(scope="module", autouse=True)
def _no_disk_cache():
    """Parse for real (and write no cache entries for thousands of generated files)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LBPEVIDENCE_NO_CACHE", "1")
        yield


# --- small valid files, each bad input changes one of them -----------------------------------------


def line_of(field: str) -> int:
    """Line of ``field`` in ``bib_entry()`` (one field per line after the ``@article{`` line)."""
    return list(VALID_FIELDS).index(field) + 2


ARTICLE_FIELDS = {"author": "Doe, J and Muller, H", "title": "A trial of something", "journal": "Spine",
                  "year": "2020", "pages": "100-110", "printed_number": "1", "source": "shared/seed/article.txt",
                  "location": "reference list, item [1]"}


def article(drop: tuple[str, ...] = (), **fields: str) -> str:
    """A valid refs/article.bib with one printed citation (one field per line)."""
    values = {**ARTICLE_FIELDS, **fields}
    body = "".join(f"  {name} = {{{value}}},\n" for name, value in values.items() if name not in drop)
    return f"@article{{printed1,\n{body}}}\n"


VALID_ROW = {"key": "doe2020trial", "outcome": "pain", "instrument": "pain-0-10", "timepoint_weeks": "12",
             "population": "chronic", "intervention": "acupuncture", "comparator": "sham", "data_type": "final",
             "mean_int": "3.1",
             "sd_int": "2.0", "n_int": "50", "mean_ctl": "4.0", "sd_ctl": "2.1", "n_ctl": "50",
             "source_url": "https://example.org/trial", "source_location": "Table 2"}
NO_ARMS = dict.fromkeys(("mean_int", "sd_int", "n_int", "mean_ctl", "sd_ctl", "n_ctl"), "")
REPORTED = {**VALID_ROW, **NO_ARMS, "data_type": "reported-effect", "effect_type": "MD", "estimate": "-1.0",
            "ci_low": "-1.5", "ci_high": "-0.5", "sign_convention": "scale"}
EVENTS = {**VALID_ROW, "outcome": "adverse-events", "instrument": "adverse-events", "data_type": "events",
          "mean_int": "", "sd_int": "", "mean_ctl": "", "sd_ctl": "", "events_int": "4", "events_ctl": "3"}


def outcomes(*rows: dict[str, str], quoting: int = csv.QUOTE_MINIMAL) -> str:
    """outcomes.csv text: the header, then one line per row (columns not given stay empty)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=quoting)
    writer.writerow(OUTCOME_COLUMNS)
    for row in rows or (VALID_ROW,):
        writer.writerow([row.get(column, "") for column in OUTCOME_COLUMNS])
    return buffer.getvalue()


CLAIM_HEADER = "claim_id,location,modality,outcome,population,claimed_direction,claimed_strength,citation,claim\n"
CLAIM = "C01,paragraph 3,acupuncture,pain,chronic,benefit,moderate,1,Acupuncture eases chronic back pain.\n"


def claims(*rows: str) -> str:
    return CLAIM_HEADER + "".join(rows or (CLAIM,))


VALID_FILES = {"studies.bib": bib_entry(), "outcomes.csv": outcomes(), "article.bib": article(),
               "claims.csv": claims()}


def write_refs(folder: Path, name: str, content: str | bytes) -> Path:
    """A refs/ folder of valid files, except ``name`` which holds ``content``; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    for file, text in VALID_FILES.items():
        (folder / file).write_text(text, encoding="utf-8")
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    (folder / name).write_bytes(data)
    return folder / name


READERS: dict[str, Callable[[Path], tuple[pd.DataFrame, pd.DataFrame]]] = {
    "studies.bib": lambda path: lbp.read_references(path, strict=False),
    "article.bib": lambda path: lbp.read_references(path, strict=False, schema="printed"),
    "outcomes.csv": lambda path: lbp.read_outcomes(path, strict=False),
    "claims.csv": lambda path: lbp.read_claims(path, strict=False),
    "overrides.csv": lambda path: lbp.read_overrides(path, strict=False),
}
STRICT_READERS: dict[str, tuple[Callable[[Path], pd.DataFrame], type[ReferenceTableError]]] = {
    "studies.bib": (lambda path: lbp.read_references(path), ReferenceTableError),
    "article.bib": (lambda path: lbp.read_references(path, schema="printed"), ReferenceTableError),
    "outcomes.csv": (lambda path: lbp.read_outcomes(path), OutcomeTableError),
    "claims.csv": (lambda path: lbp.read_claims(path), ClaimsTableError),
    "overrides.csv": (lambda path: lbp.read_overrides(path), ClaimsTableError),
}


# --- 1. the catalogue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    """One bad input and where its message must point.

    ``found`` is a piece of the message's "found ..." part; ``key`` is empty only for problems of
    the whole file or of its header (no entry or row to name).
    """

    file: str
    what: str
    content: str | bytes
    line: int
    key: str
    field: str
    found: str
    severity: str = "error"


K = "doe2020trial"
OVERRIDE_HEADER = "modality,outcome,comparator_class,window,domain,change,rationale,source_url\n"
OVERRIDE = "yoga,pain,any,any,indirectness,-1,Trials used chair yoga only,\n"
SMD = {**REPORTED, "instrument": "pain-smd", "effect_type": "SMD", "estimate": "-0.5", "ci_low": "-0.8",
       "ci_high": "-0.2"}


def laughs() -> str:
    """@string macros, each ten copies of the one before: a6 would be 10,000,000 characters ('billion laughs')."""
    text = '@string{a0 = "xxxxxxxxxx"}\n'
    for i in range(1, 7):
        text += f"@string{{a{i} = " + " # ".join([f"a{i - 1}"] * 10) + "}\n"
    return text + bib_entry().replace("journal = {Spine}", "journal = a6")


MISSING_COMMA = bib_entry().replace("  title = {A {Trial} of something},", "  title = {A {Trial} of something}")
UNCLOSED_QUOTE = outcomes(VALID_ROW, {**VALID_ROW, "pool": "no", "notes": "XX"}, {**VALID_ROW, "pool": "no"},
                          {**VALID_ROW, "pool": "no"}).replace(",XX\n", ',"XX left open\n')
SWAPPED_HEADER = outcomes().replace("mean_int,sd_int", "mean_int,mean_int", 1)

CATALOGUE: list[Bad] = [
    # studies.bib
    Bad("studies.bib", "an entry whose braces do not balance", bib_entry() + "\n@article{broken,\n  title = {Open "
        "{brace},\n  year = {2020},\n}\n", 22, "broken", "entry", "unbalanced braces (4 '{' vs 3 '}')"),
    Bad("studies.bib", "a file cut off in the middle of an entry", bib_entry()[:200], 1, K, "entry",
        "unbalanced braces"),
    Bad("studies.bib", "a missing comma between two fields", MISSING_COMMA, 3, K, "title",
        "missing comma before field 'journal'"),
    Bad("studies.bib", "the same key twice", bib_entry() + bib_entry(title="Another"), 21, K, "key",
        f"duplicate key '{K}'"),
    Bad("studies.bib", "the same field twice in one entry",
        bib_entry().replace("  year = {2020},\n", "  year = {2020},\n  year = {2021},\n"), 6, K, "year",
        "a second 'year' field"),
    Bad("studies.bib", "an unknown entry type `@artcle`", bib_entry(entry_type="artcle"), 1, K, "entry_type",
        "'@artcle'"),
    Bad("studies.bib", "no `title`", bib_entry(drop=("title",)), 1, K, "title", "no title"),
    Bad("studies.bib", "`year = {20201}`", bib_entry(year="20201"), 5, K, "year", "'20201'"),
    Bad("studies.bib", "a year in Arabic-Indic digits `٢٠٢٠`", bib_entry(year="٢٠٢٠"), 5, K, "year", "'٢٠٢٠'"),
    Bad("studies.bib", "a DOI without its `10.` prefix", bib_entry(doi="doi 10/abc"), line_of("doi"), K, "doi",
        "'doi 10/abc'"),
    Bad("studies.bib", "`pmid = {PMID:123}`", bib_entry(pmid="PMID:123"), line_of("pmid"), K, "pmid",
        "'PMID:123'"),
    Bad("studies.bib", "a misspelt modality", bib_entry(modality="acupunture"), line_of("modality"), K, "modality",
        "'acupunture'"),
    Bad("studies.bib", "a misspelt design", bib_entry(design="rtc"), line_of("design"), K, "design", "'rtc'"),
    Bad("studies.bib", "a misspelt comparator", bib_entry(comparator="shma"), line_of("comparator"), K, "comparator",
        "'shma'"),
    Bad("studies.bib", "`participants = {-5}`", bib_entry(participants="-5"), line_of("participants"), K,
        "participants", "'-5'"),
    Bad("studies.bib", "`participants = {1000000000}`", bib_entry(participants="1000000000"), line_of("participants"),
        K, "participants", "'1000000000'"),
    Bad("studies.bib", "`participants = {²}` (a superscript digit)", bib_entry(participants="²"),
        line_of("participants"), K, "participants", "'²'"),
    Bad("studies.bib", "a 1 MB `participants` value", bib_entry(participants="9" * 2**20), line_of("participants"),
        K, "participants", "(1,048,578 characters)"),
    Bad("studies.bib", "`pedro = {11}`", bib_entry(pedro="11", pedro_source="https://pedro.org.au/x"), 20, K, "pedro",
        "'11'"),
    Bad("studies.bib", "PEDro items that do not sum to `pedro`",
        bib_entry(pedro="7", pedro_items="1111111100", pedro_source="https://pedro.org.au/x"), 21, K, "pedro_items",
        "items summing to 8"),
    Bad("studies.bib", "four RoB 2 domains instead of five",
        bib_entry(rob_domains="low; low; high; low", rob_source="https://example.org/rob"), 20, K, "rob_domains",
        "4 judgements"),
    Bad("studies.bib", "`rob` without `rob_source`", bib_entry(rob="high"), 1, K, "rob_source", "no rob_source"),
    Bad("studies.bib", "`verified = {2026-13-01}`", bib_entry(verified="2026-13-01"), line_of("verified"), K,
        "verified", "'2026-13-01'"),
    Bad("studies.bib", "neither DOI nor PMID", bib_entry(drop=("doi", "pmid")), 1, K, "doi", "neither doi nor pmid"),
    Bad("studies.bib", "`unverified` naming a field that does not exist", bib_entry(unverified="pgaes"), 20, K,
        "unverified", "'pgaes'"),
    Bad("studies.bib", "a `source` that is not a URL", bib_entry(source="www.ncbi.nlm.nih.gov/pubmed/1"),
        line_of("source"), K, "source", "'www.ncbi.nlm.nih.gov/pubmed/1'"),
    Bad("studies.bib", "a 1 MB `source` of words that are not URLs", bib_entry(source="z " * 2**19),
        line_of("source"), K, "source", "524,283 more words that are not URLs"),
    Bad("studies.bib", "a `seen_at` that is not a URL", bib_entry(seen_at="scribd.com/document/1"), 20, K,
        "seen_at", "'scribd.com/document/1'"),
    Bad("studies.bib", "a citation link `url` on a raw IP address (a PubMed mirror)",
        bib_entry(url="http://47.251.13.51:8081/12345678"), 20, K, "url", "(a raw IP address)"),
    Bad("studies.bib", "a citation link `url` on a document-sharing site",
        bib_entry(url="https://de.scribd.com/document/1/a-trial"), 20, K, "url", "(a mirror host 'de.scribd.com')"),
    Bad("studies.bib", "a citation link `url` through a library proxy",
        bib_entry(url="https://0-bmcmedicine-biomedcentral-com.brum.beds.ac.uk/articles/10.1186/x"), 20, K, "url",
        "(a library proxy '0-bmcmedicine-biomedcentral-com.brum.beds.ac.uk')"),
    Bad("studies.bib", "a `modality` list of 60 terms", bib_entry(modality="; ".join(["yoga"] * 60)),
        line_of("modality"), K, "modality", "60 values"),
    Bad("studies.bib", "an undefined `@string` macro",
        bib_entry().replace("journal = {Spine}", "journal = spinejournal"), 4, K, "journal",
        "undefined @string macro 'spinejournal'"),
    Bad("studies.bib", "a byte that is not UTF-8 (Latin-1 `é`)", bib_entry().encode().replace(b"Spine", b"Sp\xe9ine"),
        4, K, "journal", "byte 0xe9 at column 16 that is not UTF-8"),
    Bad("studies.bib", "a NUL byte in a title", bib_entry(title="A\x00Trial"), 3, K, "title",
        "a control character U+0000 at position 2"),
    Bad("studies.bib", "old Mac line endings (CR only) and a misspelt modality",
        bib_entry(modality="acupunture").replace("\n", "\r"), line_of("modality"), K, "modality", "'acupunture'"),
    Bad("studies.bib", "text that lost its `@`", bib_entry() + "article{lost, title = {x}}\n", 21, "lost", "entry",
        "text that looks like an entry without '@'", "warning"),
    Bad("studies.bib", "a misspelt field name", bib_entry(modaliy="yoga"), 20, K, "modaliy",
        "unknown field 'modaliy'", "warning"),
    Bad("studies.bib", "a file saved as UTF-16 (Windows \"Unicode\")", bib_entry().encode("utf-16"), 1, "", "encoding",
        "UTF-16 text (byte-order mark FF FE)"),
    Bad("studies.bib", "a key with a comma", bib_entry().replace(f"{{{K},", "{doe,2020trial,"), 1, "doe", "key",
        "a key with a comma ('doe,2020trial')"),
    Bad("studies.bib", "a key with a letter that is not lower-case ASCII", bib_entry("müller2020trial"), 1,
        "müller2020trial", "key", "'müller2020trial' ('ü' at position 2)"),
    Bad("studies.bib", "a lone `}` in a title, closing the entry early",
        bib_entry(title="A } something"), line_of("journal"), K, "journal",
        "field 'journal' after the end of entry 'doe2020trial'"),
    Bad("studies.bib", "an opening brace left open in a value", bib_entry(title="A {Trial of something"), 1, K,
        "entry", "the '{' opened at line 3 is still open when field 'journal' starts at line 4"),
    Bad("studies.bib", "a `url` that is not http(s) (`javascript:`)", bib_entry(url="javascript:alert(1)"), 20, K,
        "url", "'javascript:alert(1)'"),
    Bad("studies.bib", "`@string` macros that multiply (\"billion laughs\")", laughs(), 7, "a6", "@string",
        "@string macros expanding to more than 1,048,576 characters"),
    # article.bib
    Bad("article.bib", "no `printed_number`", article(drop=("printed_number",)), 1, "printed1", "printed_number",
        "no printed_number"),
    Bad("article.bib", "`printed_number = {two}`", article(printed_number="two"), 7, "printed1", "printed_number",
        "'two'"),
    Bad("article.bib", "no `location`", article(drop=("location",)), 1, "printed1", "location", "no location"),
    Bad("article.bib", "no `journal` in an `@article`", article(drop=("journal",)), 1, "printed1", "journal",
        "no journal"),
    Bad("article.bib", "an evidence field in a printed citation", article(modality="yoga"), 10, "printed1",
        "modality", "unknown field 'modality'", "warning"),
    # outcomes.csv
    Bad("outcomes.csv", "`mean_int` = `abc`", outcomes({**VALID_ROW, "mean_int": "abc"}), 2, K, "mean_int", "'abc'"),
    Bad("outcomes.csv", "`mean_int` = `NaN`", outcomes({**VALID_ROW, "mean_int": "NaN"}), 2, K, "mean_int", "'NaN'"),
    Bad("outcomes.csv", "`sd_int` = `inf`", outcomes({**VALID_ROW, "sd_int": "inf"}), 2, K, "sd_int", "'inf'"),
    Bad("outcomes.csv", "`mean_ctl` = `-inf`", outcomes({**VALID_ROW, "mean_ctl": "-inf"}), 2, K, "mean_ctl",
        "'-inf'"),
    Bad("outcomes.csv", "`n_int` = `-5`", outcomes({**VALID_ROW, "n_int": "-5"}), 2, K, "n_int", "'-5'"),
    Bad("outcomes.csv", "an empty `sd_int` in a `final` row", outcomes({**VALID_ROW, "sd_int": ""}), 2, K, "sd_int",
        "an empty cell"),
    Bad("outcomes.csv", "`n_int` = 10^9", outcomes({**VALID_ROW, "n_int": "1000000000"}), 2, K, "n_int",
        "'1000000000'"),
    Bad("outcomes.csv", "`n_int` = `1e308`", outcomes({**VALID_ROW, "n_int": "1e308"}), 2, K, "n_int", "'1e308'"),
    Bad("outcomes.csv", "an SD larger than the scale (30 on 0-10)", outcomes({**VALID_ROW, "sd_int": "30"}), 2, K,
        "sd_int", "'30'"),
    Bad("outcomes.csv", "a mean outside the scale (11 on 0-10)", outcomes({**VALID_ROW, "mean_int": "11"}), 2, K,
        "mean_int", "'11'"),
    Bad("outcomes.csv", "`timepoint_weeks` = 10,000", outcomes({**VALID_ROW, "timepoint_weeks": "10000"}), 2, K,
        "timepoint_weeks", "'10000'"),
    Bad("outcomes.csv", "no `timepoint_weeks` and no `window`", outcomes({**VALID_ROW, "timepoint_weeks": ""}), 2, K,
        "timepoint_weeks", "an empty cell"),
    Bad("outcomes.csv", "a `window` that disagrees with `timepoint_weeks`",
        outcomes({**VALID_ROW, "timepoint_weeks": "52", "window": "short-term"}), 2, K, "window", "'short-term'"),
    Bad("outcomes.csv", "a decimal comma `1,5`", outcomes({**VALID_ROW, "mean_int": "1,5"}), 2, K, "mean_int",
        "'1,5'"),
    Bad("outcomes.csv", "a thousands separator `1_000`", outcomes({**VALID_ROW, "n_ctl": "1_000"}), 2, K, "n_ctl",
        "'1_000'"),
    Bad("outcomes.csv", "an inverted CI", outcomes({**REPORTED, "ci_low": "-0.5", "ci_high": "-1.5"}), 2, K, "ci_low",
        "ci_low -0.5 above ci_high -1.5"),
    Bad("outcomes.csv", "an estimate outside its CI", outcomes({**REPORTED, "estimate": "2"}), 2, K, "estimate",
        "2 outside its CI (-1.5 to -0.5)"),
    Bad("outcomes.csv", "a reported effect with neither CI nor SE",
        outcomes({**REPORTED, "ci_low": "", "ci_high": ""}), 2, K, "ci_low", "no CI and no SE"),
    Bad("outcomes.csv", "a negative risk ratio",
        outcomes({**EVENTS, "data_type": "reported-effect", "events_int": "", "events_ctl": "", "effect_type": "RR",
                  "estimate": "-0.5", "ci_low": "-0.9", "ci_high": "1.5", "sign_convention": "scale"}),
        2, K, "estimate", "'-0.5'"),
    Bad("outcomes.csv", "more events than participants", outcomes({**EVENTS, "events_int": "60"}), 2, K,
        "events_int", "'60'"),
    Bad("outcomes.csv", "a key that is not in studies.bib", outcomes({**VALID_ROW, "key": "nokey2020"}), 2,
        "nokey2020", "key", "'nokey2020'"),
    Bad("outcomes.csv", "a misspelt outcome", outcomes({**VALID_ROW, "outcome": "pian"}), 2, K, "outcome", "'pian'"),
    Bad("outcomes.csv", "an instrument that measures another outcome", outcomes({**VALID_ROW, "instrument": "rmdq-24"}),
        2, K, "instrument", "'rmdq-24'"),
    Bad("outcomes.csv", "a study counted twice in one analysis", outcomes(VALID_ROW, VALID_ROW), 3, K, "pool",
        "a second pooled row"),
    Bad("outcomes.csv", "a quote left open, swallowing the rows after it", UNCLOSED_QUOTE, 3, K, "notes",
        "a quoted cell running over lines 3-5"),
    Bad("outcomes.csv", "a NUL byte in a cell", outcomes({**VALID_ROW, "intervention_detail": "needles\x00"}), 2, K,
        "intervention_detail", "a control character U+0000"),
    Bad("outcomes.csv", "a byte that is not UTF-8 in `notes`",
        outcomes({**VALID_ROW, "notes": "caf\u00e9"}).encode().replace("\u00e9".encode(), b"\xe9"), 2, K, "notes",
        "byte 0xe9"),
    Bad("outcomes.csv", "a row with too few cells", outcomes() + "doe2020trial,pain\n", 3, K, "",
        "2 cells"),
    Bad("outcomes.csv", "old Mac line endings (CR only), bad value on the third line",
        outcomes(VALID_ROW, {**VALID_ROW, "pool": "no", "sd_ctl": "-2"}).replace("\n", "\r"), 3, K, "sd_ctl", "'-2'"),
    Bad("outcomes.csv", "a header naming a column twice", SWAPPED_HEADER, 1, "", "mean_int",
        "2 columns named 'mean_int'"),
    Bad("outcomes.csv", "a header without `source_url`", outcomes().replace("source_url", "url", 1), 1, "",
        "source_url", "no such column"),
    Bad("outcomes.csv", "an SMD of -1e300 (finite, absurd)", outcomes({**SMD, "estimate": "-1e300",
        "ci_low": "-1e301", "ci_high": "1e300"}), 2, K, "estimate", "'-1e300'"),
    Bad("outcomes.csv", "an SMD of 25", outcomes({**SMD, "estimate": "25", "ci_low": "20", "ci_high": "30"}), 2, K,
        "estimate", "'25'"),
    Bad("outcomes.csv", "an SD of 1e-300", outcomes({**VALID_ROW, "sd_int": "1e-300"}), 2, K, "sd_int",
        "'1e-300'"),
    # claims.csv
    Bad("claims.csv", "a misspelt modality", claims(CLAIM.replace("acupuncture", "acupunture")), 2, "C01", "modality",
        "'acupunture'"),
    Bad("claims.csv", "an unknown outcome", claims(CLAIM.replace(",pain,", ",sleep,")), 2, "C01", "outcome",
        "'sleep'"),
    Bad("claims.csv", "an unknown population", claims(CLAIM.replace("chronic", "elderly")), 2, "C01", "population",
        "'elderly'"),
    Bad("claims.csv", "the same claim_id twice", claims(CLAIM, CLAIM), 3, "C01", "claim_id",
        "duplicate claim_id 'C01'"),
    Bad("claims.csv", "a claim_id not of the form Cnn", claims(CLAIM.replace("C01", "X1")), 2, "X1", "claim_id",
        "'X1'"),
    Bad("claims.csv", "an unknown claimed_direction", claims(CLAIM.replace("benefit", "helps")), 2, "C01",
        "claimed_direction", "'helps'"),
    Bad("claims.csv", "an empty claimed_strength", claims(CLAIM.replace("moderate", "")), 2, "C01",
        "claimed_strength", "an empty cell"),
    Bad("claims.csv", "a citation number article.bib does not print", claims(CLAIM.replace(",1,", ",7,")), 2, "C01",
        "citation", "'7'"),
    Bad("claims.csv", "a citation that is not a number", claims(CLAIM.replace(",1,", ",two,")), 2, "C01", "citation",
        "'two'"),
    Bad("claims.csv", "an empty claim", claims(CLAIM.replace("Acupuncture eases chronic back pain.", "")), 2, "C01",
        "claim", "an empty cell"),
    # overrides.csv
    Bad("overrides.csv", "a byte that is not UTF-8 (a file saved as Latin-1)",
        (OVERRIDE_HEADER + OVERRIDE.replace("chair", "caf\u00e9")).encode("latin-1"), 2, "yoga/pain", "rationale",
        "byte 0xe9 at column 50"),
    Bad("overrides.csv", "a row with too few cells", OVERRIDE_HEADER + "yoga,pain,any\n", 2, "yoga/pain", "",
        "3 cells"),
    Bad("overrides.csv", "a bad row after a cell that runs over two lines",
        OVERRIDE_HEADER + OVERRIDE.replace("Trials used", '"Trials\nused').replace("only,", 'only",')
        + OVERRIDE.replace("yoga,", "yogaa,", 1), 4, "yogaa/pain", "modality", "'yogaa'"),
    Bad("overrides.csv", "the same judgement twice", OVERRIDE_HEADER + OVERRIDE + OVERRIDE, 3, "yoga/pain", "domain",
        "a second indirectness judgement for the same analysis (first at line 2)"),
    Bad("overrides.csv", "a `source_url` that is not http(s)",
        OVERRIDE_HEADER + OVERRIDE.replace("only,", "only,javascript:alert(1)"), 2, "yoga/pain", "source_url",
        "'javascript:alert(1)'"),
]


def _problem_for(bad: Bad, problems: pd.DataFrame) -> pd.Series:
    here = problems[(problems.line == bad.line) & (problems.key == bad.key) & (problems.field == bad.field)
                    & problems.message.str.contains(bad.found, regex=False)]
    assert len(here) == 1, f"expected one problem at {bad.line} {bad.key} {bad.field}; got {problems.message.tolist()}"
    return here.iloc[0]


def _prefix(path: Path, bad: Bad) -> str:
    where = f"{path}:{bad.line}" if bad.line else str(path)
    return where + (f" {bad.key}" if bad.key else "") + (f" {bad.field}" if bad.field else "") + ": found "


def _rows_in(text: str | bytes) -> int:
    """Data rows of a CSV as the csv module sees them (blank lines excluded)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return sum(1 for cells in list(csv.reader(io.StringIO(text, newline="")))[1:] if any(c.strip() for c in cells))


def test_catalogue_has_at_least_25_distinct_bad_inputs_in_every_file():
    assert len({(bad.file, bad.what) for bad in CATALOGUE}) == len(CATALOGUE) >= 25
    assert {bad.file for bad in CATALOGUE} == set(READERS)
    located = [bad for bad in CATALOGUE if bad.line and bad.key and bad.field]
    assert len(located) >= 25  # file, line, key and field all named


_READ: dict[int, tuple[Path, pd.DataFrame, pd.DataFrame]] = {}


@pytest.fixture(scope="module")
def catalogue_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("catalogue")


def read_case(number: int, root: Path) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    """(path, table, problems) of catalogue entry ``number``, read once per test session."""
    if number not in _READ:
        bad = CATALOGUE[number]
        path = write_refs(root / f"case{number}", bad.file, bad.content)
        _READ[number] = (path, *READERS[bad.file](path))
    return _READ[number]


@pytest.mark.parametrize("number", range(len(CATALOGUE)), ids=[f"{b.file}:{b.what}" for b in CATALOGUE])
def test_bad_input_is_named_with_file_line_key_and_field(number, catalogue_root):
    bad = CATALOGUE[number]
    path, table, problems = read_case(number, catalogue_root)
    assert list(problems.columns) == PROBLEM_COLUMNS
    problem = _problem_for(bad, problems)
    assert problem.message.startswith(_prefix(path, bad)), problem.message
    assert problem.file == str(path) and problem.severity == bad.severity
    if bad.file.endswith(".csv"):  # every row stays in the table (valid or not)
        assert len(table) == _rows_in(bad.content)
    else:  # every entry is in the table or named in the problems
        text = bad.content.decode("utf-16" if bad.content[:2] == b"\xff\xfe" else "utf-8", errors="replace") \
            if isinstance(bad.content, bytes) else bad.content
        keys = set(re.findall(r"@\w+\{([^,\s]+),", text))
        assert keys <= set(table.key) | set(problems.key)
    read, error = STRICT_READERS[bad.file]
    if bad.severity == "error":
        with pytest.raises(error) as info:
            read(path)
        assert problem.message in str(info.value)
    else:
        assert isinstance(read(path), pd.DataFrame)


# The catalogue, as refs/README.md shows it.

README_HEADING = "## Bad inputs and their messages"


def catalogue_rows(root: Path) -> list[str]:
    """One markdown table row per catalogue entry: file, bad input, message (paths relative to refs/)."""
    rows = []
    for number, bad in enumerate(CATALOGUE):
        path, _, problems = read_case(number, root)
        message = _problem_for(bad, problems).message.replace(f"{path.parent}{os.sep}", "")
        message = ("warning: " if bad.severity == "warning" else "") + message
        cells = [f"`{bad.file}`", bad.what, message.replace("|", "\\|")]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def test_refs_readme_lists_the_catalogue_with_the_messages_the_library_gives(catalogue_root):
    readme = (REPO / "refs" / "README.md").read_text(encoding="utf-8")
    assert README_HEADING in readme, f"refs/README.md has no section {README_HEADING!r}"
    section = readme.split(README_HEADING, 1)[1].split("\n## ", 1)[0]
    documented = [line for line in section.splitlines() if line.startswith("| `")]
    expected = catalogue_rows(catalogue_root)
    assert documented == expected, "refs/README.md is out of date; its table should read:\n" + "\n".join(expected)


# --- 2. property tests: real entries, mutated ------------------------------------------------------

ENTRY_START = re.compile(r"^@[ \t]*(\w+)[ \t]*[{(]", re.MULTILINE)


@cache
def real_entries(path: Path) -> tuple[str, ...]:
    """The entries of a .bib file as written (from their '@' to the next line-start '@')."""
    text = path.read_text(encoding="utf-8")
    starts = [m.start() for m in re.finditer(r"^@", text, re.MULTILINE)] + [len(text)]
    pieces = (text[a:b] for a, b in itertools.pairwise(starts))
    keep = []
    for piece in pieces:
        head = ENTRY_START.match(piece)
        if head and head.group(1).lower() not in ("string", "comment", "preamble"):
            keep.append(piece.rstrip() + "\n")
    return tuple(keep)


def _insert(data: bytes, where: float, piece: bytes) -> bytes:
    at = int(where * len(data))
    return data[:at] + piece + data[at:]


AT_SIGNS = [b"@", b"\n@", b"@{", b"\n@{", b"@article{", b"\n@article{x,", b"\n@comment{", b"\n@string{x = {",
            b"\n@preamble{", b"\n@article(y,", b"\n@@"]


@st.composite
def mutations(draw) -> tuple[str, Callable[[bytes], bytes]]:
    """(name, function of an entry's bytes) for one kind of damage."""
    kind = draw(st.sampled_from(["truncate", "braces", "bytes", "long-field", "long-text", "deep", "deep-open",
                                 "nul", "at-sign"]))
    where = draw(st.floats(0, 1))
    if kind == "truncate":
        return kind, lambda e: e[:int(where * len(e))]
    if kind == "braces":
        piece = draw(st.text("{}", min_size=1, max_size=8)).encode()
        return kind, lambda e: _insert(e, where, piece)
    if kind == "bytes":
        piece = draw(st.binary(min_size=1, max_size=64))
        return kind, lambda e: _insert(e, where, piece)
    if kind == "long-field":  # a well-formed 1 MB field after the entry's first line
        return kind, lambda e: e.replace(b",\n", b",\n  note = {" + b"long " * (2**20 // 5) + b"},\n", 1)
    if kind == "long-text":  # 1 MB of text anywhere, braces or not
        piece = draw(st.sampled_from([b"x" * 2**20, b"{" + b"y" * 2**20, b"z\n" * 2**19]))
        return kind, lambda e: _insert(e, where, piece)
    if kind == "deep":
        return kind, lambda e: _insert(e, where, b"{" * 1000 + b"deep" + b"}" * 1000)
    if kind == "deep-open":
        return kind, lambda e: _insert(e, where, b"{" * 1000)
    if kind == "nul":
        count = draw(st.integers(1, 5))
        return kind, lambda e: _insert(e, where, b"\x00" * count)
    piece = draw(st.sampled_from(AT_SIGNS))
    return kind, lambda e: _insert(e, where, piece)


def _lines(data: bytes) -> int:
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 1


def check_damage(path: Path, schema: str, before: str, damaged: bytes, after: str) -> None:
    """Read before + damaged + after: documented problems only, and both neighbours intact."""
    alone = [parse_bibtex(entry, schema=schema)[0] for entry in (before, after)]
    assume(all(len(table) == 1 for table in alone))  # neighbours that are readable on their own
    head = before.encode() + b"\n" + damaged + b"\n"
    data = head + after.encode()
    path.write_bytes(data)
    table, problems = lbp.read_references(path, strict=False, schema=schema)  # never raises
    assert isinstance(table, pd.DataFrame) and list(problems.columns) == PROBLEM_COLUMNS
    assert problems.line.between(0, _lines(data)).all()
    assert (problems.file == str(path)).all() and problems.severity.isin(["error", "warning"]).all()
    for clean, line in zip(alone, (1, _lines(head)), strict=True):
        key, title = clean.key.iloc[0], clean.title.iloc[0]
        survivor = table[(table.key == key) & (table.line == line)]
        assert len(survivor) == 1, f"entry {key} (line {line}) was lost: {table[['key', 'line']].values.tolist()}"
        assert survivor.title.iloc[0] == title
    try:
        strict = lbp.read_references(path, schema=schema)
    except ReferenceTableError:
        pass
    else:
        assert isinstance(strict, pd.DataFrame)


def _write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))  # as is: write_text would translate line endings on Windows
    return path


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("robustness")


def _neighbours(entries: tuple[str, ...], index: int) -> tuple[str, str, str]:
    return entries[index - 1], entries[index], entries[index + 1]


PROPERTY = settings(max_examples=30, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@needs_bench
@PROPERTY
@given(data=st.data(), mutation=mutations())
def test_damaged_real_entry_leaves_its_neighbours_intact(workdir, data, mutation):
    name = data.draw(st.sampled_from(BENCH_FILES), label="file")
    entries = real_entries(BENCH / name)
    before, middle, after = _neighbours(entries, data.draw(st.integers(1, len(entries) - 2), label="entry"))
    _, damage = mutation
    check_damage(workdir / "damaged.bib", "bibliography", before, damage(middle.encode()), after)


@settings(PROPERTY, max_examples=25)
@given(data=st.data(), mutation=mutations())
def test_damaged_entry_of_the_reference_table_leaves_its_neighbours_intact(workdir, data, mutation):
    entries = real_entries(REPO / "refs" / "studies.bib")
    before, middle, after = _neighbours(entries, data.draw(st.integers(1, len(entries) - 2), label="entry"))
    _, damage = mutation
    check_damage(workdir / "studies.bib", "studies", before, damage(middle.encode()), after)


@settings(PROPERTY, max_examples=15)
@given(data=st.data(), newline=st.sampled_from(["\r\n", "\r"]))
def test_line_endings_do_not_change_the_table_or_the_lines(workdir, data, newline):
    sources = [REPO / "refs" / "studies.bib"] + ([BENCH / n for n in BENCH_FILES] if BENCH.is_dir() else [])
    entries = real_entries(data.draw(st.sampled_from(sources), label="file"))
    start = data.draw(st.integers(0, len(entries) - 5), label="first entry")
    text = "\n".join(entries[start:start + 5])
    unix = lbp.read_references(_write(workdir / "lf.bib", text), strict=False, schema="bibliography")
    other = lbp.read_references(_write(workdir / "other.bib", text.replace("\n", newline)), strict=False,
                                schema="bibliography")
    columns = ["key", "line", "title", "authors", "journal", "year"]
    pd.testing.assert_frame_equal(unix[0][columns], other[0][columns])
    assert unix[1][["line", "key", "field", "found"]].equals(other[1][["line", "key", "field", "found"]])


# --- 3. outcomes.csv: garbage in a cell is a problem, never a traceback or a dropped row ------------

GARBAGE = st.one_of(
    st.sampled_from(["", "nan", "NaN", "inf", "-inf", "-0", "0", "1e308", "1e309", "-1e-320", "9" * 400, "1,5",
                     "1_000", "１２", "0x10", "+", ".", "e", "None", "\x00", "\ufeff", '"', "\n", "\r\n",
                     "short-term", "unspecified", "events", "reported-effect", "RR", "no", "sham", "responders"]),
    st.text(max_size=20),
    st.integers(-10**30, 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@cache
def valid_references() -> pd.DataFrame:
    return parse_bibtex(VALID_FILES["studies.bib"], "studies.bib")[0]


def _outcome_problems_at(problems: pd.DataFrame, line: int) -> pd.DataFrame:
    return problems[(problems.line == line) & (problems.severity == "error")]


@settings(PROPERTY, max_examples=100)
@given(cells=st.dictionaries(st.sampled_from(OUTCOME_COLUMNS), GARBAGE, min_size=1, max_size=6))
def test_garbage_in_cells_of_a_valid_row_gives_problems_or_a_valid_row(workdir, cells):
    folder = workdir / "garbage"
    # QUOTE_ALL: the csv module leaves a lone "\r" unquoted, which (rightly) ends the row there
    text = outcomes({**VALID_ROW, **cells}, {**VALID_ROW, "pool": "no"}, quoting=csv.QUOTE_ALL)
    path = write_refs(folder, "outcomes.csv", text)
    table, problems = lbp.read_outcomes(path, valid_references(), strict=False)  # never raises
    assert len(table) == 2, "a row was dropped"
    first, second = table.line.tolist()
    errors = _outcome_problems_at(problems, first)
    assert bool(table.valid.iloc[0]) == errors.empty  # invalid exactly when an error names its line
    # compared in Python: pandas 3.1's str dtype says "\x00" == "\x00" is False (hypothesis found it)
    expected_key = str(cells.get("key", VALID_ROW["key"])).strip()
    assert all(key == expected_key for key in errors.key)
    assert bool(table.valid.iloc[1]) and _outcome_problems_at(problems, second).empty
    if table.valid.iloc[0]:  # a valid row holds finite numbers within range
        numbers = table.iloc[0][["mean_int", "sd_int", "mean_ctl", "sd_ctl", "timepoint_weeks"]].dropna()
        assert all(abs(float(v)) < 1e6 for v in numbers)


@settings(PROPERTY, max_examples=50)
@given(where=st.floats(0, 1), piece=st.one_of(st.binary(min_size=1, max_size=40),
                                               st.sampled_from([b'"', b"\r", b"\x00", b",,,", b"\xff\xfe"])))
def test_random_bytes_in_outcomes_csv_never_raise(workdir, where, piece):
    text = outcomes(VALID_ROW, {**VALID_ROW, "pool": "no", "notes": "second"}, {**REPORTED, "pool": "no"}).encode()
    data = _insert(text, where, piece)
    path = write_refs(workdir / "bytes", "outcomes.csv", data)
    table, problems = lbp.read_outcomes(path, valid_references(), strict=False)  # never raises
    assert problems.line.between(0, _lines(data)).all() and (problems.file == str(path)).all()
    if not problems.found.str.startswith("UTF-").any():  # UTF-16 detected: rows are read as UTF-16
        assert len(table) == _rows_in(data)  # every row the csv module sees is in the table
    spanning = problems[problems.found.str.contains("a quoted cell running over lines", regex=False)]
    assert not (table.line.astype(int).isin(spanning.line) & table.valid).any()


def test_a_huge_cell_is_read_not_a_csv_error(tmp_path):
    path = write_refs(tmp_path / "refs", "outcomes.csv", outcomes({**VALID_ROW, "notes": "n" * 2**20}))
    table = lbp.read_outcomes(path)
    assert len(table.notes.iloc[0]) == 2**20


def test_a_huge_claim_cell_is_read_not_a_csv_error(tmp_path):
    path = write_refs(tmp_path / "refs", "claims.csv", claims(CLAIM.replace("Acupuncture eases", "x" * 2**18)))
    assert len(lbp.read_claims(path)) == 1


# --- 4. a 50 MB .bib within bounded memory -------------------------------------------------------

PEAK_MEMORY_LIMIT_MB = 3 * 1024  # observed: about 0.5-0.9 GB for 50 MB; the bound is generous on purpose
CHILD = """
import json, resource, sys, time
start = time.perf_counter()
import lbpevidence as lbp
table, problems = lbp.read_references(sys.argv[1], strict=False, schema=sys.argv[2])
print(json.dumps({"rows": len(table), "keys": table.key.tolist()[:3] + table.key.tolist()[-3:],
                  "problems": problems[["line", "key", "field", "found"]].head(20).values.tolist(),
                  "seconds": time.perf_counter() - start,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _read_in_child(path: Path, schema: str) -> dict:
    """Read ``path`` in a fresh interpreter and return what it saw, with its peak resident memory (ru_maxrss)."""
    src = str(Path(lbp.__file__).resolve().parent.parent)
    env = {**os.environ, "LBPEVIDENCE_NO_CACHE": "1",
           "PYTHONPATH": os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH", "")) if p)}
    result = subprocess.run([sys.executable, "-c", CHILD, str(path), schema], capture_output=True, text=True,
                            env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def _repeated_entries(target_bytes: int) -> tuple[str, int]:
    """Real entries of refs/studies.bib repeated with unique keys up to ``target_bytes``."""
    entries = real_entries(REPO / "refs" / "studies.bib")
    parts, size, count = [], 0, 0
    while size < target_bytes:
        entry = re.sub(r"^(@\w+\{)([^,\s]+)", lambda m, i=count: f"{m.group(1)}{m.group(2)}x{i}",
                       entries[count % len(entries)], count=1)
        parts.append(entry)
        size += len(entry.encode())
        count += 1
    return "\n".join(parts), count


@pytest.mark.slow
def test_a_50_mb_bib_loads_within_bounded_memory(tmp_path):
    text, count = _repeated_entries(50 * 2**20)
    path = _write(tmp_path / "big.bib", text)
    seen = _read_in_child(path, "studies")
    assert seen["rows"] == count and seen["problems"] == [], seen
    assert seen["peak_mb"] < PEAK_MEMORY_LIMIT_MB, seen


@pytest.mark.slow
def test_a_huge_unbalanced_entry_fails_cleanly_within_bounded_memory(tmp_path):
    head, head_count = _repeated_entries(2**20)
    tail = re.sub(r"^(@\w+\{[^,\s]+)", r"\1tail", head, flags=re.MULTILINE)  # the same entries, other keys
    line = "Lorem {ipsum} dolor = sit, amet \"consectetur\" adipiscing elit.\n"
    body = line * (48 * 2**20 // len(line))
    text = head + "\n@article{huge2020,\n  title = {" + body + "\n" + tail
    path = _write(tmp_path / "huge.bib", text)
    seen = _read_in_child(path, "studies")
    huge_line = head.count("\n") + 2
    assert [huge_line, "huge2020", "entry"] in [p[:3] for p in seen["problems"]], seen["problems"]
    assert seen["rows"] == 2 * head_count, "entries before and after the huge one must survive"
    assert seen["keys"][-1].endswith("tail")
    assert seen["peak_mb"] < PEAK_MEMORY_LIMIT_MB, seen


def test_parsing_leaves_no_garbage_cycles_and_restores_the_collector():
    """The parser pauses the cyclic collector (speed); memory must then be freed by reference counting
    alone. bibtexparser's failed blocks hold an exception whose traceback holds the whole chunk: without
    the cycle broken, a file of broken entries would keep every chunk alive until the collector ran."""
    good = "@article{good%d, author = {Doe, J.}, title = {T}, journal = {J}, year = 2000}\n"
    broken = "@article{bad%d, author = {Doe, J., title = {T}, journal = {J}, year = 2000}\n"
    text = "".join((good if i % 2 else broken) % i for i in range(400))
    gc.collect()
    assert gc.isenabled()
    gc.disable()
    try:
        table, problems = parse_bibtex(text, schema="bibliography")
        assert len(table) == 200 and sum(p.field == "entry" for p in problems) == 200
        del table, problems
        assert gc.collect() == 0, "objects that only the cyclic collector could free"
    finally:
        gc.enable()
    parse_bibtex(text, schema="bibliography")
    assert gc.isenabled(), "the parser must leave the collector as it found it"
    gc.disable()
    try:
        parse_bibtex(text, schema="bibliography")
        assert not gc.isenabled(), "a caller who disabled the collector keeps it disabled"
    finally:
        gc.enable()


# --- 5. no network in any default code path ---------------------------------------------------------


class NetworkUsed(AssertionError):
    """Raised by the guards below: a default code path tried to open a connection."""


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise NetworkUsed(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "__init__", refuse)  # every new socket, whoever imported the class
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "gethostbyname", refuse)


def test_the_guard_blocks_sockets(no_network):
    with pytest.raises(NetworkUsed):
        socket.create_connection(("example.org", 80))
    with pytest.raises(NetworkUsed):
        socket.socket()


def test_the_whole_review_and_the_readers_run_without_network(no_network, tmp_path, capsys):
    refs = tmp_path / "refs"
    shutil.copytree(lbp.bundled_refs(), refs, ignore=shutil.ignore_patterns("README.md"))
    review = lbp.load_review(refs)  # a new folder: computed, not taken from load_review's cache
    assert len(review.references) and len(review.pooled) and len(review.verdicts)
    assert len(lbp.load_review().headline)  # the default: the bundled refs/
    references = lbp.read_references(refs)
    assert len(lbp.read_outcomes(refs, references)) > 0
    assert len(lbp.read_references(refs, schema="printed")) > 0
    assert len(lbp.read_claims(refs)) > 0
    from lbpevidence.cli import main

    assert main(["validate", str(refs)]) == 0
    assert main(["validate", str(refs / "outcomes.csv")]) == 0
    assert main(["table", str(refs), "--format", "csv"]) == 0
    assert "0 error(s)" in capsys.readouterr().err
