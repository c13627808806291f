"""rnncli inspect's page as a person sees it: headless Chromium opens the page from disk, takes a
screenshot into docs/figures/, and this script fails when the page is blank or its script did not
run (the details panel stays empty when it throws).

By default a character LSTM trains for 120 s on tinyshakespeare and another on War and Peace
(Shakespeare's text has no double quotes; the novel has), and each page shows the validation text
with ``--find quotes --find line-position``; the correlations ``inspect`` found are printed.
``--run RUN --text FILE`` inspects a trained run instead; ``--page PAGE`` checks a page already
written (``rnncli demo``'s: ``--page runs/demo/lm-inside.html --out docs/figures/demo.png``).

    python bench/inspect_page.py [--seconds 120] [--run RUN --text FILE | --page PAGE] [--out docs/figures/inspect.png]

Chromium is Debian's package (``apt-get install chromium``; bench/setup.sh installs it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import DATA, ROOT, machine, rnncli

FIGURE = ROOT / "docs" / "figures" / "inspect.png"


def browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("error: headless Chromium not found (apt-get install chromium)")


def chromium(*args: str) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    return subprocess.run([browser(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args],
                          capture_output=True, text=True, timeout=120)


def check_page(page: Path, screenshot: Path, width: int = 1200, height: int = 900) -> list[str]:
    """What is wrong with the page as Chromium shows it (nothing: an empty list)."""
    import matplotlib.image

    problems = []
    shot = chromium(f"--window-size={width},{height}", f"--screenshot={screenshot}", page.resolve().as_uri())
    if shot.returncode or not screenshot.is_file():
        return [f"chromium failed to take a screenshot: {shot.stderr.strip()[-300:]}"]
    pixels = matplotlib.image.imread(str(screenshot))[..., :3]
    if pixels.std() < 0.02:
        problems.append("the screenshot is blank")
    red = ((pixels[..., 0] > 0.75) & (pixels[..., 1] < 0.6) & (pixels[..., 2] < 0.6)).mean()
    blue = ((pixels[..., 2] > 0.75) & (pixels[..., 0] < 0.6)).mean()
    if red + blue < 0.005:
        problems.append("the screenshot shows no coloured text")
    dom = chromium("--virtual-time-budget=5000", "--dump-dom", page.resolve().as_uri()).stdout
    panel = re.search(r'<div id="panel" class="panel">(.*?)</div>', dom, re.S)
    if panel is None or not panel.group(1).strip():
        problems.append("the details panel is empty: the page's script did not run")
    return problems


def screenshot(page: Path, out: Path) -> None:
    """The page's screenshot in ``out``; exits with the problems Chromium shows, if any."""
    out.parent.mkdir(parents=True, exist_ok=True)
    problems = check_page(page, out)
    if problems:
        sys.exit("error: " + "; ".join(problems))
    print(f"page {page} ({page.stat().st_size:,} bytes), screenshot {out}: coloured text, the script ran")


CORPORA = {"tinyshakespeare": FIGURE, "warpeace": FIGURE.with_name("inspect-quotes.png")}


def main() -> None:
    argv = sys.argv[1:]

    def value(flag: str, default: str) -> str:
        return argv[argv.index(flag) + 1] if flag in argv else default

    if "--page" in argv:
        screenshot(Path(value("--page", "")), Path(value("--out", str(FIGURE))))
        return
    work = Path(tempfile.mkdtemp(prefix="rnncli-inspect-"))
    print(f"machine: {machine()}")
    if "--run" in argv:
        jobs = [(value("--run", ""), Path(value("--text", "")), Path(value("--out", str(FIGURE))))]
    else:
        jobs = []
        for corpus, figure in CORPORA.items():
            data = DATA / corpus
            if not (data / "valid.txt").is_file():
                print(f"{corpus}: skipped, {data} is absent")
                continue
            run = work / corpus
            rnncli("train", str(data / "train.txt"), "--valid", str(data / "valid.txt"), "--level", "char",
                   "--time-budget", value("--seconds", "120"), "-o", str(run), "-q", check=True)
            jobs.append((str(run), data / "valid.txt", figure))
    for run, text, out in jobs:
        page = work / (out.stem + ".html")
        done = rnncli("inspect", "-c", run, str(text), "--find", "quotes", "--find", "line-position",
                      "--max-chars", "6000", "-o", str(page), text=True)
        if done.returncode:
            sys.exit(done.stderr)
        print(f"{text}: " + done.stderr.strip().replace("\n", "; "))
        screenshot(page, out)


if __name__ == "__main__":
    main()
