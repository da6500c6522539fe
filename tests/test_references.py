"""read_references: decoding, columns, and one test per kind of bad input (issue 2)."""

from __future__ import annotations

import os
import re

import pandas as pd
import pytest

import lbpevidence as lbp
from conftest import VALID_FIELDS, bib_entry
from lbpevidence.errors import ReferenceTableError


def problems_of(path, schema="studies"):
    table, problems = lbp.read_references(path, strict=False, schema=schema)
    return table, problems


def only_error(path, schema="studies"):
    """The single error message for a file expected to have exactly one error."""
    _, problems = problems_of(path, schema)
    errors = problems[problems.severity == "error"]
    assert len(errors) == 1, errors.message.tolist()
    return errors.iloc[0]


# --- a valid entry ------------------------------------------------------------------------------


def test_valid_entry_is_decoded_into_documented_columns(write):
    path = write(bib_entry())
    refs = lbp.read_references(path)
    row = refs.iloc[0]
    assert row.key == "doe2020trial"
    assert row.entry_type == "article"
    assert row.line == 1
    assert row.authors == ["Doe, J.", "Müller, H."]
    assert row.first_author == "Doe"
    assert row.author_count == 2
    assert row.title == "A Trial of something"
    assert row.pages == "100–110"
    assert row.year == 2020 and refs["year"].dtype == "Int64"
    assert row.modality == ["acupuncture"]
    assert row.comparator == ["sham"]
    assert row.source == ["https://pubmed.ncbi.nlm.nih.gov/12345678/"]
    assert refs.attrs["path"] == str(path)


def test_latex_accents_braces_and_string_macros_are_decoded(write):
    text = '@string{lancet = "The {L}ancet"}\n' + bib_entry(
        author=r"Pe{\~n}a, Jos{\'e} and G{\"o}del, K.", title=r"{\'E}tude -- \emph{caf{\'e}}", journal="lancet"
    ).replace("journal = {lancet}", "journal = lancet")
    refs = lbp.read_references(write(text))
    row = refs.iloc[0]
    assert row.authors == ["Peña, J.", "Gödel, K."]
    assert row.title == "Étude – café"
    assert row.journal == "The Lancet"
    assert row.line == 2


def test_doi_is_lower_cased_without_resolver_and_synonyms_become_terms(write):
    refs = lbp.read_references(write(bib_entry(doi="https://doi.org/10.1001/ArchInternMed.2009.65",
                                               modality="Chiropractic; MBSR", comparator="usual care")))
    row = refs.iloc[0]
    assert row.doi == "10.1001/archinternmed.2009.65"
    assert row.modality == ["spinal-manipulation", "mindfulness"]
    assert row.comparator == ["usual-care"]


def test_others_marks_a_truncated_author_list(write):
    row = lbp.read_references(write(bib_entry(author="Doe, J. and Roe, R. and others"))).iloc[0]
    assert row.authors == ["Doe, J.", "Roe, R."] and bool(row.et_al) is True


def test_strict_false_returns_table_and_problems_frame(write):
    table, problems = problems_of(write(bib_entry(modality="acupunture")))
    assert len(table) == 1
    assert list(problems.columns) == ["file", "line", "key", "field", "found", "expected", "severity", "message"]


def test_strict_raises_every_problem_together(write):
    path = write(bib_entry("a", modality="acupunture") + bib_entry("b", design="rtc"))
    with pytest.raises(ReferenceTableError) as info:
        lbp.read_references(path)
    assert isinstance(info.value, ValueError)
    assert len(info.value.problems) == 2
    assert "a modality" in str(info.value) and "b design" in str(info.value)


# --- bad input: each names file:line key field, found and expected -------------------------------


def test_unbalanced_braces(write):
    path = write(bib_entry("good") + "\n@article{broken,\n  title = {Open {brace},\n  year = {2020},\n}\n")
    error = only_error(path)
    assert error.message.startswith(f"{path}:22 broken entry: found unbalanced braces")
    table, _ = problems_of(path)
    assert table.key.tolist() == ["good"]  # the broken entry is in the problems, the good one survives


def test_missing_comma_between_fields(write):
    text = bib_entry().replace("  title = {A {Trial} of something},", "  title = {A {Trial} of something}")
    error = only_error(write(text))
    assert re.search(r"studies\.bib:3 doe2020trial title: found missing comma before field 'journal'", error.message)


def test_duplicate_key(write):
    path = write(bib_entry("same") + bib_entry("same", title="Another"))
    error = only_error(path)
    assert f"{path}:21 same key: found duplicate key 'same', expected unique keys (first at line 1)" == error.message


