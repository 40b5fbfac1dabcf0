"""Small server-drawn SVG charts for the portal: a maturity ladder (what falls due, by month) and exposure by
debtor against its limit. Drawn here, not by a chart library in the browser: the portal runs no script and
loads nothing from elsewhere, and a bar chart of a dozen bars is a few rectangles.

Every bar carries its exact figure in a `<title>` (shown on hover, read by screen readers) and the table beside
the chart has the same figures: a chart is a picture of the numbers, never the only place they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from chain_client.money import format_fen

BAR_AREA = 180  # px of the tallest bar
BAR_WIDTH = 100  # wide enough for its exact figure above it (¥12,345,678.90 at 11 px)
GAP = 16
LEFT = 8
TOP = 18  # room for the figure over the tallest bar
LABEL_SPACE = 24
NAME_WIDTH = 200  # horizontal bars: the names on the left
ROW = 30
TRACK = 360  # px of the longest horizontal bar


@dataclass(frozen=True)
class Bar:
    label: str  # under the bar: a month (2027-03) or a short name
    value: int  # fen
    limit: int | None = None  # fen: drawn as a line across the bar (an exposure limit), None for none


def _title(b: Bar) -> str:
    """What a hover (or a screen reader) gives: the label and the exact figures."""
    limit = f" / {format_fen(b.limit)}" if b.limit is not None else ""
    return escape(f"{b.label}: {format_fen(b.value)}{limit}")


def _svg(width: int, height: int, caption: str) -> str:
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(caption)}">'
    )


def bars(items: Sequence[Bar], caption: str) -> str:
    """Vertical bars (a maturity ladder), scaled to the largest value, each with its exact figure above it."""
    if not items:
        return ""
    top = max(b.value for b in items) or 1
    width = LEFT * 2 + len(items) * (BAR_WIDTH + GAP)
    parts = [_svg(width, TOP + BAR_AREA + LABEL_SPACE, caption)]
    for i, b in enumerate(items):
        x = LEFT + i * (BAR_WIDTH + GAP)
        h = max(round(BAR_AREA * b.value / top), 1)
        middle = f"{x + BAR_WIDTH / 2:g}"
        parts.append(
            f'<g><title>{_title(b)}</title><rect class="bar" x="{x}" y="{TOP + BAR_AREA - h}" width="{BAR_WIDTH}" '
            f'height="{h}"/><text class="figure" x="{middle}" y="{TOP + BAR_AREA - h - 4}" text-anchor="middle">'
            f'{escape(format_fen(b.value))}</text><text x="{middle}" y="{TOP + BAR_AREA + 16}" '
            f'text-anchor="middle">{escape(b.label)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def hbars(items: Sequence[Bar], caption: str) -> str:
    """Horizontal bars with a limit line each (exposure by debtor): names fit on the left, the exact figure
    and its limit on the right; a bar over its limit is drawn in the warning colour."""
    if not items:
        return ""
    top = max(max(b.value, b.limit or 0) for b in items) or 1
    width = NAME_WIDTH + TRACK + 260
    parts = [_svg(width, ROW * len(items) + 8, caption)]
    for i, b in enumerate(items):
        y = 4 + i * ROW
        w = max(round(TRACK * b.value / top), 1)
        over = b.limit is not None and b.value > b.limit
        parts.append(
            f'<g><title>{_title(b)}</title><text x="{NAME_WIDTH - 8}" y="{y + 17}" text-anchor="end">'
            f'{escape(b.label[:30])}</text><rect class="bar{" over" if over else ""}" x="{NAME_WIDTH}" y="{y + 4}" '
            f'width="{w}" height="{ROW - 10}"/>'
        )
        if b.limit is not None:
            x = NAME_WIDTH + round(TRACK * b.limit / top)
            parts.append(f'<line class="limit" x1="{x}" x2="{x}" y1="{y}" y2="{y + ROW - 2}"/>')
        figures = format_fen(b.value) + (f" / {format_fen(b.limit)}" if b.limit is not None else "")
        parts.append(f'<text class="figure" x="{NAME_WIDTH + TRACK + 10}" y="{y + 17}">{escape(figures)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)
