"""The command line: exit codes, output formats, and a light `validate`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import bib_entry
from lbpevidence.cli import main


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lbpevidence", *args], capture_output=True, text=True)


def test_validate_bundled_refs_is_clean():
    result = run("validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 error(s)" in result.stderr


def test_validate_reports_problems_one_per_line_and_exits_1(write):
    path = write(bib_entry("a", modality="acupunture") + bib_entry("b", design="rtc"))
    result = run("validate", str(path))
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert lines == [
        f"{path}:11 a modality: found 'acupunture', expected a known modality (did you mean 'acupuncture'?); "
        "see refs/README.md",
        f"{path}:32 b design: found 'rtc', expected a known design (did you mean 'rct'?); see refs/README.md",
    ]


def test_validate_json_format(write):
    path = write(bib_entry(pmid="x1"))
    result = run("validate", str(path), "--format", "json")
    assert result.returncode == 1
    problems = json.loads(result.stdout)
    assert [(p["key"], p["field"], p["line"]) for p in problems] == [("doe2020trial", "pmid", 10)]


def test_usage_error_exits_2():
    assert run("validate", "--format", "yaml").returncode == 2
    assert run("no-such-command").returncode == 2


@pytest.mark.parametrize("fmt", ["csv", "markdown", "json"])
def test_table_formats(write, fmt, capsys):
    path = write(bib_entry("a") + bib_entry("b", author="Roe, R.", year="2019"))
    assert main(["table", str(path), "--format", fmt, "--columns", "key,first_author,year,modality"]) == 0
    out = capsys.readouterr().out
    if fmt == "csv":
        assert out.splitlines() == ["key,first_author,year,modality", "a,Doe,2020,acupuncture",
                                    "b,Roe,2019,acupuncture"]
    elif fmt == "markdown":
        assert out.splitlines()[0] == "| key | first_author | year | modality |"
        assert "| b | Roe | 2019 | acupuncture |" in out
    else:
        assert json.loads(out)[1] == {"key": "b", "first_author": "Roe", "year": 2019, "modality": "acupuncture"}


def test_table_unknown_column_is_a_usage_error(capsys):
    assert main(["table", "--columns", "key,nope"]) == 2
    assert "The value for `--columns` must name columns of" in capsys.readouterr().err


def test_validate_imports_neither_matplotlib_nor_scipy():
    code = ("import sys; from lbpevidence.cli import main; rc = main(['validate']); "
            "heavy = [m for m in ('matplotlib', 'scipy', 'nbconvert') if m in sys.modules]; "
            "print(rc, heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "0 []", result.stdout + result.stderr


def test_import_lbpevidence_is_light():
    code = ("import sys, lbpevidence; "
            "print([m for m in ('matplotlib', 'scipy', 'nbconvert', 'pandas') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]"


def test_every_public_name_resolves():
    import lbpevidence as lbp

    for name in lbp.__all__:
        assert getattr(lbp, name) is not None, name


# --- output that fits the terminal ----------------------------------------------------------------------------


def widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


@pytest.mark.parametrize("command", [["summary"], ["audit"], ["table"]])
def test_text_output_fits_100_columns_when_not_a_terminal(command):
    result = run(*command)  # stdout is a pipe: no terminal width to ask
    assert result.returncode == 0, result.stderr
    assert widest(result.stdout) <= 100
    assert len(result.stdout.splitlines()) > 10


@pytest.mark.parametrize("width", [60, 80, 132])
def test_summary_follows_width(width, capsys):
    assert main(["summary", "--width", str(width)]) == 0
    out = capsys.readouterr().out
    assert widest(out) <= width
    assert "Exercise therapy" in out and "benefit, possibly" in out and "−15 (−18 to −12)" in out


def test_summary_text_says_the_answer_in_words(capsys):
    assert main(["summary"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[lines.index("Pain (effect on 0–100: negative = less pain)") + 2].startswith("Treatment")
    assert "Certainty (who" in out and "effect_0_100" not in out and "spinal-manipulation" not in out
    assert "−15 (−18 to −12)" in out  # Hayden 2021, as printed
    assert "left out to fit 100 characters" in out  # and it says which columns it left out


def test_the_terminal_width_is_used_on_a_terminal(monkeypatch):
    from lbpevidence import cli

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setenv("COLUMNS", "132")
    assert cli.output_width() == 132
    assert cli.output_width(90) == 90
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    assert cli.output_width() == cli.DEFAULT_WIDTH == 100


def test_file_formats_keep_every_column(capsys):
    assert main(["summary", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert widest(out) > 100 and out.splitlines()[0].count("|") == 16  # all 15 columns


def test_width_below_the_minimum_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["summary", "--width", "10"])
    assert stop.value.code == 2
    assert "--width: must be a whole number of characters, at least 40, but '10' was passed" in capsys.readouterr().err


@pytest.mark.parametrize("command", [[], ["validate"], ["table"], ["add"], ["audit"], ["diff"], ["summary"],
                                     ["report"]])
def test_help_is_plain_text_with_examples(command):
    result = run(*command, "--help")
    assert result.returncode == 0
    assert "examples:\n  lbpevidence" in result.stdout
    assert "`" not in result.stdout


def test_diff_names_its_base_and_what_it_compared(tmp_path):
    import lbpevidence as lbp

    result = run("diff", "--base", str(lbp.bundled_refs()), "--refs", str(lbp.bundled_refs()))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "## Review changes"
    assert lines[2] == f"Base: the folder {lbp.bundled_refs().resolve()}.  "
    assert lines[3].startswith("Compared with: the refs/ folder ") and lines[4].startswith("What was compared: every")
    payload = json.loads(run("diff", "--base", str(lbp.bundled_refs()), "--format", "json").stdout)
    assert payload["compared"]["base"].startswith("the folder ") and payload["analyses"] == []


def test_diff_outside_a_git_repository_says_what_to_do(tmp_path):
    import shutil

    import lbpevidence as lbp

    refs = tmp_path / "refs"
    shutil.copytree(lbp.bundled_refs(), refs, ignore=shutil.ignore_patterns("*.md"))
    result = subprocess.run([sys.executable, "-m", "lbpevidence", "diff", "--refs", str(refs)], capture_output=True,
                            text=True, cwd=tmp_path, env={**__import__("os").environ, "GIT_CEILING_DIRECTORIES":
                                                          str(tmp_path.parent)})
    assert result.returncode == 2
    assert f"{refs} is not inside a git repository" in result.stderr
    assert f"lbpevidence diff --base OLD/refs --refs {refs}" in result.stderr