def test_duplicate_field(write):
    text = bib_entry().replace("  year = {2020},\n", "  year = {2020},\n  year = {2021},\n")
    error = only_error(write(text))
    assert error.message.endswith(
        "studies.bib:6 doe2020trial year: found a second 'year' field, expected each field once (first at line 5)")


def test_unknown_entry_type(write):
    error = only_error(write(bib_entry(entry_type="artcle")))
    assert "studies.bib:1 doe2020trial entry_type: found '@artcle'" in error.message
    assert "did you mean '@article'?" in error.message


@pytest.mark.parametrize("field", ["author", "title", "year", "journal"])
def test_missing_required_field(write, field):
    error = only_error(write(bib_entry(drop=(field,))))
    assert error.key == "doe2020trial" and error.field == field and error.line == 1
    assert error.found == f"no {field}"


@pytest.mark.parametrize(("year", "expected"), [("20201", "a four-digit year"), ("2999", "a year not after")])
def test_bad_year(write, year, expected):
    error = only_error(write(bib_entry(year=year)))
    assert error.field == "year" and error.line == 5 and error.found == repr(year)
    assert error.expected.startswith(expected)


def test_malformed_doi(write):
    error = only_error(write(bib_entry(doi="doi 10/abc")))
    assert error.message.endswith(
        "doe2020trial doi: found 'doi 10/abc', expected a DOI like 10.1001/archinternmed.2009.65")


def test_pmid_not_all_digits(write):
    error = only_error(write(bib_entry(pmid="PMID:123")))
    assert (error.line, error.field, error.found) == (10, "pmid", "'PMID:123'")


@pytest.mark.parametrize(("field", "value", "hint"), [
    ("modality", "acupunture", "did you mean 'acupuncture'?"),
    ("design", "rtc", "did you mean 'rct'?"),
    ("comparator", "shma", "did you mean 'sham'?"),
    ("finding", "benefitt", "did you mean 'benefit'?"),
])
def test_unknown_vocabulary_terms_suggest_the_near_miss(write, field, value, hint):
    error = only_error(write(bib_entry(**{field: value})))
    assert error.field == field and error.found == repr(value) and hint in error.expected
    assert error.line == list(VALID_FIELDS).index(field) + 2


@pytest.mark.parametrize("value", ["0", "-5", "12.5", "many"])
def test_participants_must_be_a_positive_integer(write, value):
    error = only_error(write(bib_entry(participants=value)))
    assert (error.field, error.found, error.expected) == ("participants", repr(value), "a positive integer")


@pytest.mark.parametrize("value", ["11", "-1"])
def test_pedro_outside_0_to_10(write, value):
    error = only_error(write(bib_entry(pedro=value, pedro_source="https://search.pedro.org.au/x")))
    assert (error.field, error.expected) == ("pedro", "an integer from 0 to 10")


def test_pedro_items_must_sum_to_the_total(write):
    error = only_error(write(bib_entry(pedro="7", pedro_items="1111111100", pedro_source="https://pedro.org.au/x")))
    assert error.field == "pedro_items" and "sum equal to pedro = 7" in error.expected


def test_undefined_string_macro(write):
    text = bib_entry().replace("journal = {Spine}", "journal = spinejournal")
    error = only_error(write(text))
    assert error.message.endswith(
        "doe2020trial journal: found undefined @string macro 'spinejournal', expected fields separated by commas, "
        "values in {braces}, \"quotes\" or defined @string macros")
    assert error.line == 4


def test_empty_file(write):
    error = only_error(write(""))
    assert error.message.endswith("studies.bib: found no entries, expected at least one @type{key, ...} entry")


def test_file_not_found(tmp_path):
    with pytest.raises(ReferenceTableError, match=r"missing\.bib: found no such file, expected an existing \.bib"):
        lbp.read_references(tmp_path / "missing.bib")


def test_directory_instead_of_file(tmp_path):
    (tmp_path / "sub").mkdir()
    with pytest.raises(ReferenceTableError, match=r"sub: found a directory, expected a \.bib file"):
        lbp.read_references(tmp_path / "sub")


def test_bytes_that_are_not_utf8_are_a_located_problem(write):
    data = bib_entry().encode().replace(b"Spine", b"Sp\xe9ine")
    table, problems = problems_of(write(data))
    errors = problems[problems.severity == "error"]
    assert len(table) == 1  # the entry is kept, the bad byte reported
    assert errors.message.tolist() == [f"{errors.file.iloc[0]}:4 doe2020trial journal: found byte 0xe9 at column 16 "
                                       "that is not UTF-8, expected UTF-8 text (save the file as UTF-8)"]


def test_entry_without_source(write):
    error = only_error(write(bib_entry(drop=("source",))))
    assert (error.line, error.key, error.field, error.found) == (1, "doe2020trial", "source", "no source")


