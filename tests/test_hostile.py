"""Hostile input, round two (issue 16): no traceback, no hang, no injection, nothing lost.

Each test is named after the class of bad input it protects (``test_injection_...``,
``test_race_...``, ``test_data_loss_...``, ``test_terminal_escaping_...``, ``test_csv_escaping_...``,
``test_html_escaping_...``, ``test_hang_...``, ``test_encoding_...``, ``test_size_...``,
``test_actionable_...``, ``test_key_rule_...``); docs/bad-inputs.md lists the classes and what each gets.
The last section is a property test: real entries and CSV rows, mutated, through the command line.
"""

from __future__ import annotations

import csv
import errno
import io
import itertools
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lbpevidence as lbp
from conftest import REPO, bib_entry
from lbpevidence import refsio
from lbpevidence.cli import format_table, main
from lbpevidence.errors import ReferenceTableError
from lbpevidence.importers import apply_evidence, check_source_template
from lbpevidence.references import MAX_EXPANDED_VALUE, parse_bibtex
from lbpevidence.refsio import append_entries, latex_escape
from lbpevidence.safety import markdown_safe, spreadsheet_safe, terminal_safe
from lbpevidence.textio import read_input

OPTIONS = ["--modality", "yoga", "--design", "rct", "--population", "chronic", "--comparator", "usual-care",
           "--finding", "benefit", "--location", "PubMed abstract", "--verified", "2025-01-02",
           "--source", "https://pubmed.ncbi.nlm.nih.gov/{pmid}/"]


def nbib(pmid: str = "90000001", title: str = "Yoga for chronic low back pain: a randomised trial") -> str:
    return (f"PMID- {pmid}\nTI  - {title}.\nFAU - Doe, Jane\nAU  - Doe J\nTA  - J Fict Res\nDP  - 2021 Mar\n"
            "PG  - 112-9\nLID - 10.5555/jfr.2021.0112 [doi]\n")


@pytest.fixture(autouse=True)
def _no_disk_cache(monkeypatch):
    monkeypatch.setenv("LBPEVIDENCE_NO_CACHE", "1")


@pytest.fixture
def refs(tmp_path) -> Path:
    """A copy of the bundled refs/ (README.md left out)."""
    folder = tmp_path / "refs"
    shutil.copytree(lbp.bundled_refs(), folder, ignore=shutil.ignore_patterns("README.md"))
    return folder


