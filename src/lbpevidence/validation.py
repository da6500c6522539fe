"""Rules for one bibliographic record: what the reference table accepts.

:func:`check_record` takes a record built by :mod:`lbpevidence.references`
(decoded values, field line numbers) and returns every :class:`Problem` it finds.
Three schemas:

``studies``
    refs/studies.bib: bibliography plus the evidence fields, all required where the
    data dictionary (refs/README.md) says so.
``printed``
    refs/article.bib: citations exactly as printed; bibliography rules plus
    ``printed_number``, ``source`` and ``location``.
``bibliography``
    any other .bib (imports, benchmarks): structure is checked strictly, content
    rules become warnings.
"""

from __future__ import annotations

import datetime as dt
import difflib
import ipaddress
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from .errors import Problem
from .latex import decode_latex
from .safety import is_web_url
from .vocabulary import resolve

__all__ = [
    "BIBLIOGRAPHIC_FIELDS",
    "BIBLIOGRAPHY_TYPES",
    "ENTRY_TYPES",
    "EVIDENCE_FIELDS",
    "LIST_FIELDS",
    "MIRROR_HOSTS",
    "PRINTED_FIELDS",
    "SCHEMAS",
    "check_record",
    "is_doi",
    "mirror_kind",
    "normalise_doi",
]

SCHEMAS = ("studies", "printed", "bibliography")

ENTRY_TYPES = ("article", "book", "incollection", "inproceedings", "techreport", "misc", "online", "report")
BIBLIOGRAPHY_TYPES = (
    *ENTRY_TYPES,
    "booklet", "conference", "inbook", "manual", "mastersthesis", "phdthesis", "proceedings",
    "unpublished", "thesis", "collection", "dataset", "software", "periodical", "mvbook", "suppbook",
    "reference", "patent", "electronic", "www", "webpage", "bookinbook", "mvcollection",
    "mvproceedings", "mvreference", "inreference", "suppcollection", "suppperiodical", "set", "xdata",
    "artwork", "audio", "image", "letter", "movie", "music", "performance", "review", "standard",
    "video", "jurisdiction", "legislation", "legal", "commentary", "customa", "customb", "customc",
    "customd", "custome", "customf", "standard", "talk",
)

BIBLIOGRAPHIC_FIELDS = (
    "author", "editor", "title", "journal", "booktitle", "year", "month", "volume", "number", "pages",
    "doi", "pmid", "pmcid", "url", "urldate", "publisher", "address", "institution", "organization",
    "edition", "series", "issn", "isbn", "note", "abstract", "keywords", "language", "howpublished",
    "chapter", "school", "type", "registration", "eprint", "file", "annote", "date", "crossref",
)
EVIDENCE_FIELDS = (
    "modality", "design", "population", "participants", "studies", "comparator", "finding", "rob",
    "rob_domains", "rob1", "rob_source", "rob_location", "pedro", "pedro_items", "pedro_source", "summary",
    "source", "seen_at", "location", "verified", "unverified",
)
PRINTED_FIELDS = ("printed_number", "source", "location")
LIST_FIELDS = ("modality", "comparator", "rob_domains", "rob1", "source", "unverified")

