"""The README's promises: its Python blocks run, and CI runs exactly its test command."""

from __future__ import annotations

import re
import subprocess

import pytest

from conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, re.DOTALL)
BASH_BLOCKS = re.findall(r"```bash\n(.*?)```", README, re.DOTALL)


def test_readme_opens_with_the_two_commands():
    assert len(BASH_BLOCKS) >= 2
    run_review, run_tests = BASH_BLOCKS[0].strip(), BASH_BLOCKS[1].strip()
    assert "pip install" in run_review and "lbpevidence" in run_review
    # the test command installs the test extra and ends by running plain pytest (pyproject adds nbval)
    assert "pip install -e '.[test]'" in run_tests and run_tests.endswith("&& pytest")
    assert README.index("```bash") < README.index("```python")


def test_ci_runs_exactly_the_readme_test_command():
    script = REPO / ".ci" / "run"
    extracted = subprocess.run(
        ["awk", r"/^```bash$/{n++; next} /^```$/{f=0} n==2 && !done {print; done=1}", str(REPO / "README.md")],
        capture_output=True, text=True, check=True).stdout.strip()
    assert extracted == BASH_BLOCKS[1].strip()
    assert "awk" in script.read_text() and "README.md" in script.read_text()


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=[f"block{i}" for i in range(len(PYTHON_BLOCKS))])
def test_readme_python_block_runs(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the bundled data must be found from anywhere
    exec(compile(block, "README.md", "exec"), {"__name__": "__readme__"})


def test_readme_images_exist_and_the_report_screenshot_is_made_by_a_script():
    images = re.findall(r"!\[[^\]]+\]\(([^)]+)\)", README)
    assert "docs/report-index.png" in images and "docs/headline.png" in images
    for image in images:
        assert (REPO / image).is_file(), image
    assert "python scripts/screenshot_report.py" in README
    assert (REPO / "scripts" / "screenshot_report.py").is_file()


def test_readme_says_how_the_browser_tests_get_chromium():
    assert "apt-get install chromium" in README and "/usr/bin/chromium" in README
    assert "apt-get install" in (REPO / ".ci" / "run").read_text() and "chromium" in (REPO / ".ci" / "run").read_text()
    assert "LBPEVIDENCE_UPDATE_BASELINES=1 pytest tests/test_images.py" in README