@pytest.fixture
def small(tmp_path) -> Path:
    """A refs/ folder holding a one-entry studies.bib."""
    folder = tmp_path / "small"
    folder.mkdir()
    (folder / "studies.bib").write_text(bib_entry(), encoding="utf-8")
    return folder


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@contextmanager
def deadline(seconds: int):
    """Fail (rather than hang the suite) when the block blocks longer than ``seconds``."""
    def expired(*_):
        raise TimeoutError(f"blocked for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- security and data loss ------------------------------------------------------------------------------


@pytest.fixture
def git_refs(tmp_path, refs) -> Path:
    """refs/ inside a git repository with one commit."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, env=env, capture_output=True)
    return refs


@pytest.mark.parametrize("base", ["--output=PWNED", "-p", "--output", "-"])
def test_injection_diff_base_that_looks_like_an_option_is_refused(git_refs, capsys, monkeypatch, base):
    monkeypatch.chdir(git_refs.parent)
    before = sorted(p.name for p in git_refs.parent.iterdir())
    code, out, err = run_main(capsys, "diff", f"--base={base}", "--refs", str(git_refs))
    assert code == 2 and out == ""
    assert f"must be a folder or a git revision (a branch, tag or commit; not starting with '-'), but {base!r}" in err
    assert sorted(p.name for p in git_refs.parent.iterdir()) == before  # git wrote no file


def test_injection_diff_base_must_name_a_commit(git_refs, capsys):
    code, _, err = run_main(capsys, "diff", "--base", "HEAD:refs", "--refs", str(git_refs))
    assert code == 2 and "git knows no such commit" in err
    code, out, _ = run_main(capsys, "diff", "--base", "HEAD", "--refs", str(git_refs))
    assert code == 0 and out.startswith("## Review changes")


def test_injection_no_subprocess_gets_user_text_as_an_option():
    """The revision is verified after --end-of-options, and `git show` reads the verified commit id."""
    source = (REPO / "src" / "lbpevidence" / "cli.py").read_text(encoding="utf-8")
    assert source.count("subprocess.run(") == 3 and source.count("subprocess.run([*_GIT,") == 3
    assert '"rev-parse", "--verify", "--quiet", "--end-of-options",' in source
    assert '"show", "--no-textconv", "--end-of-options",\n' in source and 'f"{sha}:{inside}/{name}"' in source
    assert 'f"{base}:' not in source


@pytest.mark.parametrize("template", ["https://x.org/{pmid}{pmid.__class__}", "https://x.org/{pmid.__class__}",
                                      "https://x.org/{0}", "https://x.org/{pmid", "https://x.org/}{pmid}",
                                      "https://x.org/{pmid!r}", "https://x.org/{doi:>99999999}"])
def test_injection_source_template_substitutes_named_fields_only(small, tmp_path, capsys, template):
    with pytest.raises(ValueError, match=r"may hold only the placeholders \{pmid\}, \{doi\} and \{key\}"):
        check_source_template(template)
    records = pd.DataFrame({"key": ["doe2021yoga"], "pmid": ["90000001"], "doi": [""]})
    with pytest.raises(ValueError):
        apply_evidence(records, source=template)
    export = tmp_path / "one.nbib"
    export.write_text(nbib(), encoding="utf-8")
    before = (small / "studies.bib").read_bytes()
    code, out, err = run_main(capsys, "add", str(export), "--refs", str(small), *OPTIONS[:-2], "--source", template)
    assert code == 2 and "<class" not in out + err and "Traceback" not in err
    assert "a URL may hold only the placeholders {pmid}, {doi} and {key}" in err
    assert (small / "studies.bib").read_bytes() == before


def test_injection_source_template_fills_the_three_names(small):
    records = pd.DataFrame({"key": ["doe2021yoga"], "pmid": ["90000001"], "doi": ["10.1/{pmid}"]})
    out = apply_evidence(records, source="https://x.org/{pmid}/{key} https://doi.org/{doi}")
    assert out.loc[0, "source"] == ["https://x.org/90000001/doe2021yoga", "https://doi.org/10.1/{pmid}"]


@pytest.mark.parametrize("field", ["url", "rob_source", "pedro_source"])
@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
                                 "file:///etc/passwd", "JaVaScRiPt:alert(1)", "https://"])
def test_injection_links_must_be_http_urls(write, field, url):
    extra = {"rob": "low"} if field == "rob_source" else {"pedro": "7"} if field == "pedro_source" else {}
    _table, problems = lbp.read_references(write(bib_entry(**{field: url}, **extra)), strict=False)
    bad = problems[problems.field == field]
    assert bad.message.str.contains(f"found {url!r}, expected one http(s) URL", regex=False).any(), problems.message


def test_injection_overrides_source_url_must_be_http(tmp_path):
    path = tmp_path / "overrides.csv"
    path.write_text("modality,outcome,comparator_class,window,domain,change,rationale,source_url\n"
                    "yoga,pain,any,any,indirectness,-1,Chair yoga only,javascript:alert(1)\n", encoding="utf-8")
    _, problems = lbp.read_overrides(path, strict=False)
    assert problems.message.tolist() == [f"{path}:2 yoga/pain source_url: found 'javascript:alert(1)', expected an "
                                         "http(s) URL, or an empty cell"]


def _add_thread(export: Path, folder: Path, codes: list) -> threading.Thread:
    return threading.Thread(target=lambda: codes.append(main(["add", str(export), "--refs", str(folder),
                                                              *OPTIONS])))


def test_race_two_adds_of_one_pmid_append_it_once(small, tmp_path, monkeypatch, capsys):
    """Run B starts while run A has checked for duplicates and not yet appended: the lock makes B wait
    and then find A's entry. Without it, B appends in the gap and A appends the same PMID again."""
    first, second = tmp_path / "a.nbib", tmp_path / "b.nbib"
    first.write_text(nbib(title="Yoga for chronic low back pain"), encoding="utf-8")
    second.write_text(nbib(title="A different title of the same trial"), encoding="utf-8")  # another key
    import lbpevidence.importers as importers

    real = importers.find_duplicates
    other: list = []
    codes: list[int] = []

    def find_then_let_the_other_run_go(records, existing, *args, **kwargs):
        result = real(records, existing, *args, **kwargs)
        if not other:  # only in run A
            other.append(_add_thread(second, small, codes))
            other[0].start()
            other[0].join(timeout=3)  # without a lock, B finishes here; with it, B waits for A
        return result

    monkeypatch.setattr(importers, "find_duplicates", find_then_let_the_other_run_go)
    codes.append(main(["add", str(first), "--refs", str(small), *OPTIONS]))
    other[0].join(timeout=60)
    text = (small / "studies.bib").read_text(encoding="utf-8")
    assert text.count("90000001") == 2, "the PMID was appended twice (once per run)"  # pmid and its source URL
    assert sorted(codes) == [0, 1]
    assert "duplicate of existing entry doe2021yoga" in capsys.readouterr().out


@pytest.mark.slow
def test_race_concurrent_add_processes_append_one_pmid_once(small, tmp_path):
    exports = []
    for i in range(4):
        exports.append(tmp_path / f"v{i}.nbib")
        exports[-1].write_text(nbib(title=f"Variant {i} of one trial"), encoding="utf-8")
    runs = [subprocess.Popen([sys.executable, "-m", "lbpevidence", "add", str(e), "--refs", str(small), *OPTIONS],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE) for e in exports]
    codes = [run.wait(timeout=120) for run in runs]
    assert sorted(codes) == [0, 1, 1, 1]
    assert (small / "studies.bib").read_text(encoding="utf-8").count("pmid         = {90000001}") == 1


def test_data_loss_symlinked_studies_bib_stays_a_link_with_its_mode(tmp_path, capsys):
    real_dir, link_dir = tmp_path / "real", tmp_path / "link"
    real_dir.mkdir()
    link_dir.mkdir()
    real = real_dir / "studies.bib"
    real.write_text(bib_entry(), encoding="utf-8")
    real.chmod(0o640)
    (link_dir / "studies.bib").symlink_to(Path("..") / "real" / "studies.bib")
    export = tmp_path / "one.nbib"
    export.write_text(nbib(), encoding="utf-8")
    code, _, _ = run_main(capsys, "add", str(export), "--refs", str(link_dir), *OPTIONS, "--backup")
    assert code == 0
    assert (link_dir / "studies.bib").is_symlink() and os.readlink(link_dir / "studies.bib") == "../real/studies.bib"
    assert "doe2021yoga" in real.read_text(encoding="utf-8")
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert (real_dir / "studies.bib.bak").read_text(encoding="utf-8") == bib_entry()
    assert sorted(p.name for p in real_dir.iterdir()) == ["studies.bib", "studies.bib.bak"]


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
def test_data_loss_the_files_newline_style_is_kept(write, newline):
    old = bib_entry().replace("\n", newline).encode()
    path = write(old)
    record = {"key": "roe2021yoga", "authors": ["Roe, R."], "title": "Yoga", "journal": "J", "year": 2021,
              "pmid": "90000002", "modality": ["yoga"], "design": "rct", "population": "chronic",
              "comparator": ["usual-care"], "finding": "benefit", "source": ["https://x.org/1"],
              "location": "abstract", "verified": "2025-01-01"}
    append_entries(path, [record])
    data = path.read_bytes()
    assert data.startswith(old)
    added = data[len(old):]
    assert added.count(newline.encode()) >= 10
    for other in {"\r\n", "\r", "\n"} - {newline}:
        if other not in newline:
            assert other.encode() not in added.replace(newline.encode(), b"")
    assert lbp.read_references(path).key.tolist() == ["doe2020trial", "roe2021yoga"]


def test_data_loss_a_hard_linked_table_is_refused_not_split(write):
    path = write(bib_entry())
    os.link(path, path.with_name("other.bib"))
    with pytest.raises(ReferenceTableError, match="found a file with 2 hard links"):
        append_entries(path, bib_entry("roe2021yoga"))
    assert path.read_text(encoding="utf-8") == bib_entry()


def test_data_loss_temporary_files_of_a_killed_write_are_reported_then_removed(small, tmp_path, capsys):
    leftover = small / ".studies.bib.k1ll3d.tmp"
    leftover.write_text("half a file", encoding="utf-8")
    code, out, _ = run_main(capsys, "validate", str(small / "studies.bib"))
    assert code == 0 and f"warning: {leftover}: found a temporary file left by an interrupted write" in out
    export = tmp_path / "one.nbib"
    export.write_text(nbib(), encoding="utf-8")
    code, out, _ = run_main(capsys, "add", str(export), "--refs", str(small), *OPTIONS, "--dry-run")
    assert code == 0 and leftover.exists() and "it would be removed" in out
    code, out, _ = run_main(capsys, "add", str(export), "--refs", str(small), *OPTIONS)
    assert code == 0 and not leftover.exists() and "removed" in out
    assert sorted(p.name for p in small.iterdir()) == ["studies.bib"]


@pytest.mark.parametrize(("where", "error", "said"), [
    ("write", errno.ENOSPC, "found the write failed (ENOSPC: No space left on device), expected free space on the "
                            "disk; the file was not changed"),
    ("mkstemp", errno.EACCES, "found the write failed (EACCES: Permission denied), expected permission to create "
                              "files in"),
    ("mkstemp", errno.EROFS, "found the write failed (EROFS: Read-only file system), expected a file system that is "
                             "not read-only"),
])
def test_data_loss_full_disk_and_read_only_folder_say_what_failed(small, tmp_path, monkeypatch, capsys, where,
                                                                   error, said):
    before = (small / "studies.bib").read_bytes()
    export = tmp_path / "one.nbib"
    export.write_text(nbib(), encoding="utf-8")

    def fail(*args, **kwargs):
        raise OSError(error, os.strerror(error))

    real_write = os.write
    if where == "write":  # half of the data reaches the temporary file, then the disk is full
        monkeypatch.setattr(refsio.os, "write", lambda fd, data: (real_write(fd, bytes(data[:10])), fail())[1])
    else:
        monkeypatch.setattr(refsio.tempfile, "mkstemp", fail)
    code, out, err = run_main(capsys, "add", str(export), "--refs", str(small), *OPTIONS)
    monkeypatch.undo()
    assert code == 1 and "Traceback" not in err
    assert f"{small / 'studies.bib'}: found the write failed" in out and said in out
    assert "cannot write; nothing was changed" in err
    assert (small / "studies.bib").read_bytes() == before
    assert sorted(p.name for p in small.iterdir()) == ["studies.bib"]


def test_terminal_escaping_of_table_audit_summary_and_validate(tmp_path, refs, capsys):
    evil = "doe\x1b[31mred\x9b2J\u202e"
    path = tmp_path / "evil.bib"
    path.write_text(bib_entry(evil, title="T\x1b]0;pwned\x07itle") + bib_entry("roe2020x", summary="\x1b[2J"),
                    encoding="utf-8")
    outputs = []
    for args in (["validate", str(path)], ["table", str(path)],
                 ["table", str(path), "--schema", "bibliography", "--format", "markdown"],
                 ["table", str(path), "--schema", "bibliography", "--format", "csv"],
                 ["table", str(path), "--schema", "bibliography"]):
        code, out, err = run_main(capsys, *args)
        assert code in (0, 1)
        outputs.append(out + err)
    (refs / "article.bib").write_text((refs / "article.bib").read_text(encoding="utf-8").replace(
        "@article{printed1,", "@article{printed1\x1b[8m,", 1), encoding="utf-8")
    (refs / "studies.bib").write_text(bib_entry(evil) + (refs / "studies.bib").read_text(encoding="utf-8"),
                                      encoding="utf-8")
    for args in (["audit", str(refs)], ["summary", str(refs)]):
        code, out, err = run_main(capsys, *args)
        assert code == 1
        outputs.append(out + err)
    for text in outputs:
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]", text), repr(text)
    assert "doe\\x1b[31mred\\u009b2J\\u202e" in outputs[0] and "T\\x1b]0;pwned\\x07itle" in outputs[2]


