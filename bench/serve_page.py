"""The page ``rnncli serve`` shows at ``/``, as a person sees it: a classifier and a language model
are served, headless Chromium opens the page (its script asks both runs), takes a screenshot into
docs/figures/serve.png, and this script fails when the page is blank, shows an error, or lacks
the classifier's bars or the generated text.

    python bench/serve_page.py [--out docs/figures/serve.png]

Chromium is Debian's package (bench/setup.sh installs it).
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from common import DATA, ROOT, rnncli
from inspect_page import chromium
from serve import train_run as train
from serve_load import Server

FIGURE = ROOT / "docs" / "figures" / "serve.png"


def check(url: str, screenshot: Path) -> list[str]:
    """What is wrong with the page at ``url`` once its script has run (nothing: an empty list)."""
    import matplotlib.image

    shot = chromium("--window-size=1100,900", "--virtual-time-budget=8000", f"--screenshot={screenshot}", url)
    if shot.returncode or not screenshot.is_file():
        return [f"chromium failed to take a screenshot: {shot.stderr.strip()[-300:]}"]
    problems = []
    if matplotlib.image.imread(str(screenshot))[..., :3].std() < 0.02:
        problems.append("the screenshot is blank")
    dom = chromium("--virtual-time-budget=8000", "--dump-dom", url).stdout
    if 'class="error"' in dom:
        problems.append("the page shows an error: " + re.sub("<[^>]+>", "", dom.split('class="error"', 1)[1])[:200])
    if dom.count('class="fill"') < 2:
        problems.append("no bars of the classifier's labels")
    outputs = re.findall(r'<div class="out">(.*?)</div>', dom, re.S)
    if not outputs or len(re.sub("<[^>]+>", "", outputs[0])) < 30:
        problems.append("no generated text")
    return problems


def main() -> None:
    out = Path(sys.argv[sys.argv.index("--out") + 1]) if "--out" in sys.argv else FIGURE
    work = Path(tempfile.mkdtemp(prefix="rnncli-serve-page-"))
    spam = train(work / "spam", str(DATA / "sms_spam" / "train.tsv"), "--task", "classify", "--time-budget", "30")
    chars = train(work / "shakespeare", str(DATA / "tinyshakespeare" / "train.txt"), "--level", "char",
                  "--time-budget", "60")
    for run in (spam, chars):
        rnncli("export", "-c", str(run))
    server = Server("-c", str(spam), "-c", str(chars))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        problems = check(server.url + "/", out)
    finally:
        server.stop()
    if problems:
        sys.exit("error: " + "; ".join(problems))
    print(f"{server.url}/: screenshot {out}: the classifier's bars and the streamed text are shown")


if __name__ == "__main__":
    main()
