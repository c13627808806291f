"""Shell completion of the values some options take: run directories and vocabulary files.

Typer's own completion (``rnncli --install-completion``) asks these functions for candidates; where
they offer none, the shell falls back to file names.
"""

from __future__ import annotations

import os
from pathlib import Path

from rnncli.run.files import CONFIG


def _entries(incomplete: str) -> list[Path]:
    base, _, prefix = incomplete.rpartition("/")
    directory = Path(base + "/" if base else ".")
    try:
        found = [p for p in directory.iterdir() if p.name.startswith(prefix) and not p.name.startswith(".")]
    except OSError:
        return []
    return sorted(found)


def _shown(path: Path, incomplete: str) -> str:
    return os.path.join(incomplete.rpartition("/")[0], path.name) if "/" in incomplete else path.name


def run_dirs(incomplete: str) -> list[str]:
    """Run directories (holding a config.json) that start with what is typed, and the directories
    that hold runs (``runs/``), to go on into."""
    shown = []
    for path in _entries(incomplete):
        if not path.is_dir():
            continue
        if (path / CONFIG).is_file():
            shown.append(_shown(path, incomplete))
        elif any((child / CONFIG).is_file() for child in _children(path)):
            shown.append(_shown(path, incomplete) + "/")
    return shown


def vocab_files(incomplete: str) -> list[str]:
    """Vocabulary files (``.json``) that start with what is typed, and directories to go on into."""
    return [_shown(p, incomplete) + ("/" if p.is_dir() else "") for p in _entries(incomplete)
            if p.is_dir() or p.suffix == ".json"]


def _children(path: Path) -> list[Path]:
    try:
        return [p for p in path.iterdir() if p.is_dir()]
    except OSError:
        return []


COMPLETERS = {"run": run_dirs, "vocab": vocab_files}