_YEAR = re.compile(r"^\d{4}$", re.ASCII)
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_PMID = re.compile(r"^\d{1,9}$", re.ASCII)
_PMCID = re.compile(r"^PMC\d+$")
_URL = re.compile(r"^https?://\S+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
# Control characters other than tab and line breaks: a NUL or similar byte means a damaged file, or one
# saved in another encoding (UTF-16 text read as UTF-8 is full of NULs).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Upper bounds that no real value comes near; beyond them a number is a typo (or garbage).
_MAX_COUNT = {"participants": 10_000_000, "studies": 100_000, "printed_number": 100_000}
_MAX_TERMS = 50  # terms in one list field (modality, comparator, rob_domains); real entries have a few
_MAX_LISTED = 5  # bad words of one list field reported one by one; the rest are counted in one problem

# Hosts that serve copies of other publishers' pages: web proxies, document-sharing sites, abstract
# aggregators and reprint sites. A page on one of them may be where a number was read (it then goes in
# `source` or `seen_at`, as provenance) but never the citation link (`url`), which must be the paper's own
# page: https://doi.org/DOI, https://pubmed.ncbi.nlm.nih.gov/PMID/, PMC or the publisher. A host
# matches itself and its subdomains (`scribd.com` covers `de.scribd.com`). Raw IP addresses and library
# proxies that rewrite a publisher's host (`0-bmcmedicine-biomedcentral-com.brum.beds.ac.uk`, EZproxy,
# OCLC) are recognised without being listed (see :func:`mirror_kind`). Extend the list when a new mirror
# turns up in refs/.
MIRROR_HOSTS = frozenset((
    # web proxies and link shorteners
    "mdsite.deno.dev", "app.altruwe.org", "ptop.only.wip.la", "oszar.com", "rt.http3.lol", "bit.ly",
    "web.archive.org", "global.ssl.fastly.net", "prideseotools.com",
    # document-sharing sites
    "scribd.com", "researchgate.net", "dokumen.tips", "fdocuments.us", "fdocuments.in", "fdokumen.com",
    "vdocument.in", "vdocuments.site", "vdocuments.mx", "pdfcookie.com", "1library.net", "readkong.com",
    "abcdocz.com", "coek.info", "pdfdrive.to", "docslib.org", "doczz.net", "kipdf.com", "studylib.net",
    "slidelegend.com", "yumpu.com", "moam.info", "healthdocbox.com", "document.onl", "pdfslide.net",
    "5dok.org",
    # abstract aggregators and reprint sites
    "deepdyve.com", "metajournal.com", "eurekamag.com", "unboundmedicine.com", "biomedsearch.com",
    "curehunter.com", "scilit.com", "scilit.net", "semanticscholar.org", "ouci.dntb.gov.ua", "zendy.io",
    "linkedlifedata.com", "togows.dbcls.jp", "suppr.wilddata.cn", "zhixidata.com", "zhenzhi.com",
    "litmetric.com", "medluna.com", "druglib.com", "eddoctor24h.com", "ai-bt.com", "paperexplained.cn",
    "synapsesocial.com", "concepedia.online", "scholarhub.vn", "discovery.researcher.life",
    "jcore-reference.highwire.org", "chiro.org",
))
_LIBRARY_PROXY = re.compile(r"^0-[a-z0-9-]+\.|\.ezproxy\.|\.idm\.oclc\.org$")


def mirror_kind(url: str) -> str | None:
    """Why ``url`` cannot be a citation link, or None when its host is not a known mirror.

    >>> mirror_kind("http://47.251.13.51:8081/16980316")
    'a raw IP address'
    >>> mirror_kind("https://de.scribd.com/document/1"), mirror_kind("https://doi.org/10.1136/bmj.l689")
    ("a mirror host 'de.scribd.com'", None)
    """
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    except ValueError:
        return None
    if not host:
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return "a raw IP address"
    if _LIBRARY_PROXY.search(host):
        return f"a library proxy '{host}'"
    labels = host.split(".")
    if any(".".join(labels[i:]) in MIRROR_HOSTS for i in range(len(labels) - 1)):
        return f"a mirror host '{host}'"
    return None


def normalise_doi(value: str) -> str:
    """Lower-case a DOI and strip any resolver prefix.

    >>> normalise_doi("https://doi.org/10.1001/ArchInternMed.2009.65")
    '10.1001/archinternmed.2009.65'
    """
    return _DOI_PREFIX.sub("", value.strip()).strip().lower()


def is_doi(value: str) -> bool:
    """True when ``value`` (already normalised) looks like a DOI.

    >>> is_doi("10.1136/bmj.l689"), is_doi("bmj.l689")
    (True, False)
    """
    return _DOI.match(value) is not None


def _needs_author(entry_type: str) -> bool:
    return entry_type in {"article", "book", "incollection", "inproceedings"}


class _Checker:
    """Collects problems for one record; knows its file, key and field lines."""

    def __init__(self, record: Mapping, file: str, schema: str, today: dt.date | None = None) -> None:
        self.record = record
        self.raw: Mapping[str, str] = record.get("_raw") or {}
        self.file = file
        self.schema = schema
        self.key = record.get("key") or ""
        self.line = record.get("line") or 0
        self.field_lines: Mapping[str, int] = record.get("_field_lines") or {}
        self.problems: list[Problem] = []
        self.today = today or dt.date.today()

    def add(self, field: str, found: str, expected: str, severity: str = "error") -> None:
        if self.schema == "bibliography" and severity == "error":
            severity = "warning"  # other people's .bib files: report, do not reject
        line = self.field_lines.get(field, self.line)
        self.problems.append(Problem(self.file, line, self.key, field, found, expected, severity))

    def value(self, field: str) -> str:
        return self.raw.get(field, "").strip()


def _check_control_characters(c: _Checker) -> None:
    raw = c.raw
    if _CONTROL.search(c.key + "".join(raw.values())) is None:  # the common case: one search per record
        return
    for field, value in (("key", c.key), *raw.items()):
        match = _CONTROL.search(value)
        if match:
            c.add(field, f"a control character U+{ord(match.group()):04X} at position {match.start() + 1}",
                  "printable text (a NUL or other control byte means a damaged file, or one not saved as UTF-8)")


def _check_bibliography(c: _Checker) -> None:
    _check_control_characters(c)
    entry_type = c.record.get("entry_type", "")
    allowed = ENTRY_TYPES if c.schema != "bibliography" else BIBLIOGRAPHY_TYPES
    if entry_type not in allowed:
        close = difflib.get_close_matches(entry_type, allowed, n=1)
        hint = f" (did you mean '@{close[0]}'?)" if close else ""
        c.add("entry_type", f"'@{entry_type}'", f"one of {', '.join('@' + t for t in ENTRY_TYPES)}{hint}")
    raw = c.raw
    if _needs_author(entry_type) and not raw.get("author") and not raw.get("editor"):
        c.add("author", "no author", f"an author field (required for @{entry_type})")
    if entry_type in {"techreport", "report", "misc", "online"} and not (
        raw.get("author") or raw.get("institution") or raw.get("organization")
    ):
        c.add("author", "no author, institution or organization", f"one of them (required for @{entry_type})")
    if not raw.get("title"):
        c.add("title", "no title", "a title")
    if entry_type == "article" and not raw.get("journal"):
        c.add("journal", "no journal", "a journal (required for @article)")
    year = decode_latex(raw.get("year", "")).strip()
    if not year:
        c.add("year", "no year", "a four-digit year")
    elif not _YEAR.match(year):
        c.add("year", repr(year), "a four-digit year")
    elif int(year) > c.today.year:
        c.add("year", repr(year), f"a year not after {c.today.year}")
    doi = c.record.get("doi") or ""
    if doi and not is_doi(doi):
        c.add("doi", repr(raw.get("doi", doi)), "a DOI like 10.1001/archinternmed.2009.65")
    pmid = raw.get("pmid", "").strip()
    if pmid and not _PMID.match(pmid):
        c.add("pmid", repr(pmid), "a PubMed id of digits only")
    pmcid = raw.get("pmcid", "")
    if pmcid and not _PMCID.match(pmcid):
        c.add("pmcid", repr(pmcid), "a PMC id like PMC2832641")
    _check_links(c)


MAX_KEY_LENGTH = 64
_KEY = re.compile(r"[a-z0-9]+", re.ASCII)
_KEY_RULE = "lower-case ASCII letters and digits, firstauthorYEARfirstword like 'cherkin2009randomized'"


def _check_key(c: _Checker) -> None:
    """The key rule of refs/README.md: lower-case ASCII letters and digits, at most MAX_KEY_LENGTH of them."""
    key = c.key
    if not key or _CONTROL.search(key):  # no key, or a control character (reported on its own)
        return
    if len(key) > MAX_KEY_LENGTH:
        c.add("key", f"a key of {len(key):,} characters", f"at most {MAX_KEY_LENGTH} {_KEY_RULE}")
    elif not _KEY.fullmatch(key):
        bad = next(i for i, char in enumerate(key) if not (char.isascii() and (char.islower() or char.isdigit())))
        c.add("key", f"{key!r} ({key[bad]!r} at position {bad + 1})", _KEY_RULE)


_LINK_FIELDS = ("url", "rob_source", "pedro_source")


def _check_links(c: _Checker) -> None:
    """Fields a report or a reader may follow as links: http(s) only (no ``javascript:``, ``data:``, ``file:``)."""
    for field in _LINK_FIELDS:
        value = c.value(field)
        if value and not is_web_url(value):
            c.add(field, repr(value), "one http(s) URL (https://...)")


def _check_term(c: _Checker, field: str, kind: str, value: str) -> str | None:
    term, suggestion = resolve(kind, value)
    if term is None:
        hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
        c.add(field, repr(value), f"a known {kind}{hint}; see refs/README.md")
    return term


def _as_int(value: str) -> int | None:
    """The integer ``value`` writes in ASCII digits, if Int64 can hold it, else None.

    ``'²'.isdigit()`` is True but ``int('²')`` fails; 5000 digits exceed ``int()``'s limit.
    """
    if not (value.isascii() and value.isdigit()) or len(value.lstrip("0")) > 18:
        return None
    return int(value)


_ROB1_JUDGEMENTS = {"low": "low", "low risk": "low", "unclear": "unclear", "unclear risk": "unclear",
                    "high": "high", "high risk": "high"}


def rob1_judgement(value: str) -> tuple[str, str] | None:
    """``(domain, judgement)`` of one RoB 1 item written ``domain: judgement``, or None.

    The judgement is ``low``, ``unclear`` or ``high`` (``Low risk`` as Cochrane tables print it
    is accepted); the domain is kept as printed, lower case.

    Examples
    --------
    >>> rob1_judgement("Allocation concealment (selection bias): Low risk")
    ('allocation concealment (selection bias)', 'low')
    >>> rob1_judgement("blinding") is None
    True
    """
    domain, colon, judgement = value.rpartition(":")
    found = _ROB1_JUDGEMENTS.get(judgement.strip().lower())
    if not colon or not domain.strip() or found is None:
        return None
    return " ".join(domain.lower().split()), found


def _add_each(c: _Checker, field: str, founds: list[str], expected: str, what: str) -> None:
    """One problem per bad word of a list field, up to _MAX_LISTED; the rest counted in one more."""
    for found in founds[:_MAX_LISTED]:
        c.add(field, found, expected)
    if len(founds) > _MAX_LISTED:  # a damaged field must not flood the report (1 MB of words: 500,000 problems)
        c.add(field, f"{len(founds) - _MAX_LISTED:,} more {what}", expected)


def _list_values(c: _Checker, field: str) -> list[str]:
    """The ';'-separated values of ``field``; a list far longer than any real one is a problem, checked no further."""
    values = c.record.get("_raw_lists", {}).get(field) or []
    if len(values) > _MAX_TERMS:
        c.add(field, f"{len(values):,} values", f"at most {_MAX_TERMS} terms separated by ';'")
        return values[:_MAX_TERMS]
    return values


def _check_positive_int(c: _Checker, field: str, low: int = 1, high: int | None = None) -> None:
    value = c.value(field)
    if not value:
        return
    number = _as_int(value)
    if high is not None:
        if number is None or not low <= number <= high:
            c.add(field, repr(value), f"an integer from {low} to {high}")
        return
    limit = _MAX_COUNT.get(field, 10**18)
    if not (value.isascii() and value.isdigit()) or (number is not None and number < low):
        c.add(field, repr(value), "a positive integer")
    elif number is None or number > limit:
        c.add(field, repr(value), f"a positive integer no larger than {limit:,}")


def _check_sources(c: _Checker, required: bool, urls_only: bool = True) -> None:
    sources = c.record.get("source") or []
    if not sources and required:
        c.add("source", "no source", "the URL of the page the entry was checked against")
    bad = [repr(url) for url in sources if not _URL.match(url)] if urls_only else []
    _add_each(c, "source", bad, "http(s) URLs separated by spaces", "words that are not URLs")
    if urls_only:
        seen = c.record.get("seen_at") or []
        _add_each(c, "seen_at", [repr(url) for url in seen if not _URL.match(url)],
                  "http(s) URLs separated by spaces", "words that are not URLs")
    if required and not c.value("location"):
        c.add("location", "no location", "where on the source page the facts were seen ('PubMed abstract')")


def _check_citation_link(c: _Checker) -> None:
    url = c.value("url")
    kind = mirror_kind(url) if url else None
    if kind:
        c.add("url", f"{url!r} ({kind})",
              "the paper's own page as citation link (its DOI at https://doi.org/, its PubMed record, PMC or the "
              "publisher); a mirror where facts were read belongs in seen_at or source")


def _check_evidence(c: _Checker) -> None:
    raw = c.raw
    design = None
    for field, kind, required in (
        ("design", "design", True),
        ("population", "population", False),
        ("finding", "finding", True),
        ("rob", "rob", False),
    ):
        value = raw.get(field, "")
        if not value:
            if required:
                c.add(field, f"no {field}", f"a {kind} term; see refs/README.md")
            continue
        term = _check_term(c, field, kind, value)
        if field == "design":
            design = term
    if design not in (None, "guideline") and not raw.get("population"):
        c.add("population", "no population", "a population term (acute, chronic, mixed, ...)")
    modalities = _list_values(c, "modality")
    if not modalities:
        c.add("modality", "no modality", "one or more modality terms separated by ';'")
    for value in modalities:
        _check_term(c, "modality", "modality", value)
    comparators = _list_values(c, "comparator")
    if design == "rct" and not comparators:
        c.add("comparator", "no comparator", "the control condition(s) of the trial")
    for value in comparators:
        _check_term(c, "comparator", "comparator", value)
    for value in _list_values(c, "rob_domains"):
        _check_term(c, "rob_domains", "rob", value)
    domains = c.record.get("rob_domains") or []
    if domains and len(domains) != 5:
        c.add("rob_domains", f"{len(domains)} judgements", "5 RoB 2 domain judgements (D1-D5) separated by ';'")
    bad_rob1 = [repr(v) for v in _list_values(c, "rob1") if rob1_judgement(v) is None]
    _add_each(c, "rob1", bad_rob1, "RoB 1 domain judgements 'domain: low|unclear|high' separated by ';'",
              "values that are not domain judgements")
    if (raw.get("rob") or raw.get("rob_domains") or raw.get("rob1")) and not raw.get("rob_source"):
        c.add("rob_source", "no rob_source", "the URL the risk-of-bias judgement was read on")
    _check_positive_int(c, "participants")
    _check_positive_int(c, "studies")
    _check_positive_int(c, "pedro", low=0, high=10)
    items = raw.get("pedro_items", "")
    if items:
        if not re.fullmatch(r"[01]{10}", items):
            c.add("pedro_items", repr(items), "10 digits 0/1 for PEDro items 2-11 (item 1 is not scored)")
        elif _as_int(raw.get("pedro", "")) is not None and sum(map(int, items)) != int(raw["pedro"]):
            c.add("pedro_items", f"items summing to {sum(map(int, items))}", f"a sum equal to pedro = {raw['pedro']}")
    if raw.get("pedro") and not raw.get("pedro_source"):
        c.add("pedro_source", "no pedro_source", "the URL of the PEDro record")
    declared_missing = {"doi", "pmid"} <= set(c.record.get("unverified") or [])
    if not (c.record.get("doi") or raw.get("pmid")) and not declared_missing:
        c.add("doi", "neither doi nor pmid", "a DOI or a PubMed id, so the entry can be checked (or, when no page "
              "showed either, `unverified = {doi; pmid}` so readers see it)")
    _check_sources(c, required=True)
    _check_citation_link(c)
    verified = raw.get("verified", "")
    if not verified:
        c.add("verified", "no verified date", "the date (YYYY-MM-DD) the entry was checked against its source")
    else:
        try:
            when = dt.date.fromisoformat(verified) if _DATE.match(verified) else None
        except ValueError:
            when = None
        if when is None:
            c.add("verified", repr(verified), "a date YYYY-MM-DD")
        elif when > c.today:
            c.add("verified", repr(verified), "a date not in the future")
    known = set(BIBLIOGRAPHIC_FIELDS) | set(EVIDENCE_FIELDS) | {"entry_type"}
    _add_each(c, "unverified", [repr(f) for f in c.record.get("unverified") or [] if f not in known],
              "names of fields of this entry", "names that are not fields")


def _check_unknown_fields(c: _Checker, known: tuple[str, ...]) -> None:
    for field in c.raw:
        if field not in known:
            close = difflib.get_close_matches(field, known, n=1, cutoff=0.75)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            c.add(field, f"unknown field '{field}'", f"a field from refs/README.md{hint}", severity="warning")


def check_record(record: Mapping, file: str, schema: str = "studies", today: dt.date | None = None) -> list[Problem]:
    """Return every problem of one record under ``schema`` (see module docstring).

    ``record`` holds ``key``, ``entry_type``, ``line``, ``doi`` (normalised),
    ``source``, ``unverified``, ``rob_domains`` (lists), ``_raw`` (field -> value with
    macros resolved; evidence fields decoded), ``_raw_lists`` (list fields split on
    ';') and ``_field_lines`` (field -> 1-based line). ``today`` (default: the date now)
    bounds years and verification dates; a reader checking thousands of records passes it
    once rather than asking the clock for each.
    """
    c = _Checker(record, file, schema, today)
    _check_bibliography(c)
    if schema != "bibliography":  # other people's files keep their own key style; imports get new keys
        _check_key(c)
    if schema == "studies":
        _check_evidence(c)
        _check_unknown_fields(c, BIBLIOGRAPHIC_FIELDS + EVIDENCE_FIELDS)
    elif schema == "printed":
        number = c.value("printed_number")
        if not number:
            c.add("printed_number", "no printed_number", "the citation's number in the article (1, 2, ...)")
        else:
            _check_positive_int(c, "printed_number")
        _check_sources(c, required=True, urls_only=False)  # the article itself may be a local file
        _check_unknown_fields(c, BIBLIOGRAPHIC_FIELDS + PRINTED_FIELDS)
    return c.problems
