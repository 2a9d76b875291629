"""Regenerate the README's pictures from a real run of the current code.

Usage: python scripts/readme_figures.py   (about a minute: a fresh nutpie reference)

Runs ``gibbs-suite compare --reference nutpie --seed 2`` on radon M2 into a scratch folder and
saves the figures embedded in its report page, found by their captions, as docs/img/*.png, and
a screenshot of the page's top as a browser shows it (headless Chromium, docs/img/report.png;
Debian's ``chromium`` package: ``apt-get install chromium``).
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from validation.cli import main

# README picture -> a phrase of its caption in the report.
FIGURES = {
    "qq.png": "QQ plot of the z-scores",
    "traces.png": "gibbs: traces and rank histograms",
    "forest.png": "Overlapping intervals",
    "shrinkage.png": "Small groups are pulled",
}


def extract(page: str) -> dict[str, bytes]:
    """Return the PNG of each figure of :data:`FIGURES` found in a report page."""
    found = {}
    for src, caption in re.findall(
        r"<img src='data:image/png;base64,([^']+)'[^>]*><figcaption>(.*?)</figcaption>", page
    ):
        for name, phrase in FIGURES.items():
            if phrase.lower() in caption.lower() and name not in found:
                found[name] = base64.b64decode(src)
    return found


def screenshot(page: Path, png: Path, width: int = 1280, height: int = 1500) -> None:
    """Render ``page`` in headless Chromium and save the top ``height`` pixels as ``png``."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise RuntimeError("no chromium on PATH (Debian: apt-get install chromium)")
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size={width},{height}",
            f"--screenshot={png}",
            page.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
    )


def run() -> int:
    """Run the comparison, write the pictures; fail if one is missing."""
    out_img = Path(__file__).resolve().parents[1] / "docs" / "img"
    with tempfile.TemporaryDirectory() as tmp:
        code = main(["compare", "--reference", "nutpie", "--seed", "2", "--out", tmp, "--quiet"])
        found = extract((Path(tmp) / "index.html").read_text())
        screenshot(Path(tmp) / "index.html", out_img / "report.png")
        print("docs/img/report.png")
    missing = sorted(set(FIGURES) - set(found))
    for name, png in found.items():
        (out_img / name).write_bytes(png)
        print(f"docs/img/{name}")
    if missing:
        print(f"not in the report: {missing}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    raise SystemExit(run())
