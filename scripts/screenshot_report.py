"""Screenshot of the report's index page for the README (docs/report-index.png), as a reader's browser shows it.

    python scripts/screenshot_report.py                 # build the report in a temporary folder, then shoot
    python scripts/screenshot_report.py --report report # shoot an existing report (report/index.html)

Needs Playwright (the ``test`` extra) and Debian's Chromium at /usr/bin/chromium (``apt-get install
chromium``); no browser is downloaded. The window is 1280 x 900 CSS pixels, as in the browser
tests (tests/test_e2e.py); the image is the top of the page (the title, the evidence map and the
first rows of the answer table), ``--height`` pixels tall.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = REPO / "docs" / "report-index.png"


def shoot(index: Path, output: Path, height: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
                   else route.abort())  # the report is offline: nothing else may load
        page.goto(index.as_uri())
        page.wait_for_load_state("load")
        output.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(output), full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": height})
        browser.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, help="an existing report folder (default: build one)")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"PNG to write (default: {OUTPUT})")
    parser.add_argument("--height", type=int, default=1500, help="pixels from the top of the page (default: 1500)")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)", file=sys.stderr)
        return 1
    if args.report is not None:
        shoot(args.report / "index.html", args.output, args.height)
    else:
        from lbpevidence import report

        with tempfile.TemporaryDirectory(prefix="lbpevidence-report-") as folder:
            shoot(report.build_report(Path(folder) / "report"), args.output, args.height)
    print(args.output.relative_to(REPO) if args.output.is_relative_to(REPO) else args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
