"""Boxes and arrows placed on a page in inches: the layout under Figure 1.

Each text is measured as it is added, so a box is exactly as tall as its
wrapped text and rows stack without overlapping; nothing here knows what
the boxes mean.
"""

import textwrap
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.text import Text
from matplotlib.transforms import Affine2D

# Figure 1 geometry, in inches and points.
FLOW_FONT_PT = 8
FLOW_TITLE_PT = 10
MARGIN_IN = 0.15
COLUMN_GAP_IN = 0.25
ROW_GAP_IN = 0.32
BOX_PAD_IN = 0.07
LINE_GAP_IN = 0.04
# A line of text holds at most this many characters per inch per point of font size
# (narrower than any real average); wrapping starts from it and shortens until the text fits.
CHARS_PER_INCH_POINT = 72 / 0.45


@dataclass
class Box:
    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height

    @property
    def center(self) -> float:
        return self.left + self.width / 2


class Diagram:
    """Boxes and arrows placed in inches from the figure's top-left corner.

    Each text is measured as it is added, so a box is exactly as tall as its
    wrapped text and rows stack without overlapping. The figure's height is
    known only when the last row is placed, which is why positions count from
    the top: ``finish`` then sets the height and the one transform that every
    artist shares.
    """

    def __init__(self, width: float):
        self.width = width
        self.figure = Figure(figsize=(width, 1))
        self.renderer = FigureCanvasAgg(self.figure).get_renderer()
        self.from_top = Affine2D()
        self.transform = self.from_top + self.figure.dpi_scale_trans

    def _size(self, text: Text) -> tuple[float, float]:
        extent = text.get_window_extent(self.renderer)
        return extent.width / self.figure.dpi, extent.height / self.figure.dpi

    def text(self, x: float, top: float, paragraphs: list[str], width: float, **style) -> tuple[Text, float]:
        """Paragraphs wrapped to fit ``width`` inches, hanging from ``top``; the text and its height."""
        style.setdefault("fontsize", FLOW_FONT_PT)
        text = self.figure.text(x, top, "", va="top", transform=self.transform, **style)
        longest = max(len(paragraph) for paragraph in paragraphs)
        for line_length in range(min(longest, int(width * CHARS_PER_INCH_POINT / style["fontsize"])), 0, -1):
            text.set_text("\n".join(textwrap.fill(paragraph, line_length) for paragraph in paragraphs))
            if self._size(text)[0] <= width:
                break
        return text, self._size(text)[1]

    def box(self, left: float, top: float, width: float, title: str | None, lines: list[str] = (),
            align: str = "center", fill: str = "white") -> Box:
        inner = width - 2 * BOX_PAD_IN
        y = top + BOX_PAD_IN
        if title:
            y += self.text(left + width / 2, y, [title], inner, ha="center", multialignment="center", weight="bold")[1]
        if lines:
            gap = LINE_GAP_IN if title else 0
            x = left + width / 2 if align == "center" else left + BOX_PAD_IN
            y += gap + self.text(x, y + gap, list(lines), inner, ha=align, multialignment=align)[1]
        box = Box(left, top, width, y + BOX_PAD_IN - top)
        self.figure.add_artist(FancyBboxPatch(
            (box.left, box.top), box.width, box.height, boxstyle="round,pad=0,rounding_size=0.06",
            transform=self.transform, facecolor=fill, edgecolor="0.35", linewidth=0.8,
        ))
        return box

    def arrow(self, start: tuple[float, float], end: tuple[float, float], corner: bool = False, **style) -> None:
        """An arrow; with ``corner``, it leaves vertically and arrives horizontally."""
        self.figure.add_artist(FancyArrowPatch(
            start, end, transform=self.transform, arrowstyle="-|>", mutation_scale=9, linewidth=0.9,
            color="0.25", shrinkA=0, shrinkB=0,
            connectionstyle="angle,angleA=90,angleB=0,rad=0" if corner else "arc3", **style,
        ))

    def down(self, upper: Box, lower: Box, x: float | None = None, **style) -> None:
        """A vertical arrow from ``upper`` to ``lower`` (at the middle of their common span unless ``x`` is given)."""
        if x is None:
            x = (max(upper.left, lower.left) + min(upper.right, lower.right)) / 2
        self.arrow((x, upper.bottom), (x, lower.top), **style)

    def across(self, source: Box, target: Box) -> None:
        """A horizontal arrow between boxes that sit side by side with the same top."""
        y = source.top + min(source.height, target.height) / 2
        if source.right <= target.left:
            self.arrow((source.right, y), (target.left, y))
        else:
            self.arrow((source.left, y), (target.right, y))

    def note(self, x: float, y: float, string: str, ha: str) -> None:
        """A short label beside an arrow."""
        self.figure.text(x, y, string, transform=self.transform, fontsize=FLOW_FONT_PT - 1, style="italic",
                         va="center", ha=ha, color="0.25")

    def finish(self, height: float) -> Figure:
        self.figure.set_size_inches(self.width, height)
        self.from_top.clear().scale(1, -1).translate(0, height)
        return self.figure