def test_terminal_escaping_keeps_json_valid():
    assert terminal_safe('{"a": "\u009b\u202e\x7f\udcff"}') == '{"a": "\\u009b\\u202e\\u007f\\udcff"}'
    import json

    assert json.loads(terminal_safe('"\u009b\u202e\x7f"')) == "\u009b\u202e\x7f"


def test_csv_escaping_neutralises_formulas_and_keeps_numbers(write, capsys):
    titles = ['=HYPERLINK("http://evil","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", " =1"]
    path = write("".join(bib_entry(f"doe2020x{i}", title=t) for i, t in enumerate(titles)))
    code, out, _ = run_main(capsys, "table", str(path), "--format", "csv", "--columns", "key,title,year")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))[1:]
    assert [r[1] for r in rows] == ["'" + t for t in titles]
    assert {r[2] for r in rows} == {"2020"}
    assert spreadsheet_safe("-1.5") == "-1.5" and spreadsheet_safe(-3) == -3 and spreadsheet_safe("a=b") == "a=b"
    assert spreadsheet_safe("\t=1") == "'\t=1" and spreadsheet_safe("\r-1") == "'\r-1"
    frame = pd.DataFrame({"estimate": [-1.5], "note": ["-1.5"], "formula": ["=1+1"]})
    assert format_table(frame, "csv").splitlines()[1] == "-1.5,-1.5,'=1+1"