def test_entry_needs_doi_or_pmid(write):
    error = only_error(write(bib_entry(drop=("doi", "pmid"))))
    assert error.field == "doi" and error.found == "neither doi nor pmid"


# --- citation link (url) and provenance (seen_at), issue 15 ---------------------------------------


@pytest.mark.parametrize(("url", "kind"), [
    ("http://47.251.13.51:8081/16980316", "a raw IP address"),
    ("http://[2001:db8::1]/16980316", "a raw IP address"),
    ("https://de.scribd.com/document/261622673/a-review", "a mirror host 'de.scribd.com'"),
    ("https://www.deepdyve.com/lp/american-medical-association/x", "a mirror host 'www.deepdyve.com'"),
    ("http://chiro.org./Low_Back_Pain/x.shtml", "a mirror host 'chiro.org'"),
    ("https://0-bmcmedicine-biomedcentral-com.brum.beds.ac.uk/articles/10.1186/1741-7015-8-10",
     "a library proxy '0-bmcmedicine-biomedcentral-com.brum.beds.ac.uk'"),
    ("https://www-bmj-com.ezproxy.example.ac.uk/content/1", "a library proxy 'www-bmj-com.ezproxy.example.ac.uk'"),
])
def test_a_mirror_as_citation_link_is_an_error_on_url(write, url, kind):
    error = only_error(write(bib_entry(url=url)))
    assert (error.line, error.key, error.field) == (20, "doe2020trial", "url")
    assert error.found == f"{url!r} ({kind})"
    assert error.message.endswith(f"url: found {url!r} ({kind}), expected the paper's own page as citation link "
                                  "(its DOI at https://doi.org/, its PubMed record, PMC or the publisher); a mirror "
                                  "where facts were read belongs in seen_at or source")


@pytest.mark.parametrize("url", ["https://doi.org/10.1000/xyz123", "https://pubmed.ncbi.nlm.nih.gov/12345678/",
                                 "https://pmc.ncbi.nlm.nih.gov/articles/PMC2867967/",
                                 "https://bmcmedicine.biomedcentral.com/articles/10.1186/1741-7015-8-10",
                                 "https://www.bmj.com/content/333/7569/623",
                                 "https://notscribd.com/a",  # a host that only ends like a listed one
                                 "https://ohsu.pure.elsevier.com/en/publications/x"])
def test_the_papers_own_page_is_a_valid_citation_link(write, url):
    table, problems = problems_of(write(bib_entry(url=url)))
    assert problems.empty, problems.message.tolist()
    assert table.iloc[0].url == url


def test_a_mirror_is_accepted_as_provenance_in_source_and_seen_at(write):
    mirror = "http://47.251.13.51:8081/16980316"
    scribd = "https://www.scribd.com/document/476119669/The-McKenzie~Method"
    table, problems = problems_of(write(bib_entry(url="https://doi.org/10.1000/xyz123",
                                                  source=f"https://pubmed.ncbi.nlm.nih.gov/12345678/ {mirror}",
                                                  seen_at=f"{scribd}   {mirror}")))
    assert problems.empty, problems.message.tolist()
    row = table.iloc[0]
    assert row.seen_at == [scribd, mirror]  # whitespace-separated, '~' kept as in the URL
    assert row.source == ["https://pubmed.ncbi.nlm.nih.gov/12345678/", mirror]


def test_seen_at_must_hold_urls_like_source(write):
    error = only_error(write(bib_entry(seen_at="https://example.org/a www.scribd.com/document/1")))
    assert (error.field, error.found, error.expected) == ("seen_at", "'www.scribd.com/document/1'",
                                                         "http(s) URLs separated by spaces")


def test_seen_at_is_a_known_field_and_an_empty_list_when_absent(write):
    table, problems = problems_of(write(bib_entry()))
    assert problems.empty and table.iloc[0].seen_at == []
    assert "seen_at" in lbp.validation.EVIDENCE_FIELDS


def test_mirror_citation_link_is_not_checked_in_printed_citations(write):
    """article.bib holds citations exactly as printed: a printed mirror URL is what the article printed."""
    text = ("@article{printed1,\n  author = {Doe, J},\n  title = {T},\n  journal = {Spine},\n  year = {2020},\n"
            "  url = {https://www.scribd.com/document/1},\n  printed_number = {1},\n  source = {shared/a.txt},\n"
            "  location = {reference list, item 1},\n}\n")
    _, problems = problems_of(write(text, "article.bib"), schema="printed")
    assert problems.empty, problems.message.tolist()


def test_mirror_hosts_constant_is_lower_case_host_names():
    from lbpevidence.validation import MIRROR_HOSTS, mirror_kind

    assert all(host == host.lower().strip() and "." in host and "/" not in host for host in MIRROR_HOSTS)
    assert all(mirror_kind(f"https://{host}/x") for host in MIRROR_HOSTS)
    assert mirror_kind("not a url") is None and mirror_kind("") is None


