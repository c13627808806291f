"""``rnncli inspect --format png``: the page's coloured text as a picture for papers and slides
(matplotlib, monospace, one cell per character)."""

from __future__ import annotations

from typing import Sequence

from rnncli.plots import _pyplot, _save

COLUMNS = 100  # characters per line of the picture
MAX_LINES = 60  # lines drawn; the rest of the text is left out of the picture (the page has it all)

Colour = tuple[float, float, float, float]


def signed(value: float) -> Colour:
    """Red for positive, blue for negative, as the page colours them (``value`` in [-1, 1])."""
    v = max(-1.0, min(1.0, value))
    return (0.86, 0.16, 0.16, v) if v >= 0 else (0.16, 0.35, 0.86, -v)


def heat(value: float) -> Colour:
    return (1.0, 0.55, 0.0, max(0.0, min(1.0, value)))


def layout(rows: Sequence[Sequence[tuple[str, Colour]]]) -> list[list[tuple[int, str, Colour]]]:
    """Lines of (column, text, colour): each row starts a line; newlines and the width wrap it."""
    lines: list[list[tuple[int, str, Colour]]] = []
    for row in rows:
        line: list[tuple[int, str, Colour]] = []
        column = 0
        for piece, colour in row:
            for k, part in enumerate(piece.split("\n")):
                if k > 0 or column + len(part) > COLUMNS:
                    lines.append(line)
                    line, column = [], 0
                if part:
                    line.append((column, part[:COLUMNS], colour))
                    column += min(len(part), COLUMNS)
        lines.append(line)
    return lines[:MAX_LINES]


def coloured_text(rows: Sequence[Sequence[tuple[str, Colour]]], path: str, title: str) -> None:
    """Write ``rows`` of (piece, colour) as a PNG at ``path``."""
    plt = _pyplot()
    lines = layout(rows)
    fig = plt.figure(figsize=(COLUMNS * 0.085 + 0.4, 0.22 * len(lines) + 0.7))
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.98 - 0.35 / fig.get_figheight()))
    ax.set_xlim(0, COLUMNS)
    ax.set_ylim(len(lines), 0)
    ax.axis("off")
    for y, line in enumerate(lines):
        for column, text, colour in line:
            ax.add_patch(plt.Rectangle((column, y + 0.05), len(text), 0.9, color=colour, linewidth=0))
            ax.text(column, y + 0.5, text.replace("$", r"\$"), family="monospace", fontsize=9, va="center",
                    ha="left")
    fig.suptitle(title, fontsize=10, x=0.01, ha="left")
    _save(fig, path)