def test_html_escaping_of_markdown_exports(write, capsys):
    path = write(bib_entry(title="<img src=x onerror=alert(1)> &amp; <script>x</script> | pipe"))
    code, out, _ = run_main(capsys, "table", str(path), "--columns", "key,title", "--format", "markdown")
    assert code == 0
    row = out.splitlines()[2]
    assert "<" not in row and ">" not in row
    assert "&lt;img src=x onerror=alert(1)&gt; &amp;amp; &lt;script&gt;x&lt;/script&gt; \\| pipe" in row
    assert markdown_safe("Tai chi & yoga") == "Tai chi & yoga"  # a plain '&' stays readable


def test_html_escaping_of_the_audit_explanations(refs, capsys):
    """An unknown printed author is quoted in the explanation lines of `audit` (markdown)."""
    path = refs / "article.bib"
    text = path.read_text(encoding="utf-8")
    at = text.index("{", text.index("author"))
    path.write_text(text[:at + 1] + "Zzyzx<img src=x onerror=alert(1)>, Q. and " + text[at + 1:], encoding="utf-8")
    code, out, _ = run_main(capsys, "audit", str(refs), "--format", "markdown")
    line = next(line for line in out.splitlines() if "Zzyzx" in line)
    assert code == 0 and "Zzyzx&lt;img src=x onerror=alert(1)&gt; is an author of none of them" in line
    assert "<img" not in out


# --- tracebacks and hangs --------------------------------------------------------------------------------


def laughs(levels: int, entry: str = "") -> str:
    text = '@string{a0 = "xxxxxxxxxx"}\n'
    for i in range(1, levels + 1):
        text += f"@string{{a{i} = " + " # ".join([f"a{i - 1}"] * 10) + "}\n"
    return text + entry


def test_size_billion_laughs_is_capped_with_a_clear_error():
    text = laughs(9, bib_entry(journal="a9 # a9").replace("journal = {a9 # a9}", "journal = a9 # a9"))
    table, problems = parse_bibtex(text, "studies.bib")  # 10^10 characters if expanded
    macro = [p for p in problems if p.field == "@string"]
    assert [(p.line, p.key) for p in macro] == [(7, "a6")]  # a6 would be 10^7 characters
    assert str(macro[0]).startswith("studies.bib:7 a6 @string: found @string macros expanding to more than "
                                    "1,048,576 characters, expected at most 1,048,576 characters per value")
    assert "billion laughs" in str(macro[0])
    assert len(table) == 1 and len(table.journal.iloc[0]) <= MAX_EXPANDED_VALUE


def test_size_a_42_mb_expansion_is_refused_and_the_file_budget_holds():
    table, problems = parse_bibtex(laughs(6, "@article{x, title = a6 # a5 # a5, year = 2000}\n"), "x.bib",
                                   schema="bibliography")
    assert any(p.key == "a6" and "more than 1,048,576" in p.found for p in problems)
    big = '@string{big = "' + "y" * 900_000 + '"}\n'
    many = "".join(f'@article{{k{i}, title = big # "z", year = 2000}}\n' for i in range(80))
    table, problems = parse_bibtex(big + many, "x.bib", schema="bibliography")
    over = [p for p in problems if "67,108,864" in p.found]
    assert len(table) == 80 and over and over[0].key == f"k{(64 << 20) // 900_001}"
    assert sum(len(t) for t in table.title) < (64 << 20) + 80 * 1_000_000