def test_format_entry_writes_seen_at_space_separated_and_verbatim():
    from lbpevidence.refsio import format_entry

    text = format_entry({"key": "doe2020trial", "title": "T", "source": ["https://pubmed.ncbi.nlm.nih.gov/1/"],
                         "seen_at": ["https://www.scribd.com/doc/a_b%20c", "http://47.251.13.51:8081/1"]})
    assert "  seen_at      = {https://www.scribd.com/doc/a_b%20c http://47.251.13.51:8081/1},\n" in text
    assert text.index("  source ") < text.index("  seen_at ") < text.index("}\n")


def test_bundled_citation_links_are_the_papers_own_pages():
    """Every bundled entry with a DOI or PMID links to its DOI resolver or PubMed record (issue 15)."""
    refs = lbp.read_references()
    identified = refs[(refs.doi != "") | (refs.pmid != "")]
    canonical = identified.url.str.startswith(("https://doi.org/", "https://pubmed.ncbi.nlm.nih.gov/"))
    assert canonical.all(), identified.loc[~canonical, ["key", "url"]].to_string()


def test_text_that_lost_its_at_sign_is_reported_not_dropped(write):
    _, problems = problems_of(write(bib_entry("kept") + "article{lost, title = {x}}\n"))
    assert problems.message.str.contains("lost entry: found text that looks like an entry without '@'").any()


def test_no_entry_is_dropped_silently(write):
    """Every entry in the file is in the table or named in the problems."""
    text = (bib_entry("a") + "@article{b, title = {unclosed}\n" + bib_entry("c") + bib_entry("c")
            + "@article{d,\n title={x},\n title={y}\n}\n")
    table, problems = problems_of(write(text))
    named = set(table.key) | set(problems.key)
    assert {"a", "b", "c", "d"} <= named


def test_unknown_field_is_a_warning_with_suggestion(write):
    _, problems = problems_of(write(bib_entry(modaliy="yoga")))
    row = problems[problems.field == "modaliy"].iloc[0]
    assert row.severity == "warning" and "did you mean 'modality'?" in row.expected


def test_bibliography_schema_turns_content_rules_into_warnings(write):
    table, problems = problems_of(write("@article{x, title = {T}}\n"), schema="bibliography")
    assert len(table) == 1 and set(problems.severity) == {"warning"}


def test_bad_schema_argument_names_allowed_values():
    with pytest.raises(ValueError, match=r"The value for `schema` must be one of \['studies', 'printed', "
                                         r"'bibliography'\], but 'x' was passed\."):
        lbp.read_references(schema="x")


# --- bundled table --------------------------------------------------------------------------------


def test_bundled_table_loads_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    refs = lbp.read_references()
    assert len(refs) > 0 and os.path.isabs(refs.attrs["path"])


def test_explicit_path_wins_over_bundled(write):
    refs = lbp.read_references(write(bib_entry("only")))
    assert refs.key.tolist() == ["only"]


def test_printed_schema_reads_the_article_citations():
    printed = lbp.read_references(schema="printed")
    assert printed.printed_number.tolist() == [1, 2, 3, 4]
    assert isinstance(printed, pd.DataFrame)


@pytest.mark.parametrize("count", [0, 1, 3])
def test_problems_frame_is_the_frame_of_the_problems_as_rows(count):
    from dataclasses import asdict

    from lbpevidence.errors import PROBLEM_COLUMNS, Problem, problems_frame

    problems = [Problem(f"f{i}.bib", i, f"key{i}", "title", "no title", "a title", "warning" if i else "error")
                for i in range(count)]
    rows = pd.DataFrame([{**asdict(p), "message": str(p)} for p in problems], columns=PROBLEM_COLUMNS)
    frame = problems_frame(problems)
    pd.testing.assert_frame_equal(frame, rows)
    frame["extra"] = 1  # a caller may change its copy ...
    assert list(problems_frame([]).columns) == PROBLEM_COLUMNS  # ... without changing the next empty frame


def test_rob1_judgements_are_checked_and_need_their_source(write):
    path = write(bib_entry(rob1="Allocation concealment: Low risk; blinding", rob_source="https://example.org/t"))
    table, problems = lbp.read_references(path, strict=False)
    assert [m.split(": found ", 1)[1] for m in problems["message"]] == [
        "'blinding', expected RoB 1 domain judgements 'domain: low|unclear|high' separated by ';'"]
    assert table["rob1"].iloc[0] == ["Allocation concealment: Low risk", "blinding"]
    _, problems = lbp.read_references(write(bib_entry(rob1="Allocation concealment: Low risk")), strict=False)
    assert problems["field"].tolist() == ["rob_source"]