def test_size_hash_concatenation_of_many_parts_is_read_whole():
    parts = 200_000
    text = '@string{a = "x"}\n@article{k, title = ' + " # ".join(["a", "{y}", '"z"', "1"] * (parts // 4)) + \
        ", year = 2000}\n"
    table, _problems = parse_bibtex(text, "x.bib", schema="bibliography")
    assert table.title.iloc[0] == "xyz1" * (parts // 4)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory-link"])
def test_hang_only_regular_files_are_read(tmp_path, small, capsys, kind):
    special = tmp_path / "special"
    if kind == "fifo":
        os.mkfifo(special)
        found = "a FIFO (named pipe)"
    elif kind == "dev-zero":
        special.symlink_to("/dev/zero")
        found = "a character device"
    else:
        special.symlink_to(tmp_path)
        found = "a directory"
    with deadline(20):
        data, problem = read_input(special)
        assert data is None and problem.found == found
        for name, read in (("studies.bib", lambda p: lbp.read_references(p, strict=False)),
                           ("outcomes.csv", lambda p: lbp.read_outcomes(p, strict=False)),
                           ("overrides.csv", lambda p: lbp.read_overrides(p, strict=False)),
                           ("claims.csv", lambda p: lbp.read_claims(p, strict=False))):
            target = small / name
            if target.exists():
                target.unlink()
            os.symlink(special, target)
            _, problems = read(target)
            assert problems.found.tolist() in ([found], ["a directory"]), problems.message.tolist()
            if name != "studies.bib":
                target.unlink()
        (small / "claims.csv").symlink_to(special)
        code, out, err = run_main(capsys, "validate", str(small))
        assert code == 1 and f"found {found}" in out + err
        code, out, err = run_main(capsys, "summary", str(small))
        assert code == 1 and f"found {found}" in err
        _, problems = lbp.import_records(special, "medline", strict=False)
        assert problems.found.tolist() == [found]
        with pytest.raises(ReferenceTableError, match=f"found {re.escape(found)}, expected an existing .bib file"):
            append_entries(special, bib_entry("roe2021yoga"))


def test_hang_a_symlink_loop_is_a_problem(tmp_path):
    loop = tmp_path / "studies.bib"
    loop.symlink_to(loop)
    _, problems = lbp.read_references(loop, strict=False)
    assert problems.found.tolist() == ["a file that cannot be read (ELOOP: Too many levels of symbolic links)"]


def test_encoding_a_refs_folder_whose_name_is_not_utf8(tmp_path, refs, capsys, monkeypatch):
    monkeypatch.delenv("LBPEVIDENCE_NO_CACHE")  # the cache key is where the name broke
    odd = Path(os.fsdecode(os.fsencode(tmp_path) + b"/refs\xff"))
    refs.rename(odd)
    code, out, err = run_main(capsys, "validate", str(odd))
    assert code == 0 and "refs\\udcff" in err
    (odd / "studies.bib").write_text(bib_entry(modality="acupunture"), encoding="utf-8")
    code, out, err = run_main(capsys, "validate", str(odd / "studies.bib"))
    assert code == 1 and out.startswith(f"{tmp_path}/refs\\udcff/studies.bib:11 doe2020trial modality")
    assert len(lbp.read_references(odd / "studies.bib", strict=False)[0]) == 1


OVERRIDE_HEADER = "modality,outcome,comparator_class,window,domain,change,rationale,source_url\n"


@pytest.mark.parametrize(("content", "expected"), [
    ((OVERRIDE_HEADER + "yoga,pain,any,any,indirectness,-1,Caf\u00e9 only,\n").encode("latin-1"),
     ["overrides.csv:2 yoga/pain rationale: found byte 0xe9 at column 38 that is not UTF-8, expected UTF-8 text "
      "(save the file as UTF-8)"]),
    ((OVERRIDE_HEADER + "yoga,pain,any,any,indirectness,-1,Chair yoga only,\n").encode("utf-16"),
     ["overrides.csv:1 encoding: found UTF-16 text (byte-order mark FF FE), expected UTF-8 text (save the file as "
      "UTF-8)"]),
    (OVERRIDE_HEADER + "yoga,pain,any\n",
     ["overrides.csv:2 yoga/pain: found 3 cells, expected 8 cells as in the header",
      "overrides.csv:2 yoga/pain change: found '', expected -2, -1, +1 or +2",
      "overrides.csv:2 yoga/pain domain: found '', expected one of ['risk_of_bias', 'inconsistency', 'imprecision', "
      "'publication_bias', 'indirectness']",
      "overrides.csv:2 yoga/pain rationale: found an empty cell, expected the reason for the judgement, in a "
      "sentence",
      "overrides.csv:2 yoga/pain window: found '', expected one of ['immediate', 'short-term', 'intermediate', "
      "'long-term', 'unspecified', 'any']"]),
    (OVERRIDE_HEADER + 'yoga,pain,any,any,indirectness,-1,"Two\nlines",\nyogaa,pain,any,any,indirectness,-1,x,\n',
     ["warning: overrides.csv:2 yoga/pain rationale: found a quoted cell running over lines 2-3, expected one line "
      "per row (a quote left open swallows the rows after it)",
      "overrides.csv:4 yogaa/pain modality: found 'yogaa', expected a known modality (did you mean 'yoga'?)"]),
    (OVERRIDE_HEADER + "yoga,pain,any,any,indirectness,-1,x,\nyoga,pain,any,any,indirectness,-1,y,\n",
     ["overrides.csv:3 yoga/pain domain: found a second indirectness judgement for the same analysis (first at line "
      "2), expected one judgement per analysis and domain (both would apply)"]),
    ("", ["overrides.csv: found an empty file, expected a header row and one row per judgement"]),
], ids=["latin-1", "utf-16", "short-row", "line-after-a-multi-line-cell", "twice", "empty"])
def test_encoding_overrides_in_other_encodings_and_short_rows_are_located(tmp_path, content, expected):
    path = tmp_path / "overrides.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    _, problems = lbp.read_overrides(path, strict=False)
    shown = [("warning: " if s == "warning" else "") + m.replace(f"{tmp_path}/", "")
             for m, s in zip(problems.message, problems.severity, strict=True)]
    assert shown == expected


@pytest.mark.parametrize(("cells", "column", "expected"), [
    ({"estimate": "-1e300", "ci_low": "-1e301", "ci_high": "1e300"}, "estimate",
     "found '-1e300', expected a number from -1,000,000 to 1,000,000"),
    ({"estimate": "25", "ci_low": "20", "ci_high": "30"}, "estimate",
     "found '25', expected a standardised mean difference from -10 to 10"),
    ({"estimate": "", "ci_low": "", "ci_high": "", "se": "1e-300"}, "se",
     "found '1e-300', expected a positive number of at least 1e-06"),
])
def test_size_absurd_numbers_are_rejected_at_load_with_their_row(refs, capsys, cells, column, expected):
    path = refs / "outcomes.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    index = next(i for i, r in enumerate(rows) if r["effect_type"] == "SMD")
    rows[index].update(cells)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    table, problems = lbp.read_outcomes(path, strict=False)
    hit = problems[(problems.line == index + 2) & (problems.field == column)]
    assert hit.message.str.contains(expected, regex=False).any(), problems.message.tolist()
    assert len(table) == len(rows) and not table.valid.iloc[index]
    code, _, err = run_main(capsys, "summary", str(refs))
    assert code == 1 and expected in err and "Traceback" not in err


def test_report_onto_an_existing_file_is_a_usage_error(tmp_path, capsys):
    target = tmp_path / "report.html"
    target.write_text("keep me", encoding="utf-8")
    code, _out, err = run_main(capsys, "report", "-o", str(target))
    assert code == 2 and "found an existing file, expected a folder" in err
    assert target.read_text(encoding="utf-8") == "keep me"


def test_report_into_a_folder_that_cannot_be_written_says_so(tmp_path, capsys, monkeypatch):
    import lbpevidence.report as report

    def refuse(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(report, "execute_notebooks", lambda paths, **kwargs: [])
    monkeypatch.setattr(Path, "mkdir", refuse)
    code, _, err = run_main(capsys, "report", "-o", str(tmp_path / "out"))
    assert code == 1 and "Traceback" not in err
    assert f"cannot write the report in {tmp_path / 'out'}: Permission denied ({tmp_path / 'out'})" in err


def test_report_a_figure_that_fails_to_draw_fails_the_run():
    import nbformat

    from lbpevidence.errors import LbpEvidenceError
    from lbpevidence.report import _raise_for_failed_outputs

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1"), nbformat.v4.new_code_cell("fig")])
    nb.cells[1].outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="bad mathtext", traceback=[])]
    with pytest.raises(LbpEvidenceError, match=r"03-meta-analysis.ipynb, cell 2: its output failed \(ValueError: "
                                               r"bad mathtext\); the report was not written"):
        _raise_for_failed_outputs("03-meta-analysis", nb)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stderr", text="a warning")]
    _raise_for_failed_outputs("03-meta-analysis", nb)  # a warning is not a failure


def test_report_plot_labels_are_literal_text(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from lbpevidence import plots

    rows = pd.DataFrame({"study": ["Doe$x^$ 2004", "Roe $5 2010"], "yi": [-1.0, -2.0], "vi": [0.5, 0.4],
                         "measure": ["MD100", "MD100"]})
    ax = plots.forest_plot(rows, title="Costs in $ and $$")
    ax.figure.savefig(tmp_path / "forest.png")  # mathtext would fail here, at draw time
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[:2] == ["Doe\\$x^\\$ 2004", "Roe \\$5 2010"]
    rendered = ax.figure.canvas.get_renderer()
    assert all("$" in t._preprocess_math(t.get_text())[0] for t in ax.get_yticklabels()[:2]) and rendered


@pytest.mark.slow
def test_report_with_a_dollar_in_an_author_name_is_built_without_a_traceback(refs, tmp_path, capsys):
    path = refs / "studies.bib"
    text = path.read_text(encoding="utf-8")
    at = text.index("{", text.index("author", text.index("{ukbeam2004united,")))
    path.write_text(text[:at + 1] + "Doe\\$x^\\$, J. and " + text[at + 1:], encoding="utf-8")
    code, _, err = run_main(capsys, "report", "-o", str(tmp_path / "report"), "--refs", str(refs))
    assert code == 0, err
    page = (tmp_path / "report" / "03-meta-analysis.html").read_text(encoding="utf-8")
    assert "Traceback" not in page and "ParseSyntaxException" not in page


# --- errors a user can act on ----------------------------------------------------------------------------


def test_actionable_a_key_with_a_comma(write):
    text = bib_entry().replace("@article{doe2020trial,", "@article{doe,2020trial,")
    _, problems = lbp.read_references(write(text), strict=False)
    first = problems.message.iloc[0]
    assert first.endswith("studies.bib:1 doe key: found a key with a comma ('doe,2020trial'), expected a key "
                          "without commas or spaces: lower-case ASCII letters and digits, like 'cherkin2009randomized'")


@pytest.mark.parametrize(("title", "line", "field", "found"), [
    ('"A {Trial" of} something"', 3, "title", "a '\"' inside {braces} does not end a quoted value"),
    ("{A } something}", 4, "journal", "field 'journal' after the end of entry 'doe2020trial' (a '}' in a value "
                                      "above closed the entry early?)"),
    ('{A "Trial} of" something}', 1, "entry", "unbalanced braces (20 '{' vs 21 '}'); a '}' at line 3 closes the "
                                              "entry early"),
    ("{A {Trial of something}", 1, "entry", "unbalanced braces (21 '{' vs 20 '}'); the '{' opened at line 3 is "
                                            "still open when field 'journal' starts at line 4"),
], ids=["quote-inside-braces", "lone-close", "quotes-inside-braces", "unclosed"])
def test_actionable_quote_and_brace_mixes_name_the_line_that_goes_wrong(write, title, line, field, found):
    text = bib_entry().replace("title = {A {Trial} of something}", f"title = {title}")
    _, problems = lbp.read_references(write(text), strict=False)
    hits = problems[(problems.line == line) & (problems.field == field)]
    assert hits.message.str.contains(found, regex=False).any(), problems.message.tolist()


@pytest.mark.parametrize("title", ["A } lone brace", "A { lone brace", "Braces }{ crossed", "x \\} y"])
def test_actionable_a_title_with_a_lone_brace_can_be_added(small, tmp_path, capsys, title):
    export = tmp_path / "one.ris"
    export.write_text(f"TY  - JOUR\nAU  - Roe, Rita\nTI  - {title}\nT2  - J Fict Res\nPY  - 2019\n"
                      "DO  - 10.5555/x.1\nER  - \n", encoding="utf-8")
    code, out, err = run_main(capsys, "add", str(export), "--refs", str(small), *OPTIONS, "--source", "https://x.org/")
    assert code == 0, out + err
    table = lbp.read_references(small)
    assert table.title.iloc[-1] == title
    assert latex_escape("}{") == r"\textbraceright{}\textbraceleft{}"


def test_actionable_a_ris_year_in_superscript_digits(small, tmp_path, capsys):
    export = tmp_path / "sup.ris"
    export.write_text("TY  - JOUR\nAU  - Roe, Rita\nTI  - Tai chi\nT2  - J\nPY  - ²⁰¹⁹\nDO  - 10.5555/x.2\nER  - \n",
                      encoding="utf-8")
    code, out, err = run_main(capsys, "add", str(export), "--refs", str(small), *OPTIONS)
    assert code == 1 and "Traceback" not in err and "invalid literal" not in err
    assert f"warning: {export}:5 roendtai year: found '²⁰¹⁹', expected a four-digit year" in out
    assert f"{export}:1 roendtai year: found no year, expected a four-digit year" in out


def test_actionable_add_errors_point_at_the_input_file_and_the_option(small, tmp_path, capsys):
    export = tmp_path / "two.nbib"
    export.write_text(nbib() + "\n" + nbib("90000002", "Massage for acute back pain").replace(
        "LID - 10.5555/jfr.2021.0112 [doi]", "LID - nodoi [doi]"), encoding="utf-8")
    code, out, _err = run_main(capsys, "add", str(export), "--refs", str(small), "--modality", "yogga", *OPTIONS[2:])
    assert code == 1
    lines = [line for line in out.splitlines() if not line.startswith("warning:")]
    assert lines == [
        f"{export}:1 doe2021yoga modality (--modality): found 'yogga', expected a known modality (did you mean "
        "'yoga'?); see refs/README.md",
        f"{export}:10 doe2021massage doi: found 'nodoi', expected a DOI like 10.1001/archinternmed.2009.65",
        f"{export}:10 doe2021massage modality (--modality): found 'yogga', expected a known modality (did you mean "
        "'yoga'?); see refs/README.md"]
    assert str(small / "studies.bib") + ":" not in out


def test_actionable_the_format_flag_is_named_as_typed(small, tmp_path, capsys):
    export = tmp_path / "notes.txt"
    export.write_text("hello\n", encoding="utf-8")
    code, _, err = run_main(capsys, "add", str(export), "--refs", str(small), *OPTIONS)
    assert code == 2 and "pass --format (bibtex, ris, medline)" in err and "`format`" not in err


@pytest.mark.parametrize(("key", "found"), [
    ("\ufeffdoe2020trial", "'\\ufeffdoe2020trial' ('\\ufeff' at position 1)"),
    ("müller2020trial", "'müller2020trial' ('ü' at position 2)"),
    ("doe 2020trial", "'doe 2020trial' (' ' at position 4)"),
    ("Doe2020Trial", "'Doe2020Trial' ('D' at position 1)"),
    ("doe_2020trial", "'doe_2020trial' ('_' at position 4)"),
    ("d" * 10_000, "a key of 10,000 characters"),
])
def test_key_rule_is_enforced(write, key, found):
    _, problems = lbp.read_references(write(bib_entry(key)), strict=False)
    keyed = problems[problems.field == "key"]
    assert len(keyed) == 1 and f"found {found}, expected " in keyed.message.iloc[0]
    assert len(keyed.message.iloc[0]) < 400  # a 10,000-character key is shown shortened
    assert lbp.read_references(write(bib_entry(key), "other.bib"), strict=False, schema="bibliography")[1].empty


# --- scale: behaviour (speed is measured in benchmarks/) ---------------------------------------------------


def test_size_append_to_a_large_table_parses_only_the_new_entries(tmp_path, monkeypatch):
    """With the table cached (``lbpevidence add`` has just read it), the append parses the new block only."""
    monkeypatch.delenv("LBPEVIDENCE_NO_CACHE")
    monkeypatch.setenv("LBPEVIDENCE_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "studies.bib"
    shutil.copy(lbp.bundled_refs() / "studies.bib", path)
    lbp.read_references(path)
    import lbpevidence.references as references

    parsed: list[int] = []
    real = references._parse_boxed

    def spy(box, *args, **kwargs):
        parsed.append(len(box[0]))
        return real(box, *args, **kwargs)

    monkeypatch.setattr(references, "_parse_boxed", spy)
    result = append_entries(path, bib_entry("roe2021yoga", pmid="90000009", doi="10.1000/new"))
    assert result.keys == ("roe2021yoga",)
    assert parsed and max(parsed) < 2_000, "the whole file was parsed again"


@pytest.mark.parametrize("source", ["bundled", "crlf-warnings"])
def test_size_the_table_cached_after_an_append_is_the_one_a_parse_gives(tmp_path, monkeypatch, source):
    """The append caches the new file's table (the next ``add`` reads it without parsing): it must be exactly
    what a parse without the cache gives."""
    monkeypatch.delenv("LBPEVIDENCE_NO_CACHE")
    monkeypatch.setenv("LBPEVIDENCE_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "studies.bib"
    if source == "bundled":
        shutil.copy(lbp.bundled_refs() / "studies.bib", path)
    else:
        path.write_bytes((bib_entry(modaliy="yoga") + bib_entry("b", title="A {B}")).replace("\n", "\r\n").encode())
    lbp.read_references(path, strict=False)
    append_entries(path, bib_entry("roe2021yoga", pmid="90000009", doi="10.1000/new", summary="x") +
                   bib_entry("roe2021tai", pmid="90000010", doi="10.1000/new2", colour="red"))
    import lbpevidence.references as references

    monkeypatch.setattr(references, "_parse_boxed", None)  # a cache miss would fail here
    cached_table, cached_problems = lbp.read_references(path, strict=False)
    monkeypatch.undo()
    monkeypatch.setenv("LBPEVIDENCE_NO_CACHE", "1")
    table, problems = lbp.read_references(path, strict=False)
    pd.testing.assert_frame_equal(cached_table, table)
    pd.testing.assert_frame_equal(cached_problems, problems)
    assert problems.field.tolist().count("colour") == 1


BLOCKS = [bib_entry("roe2021yoga", pmid="1"), bib_entry("roe2021yoga", design="rtc"),
          bib_entry("cherkin2009randomized"), bib_entry("a") + bib_entry("a"), "@article{x, title = {open\n",
          bib_entry("b", title="A } b"), bib_entry("c").replace("year = {2020}", "year = {2020}\n  year = {2021}"),
          "@article{nope, title = {T}}\nnot an entry{y, z = 1}\n"]


@pytest.mark.parametrize("block", BLOCKS)
@pytest.mark.parametrize("old", ["bundled", "empty", "no-newline", "crlf"])
def test_size_the_fast_append_check_equals_a_whole_file_parse(tmp_path, block, old):
    data = {"bundled": (lbp.bundled_refs() / "studies.bib").read_bytes(), "empty": b"", "no-newline":
            bib_entry().rstrip("\n").encode(), "crlf": bib_entry().replace("\n", "\r\n").encode()}[old]
    text = data.decode("utf-8-sig")
    flat = text.replace("\r\n", "\n")
    glue = "" if not text or flat.endswith("\n") else "\n"
    lead = "" if not text or (flat + glue).endswith("\n\n") else "\n"
    prefix = (flat + glue).count("\n")
    expected = len(refsio._ENTRY_START.findall(block))
    fast = refsio._check_appended(data, lead + block, "s.bib", prefix, expected)
    whole = refsio._check_whole(text + glue + lead + block, lead + block, "s.bib", prefix, expected)
    assert fast[0] == whole[0]
    assert sorted(map(str, fast[1])) == sorted(map(str, whole[1]))


# --- property: real entries and CSV rows, mutated, through the command line --------------------------------

PROPERTY = settings(max_examples=25, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
HOSTILE = [b"\x1b[31m", b"\x9b", "\u202e".encode(), b"$x^$", b"{pmid.__class__}", b"=cmd|", b"<script>", b",",
           b"}", b"{", b'"', b"\xff\xfe", b"\x00", b"\r", b"@string{a = b # b # b}", b"\n@article{x,", b"#"]


@pytest.fixture(scope="module")
def real_entries() -> list[bytes]:
    text = (REPO / "refs" / "studies.bib").read_bytes()
    starts = [m.start() for m in re.finditer(rb"^@", text, re.MULTILINE)] + [len(text)]
    return [text[a:b] for a, b in itertools.pairwise(starts) if text[a:b].lower().startswith(b"@article")]


@PROPERTY
@given(data=st.data())
def test_property_mutated_real_entries_never_raise_through_the_cli(tmp_path, capsys, real_entries, data):
    entry = data.draw(st.sampled_from(real_entries), label="entry")
    pieces = data.draw(st.lists(st.tuples(st.floats(0, 1), st.one_of(st.sampled_from(HOSTILE),
                                                                      st.binary(max_size=12))),
                                min_size=1, max_size=4), label="damage")
    for where, piece in pieces:
        at = int(where * len(entry))
        entry = entry[:at] + piece + entry[at:]
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    (folder / "studies.bib").write_bytes(entry)
    export = folder / "export.bib"
    export.write_bytes(entry)
    for args in (["validate", str(folder / "studies.bib")], ["table", str(folder / "studies.bib")],
                 ["table", str(folder / "studies.bib"), "--schema", "bibliography", "--format", "csv"],
                 ["add", str(export), "--refs", str(lbp.bundled_refs()), "--dry-run", *OPTIONS]):
        code = main(args)
        out, err = capsys.readouterr()
        assert code in (0, 1, 2), (args, out, err)
        assert not re.search("[\x1b\x9b\u202e]", out + err)


@PROPERTY
@given(data=st.data())
def test_property_mutated_csv_rows_never_raise(tmp_path, data):
    name = data.draw(st.sampled_from(["outcomes.csv", "overrides.csv"]), label="file")
    lines = (REPO / "refs" / name).read_bytes().splitlines(keepends=True)
    row = data.draw(st.integers(1, len(lines) - 1), label="row")
    line = lines[row]
    cut = data.draw(st.floats(0, 1))
    piece = data.draw(st.one_of(st.sampled_from([*HOSTILE, b"1e300", b"-1e-300", b"nan", b",,,,", b"\n"]),
                                st.binary(max_size=8)))
    at = int(cut * len(line))
    lines[row] = line[:at] + piece + line[at:]
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / name
    path.write_bytes(b"".join(lines))
    read = lbp.read_outcomes if name == "outcomes.csv" else lbp.read_overrides
    table, problems = read(path, strict=False)  # never raises
    assert problems.line.between(0, len(b"".join(lines).splitlines()) + 1).all()
    if name == "outcomes.csv" and not problems.found.str.startswith("UTF-").any():
        numbers = table[table.valid][["estimate", "ci_low", "ci_high", "se", "sd_int", "sd_ctl"]].abs()
        assert (numbers.fillna(0) <= 1e6).all().all()


def test_actionable_add_to_a_folder_without_studies_bib_says_how_to_start(tmp_path, capsys):
    empty = tmp_path / "new-table"
    empty.mkdir()
    code, _, err = run_main(capsys, "add", str(REPO / "tests" / "data" / "imports" / "sample.nbib"), "--refs",
                            str(empty), "--dry-run")
    assert code == 2
    assert "found a folder without studies.bib" in err and "create an empty studies.bib there" in err
