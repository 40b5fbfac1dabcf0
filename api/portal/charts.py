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
BAR_WIDTH = 46
GAP = 14
LEFT = 8
LABEL_SPACE = 40


@dataclass(frozen=True)
class Bar:
    label: str  # under the bar: a month (2027-03) or a short name
    value: int  # fen
    limit: int | None = None  # fen: drawn as a line over the bar (an exposure limit), None for none
    title: str = ""  # what a hover shows besides the exact figure


def bars(items: Sequence[Bar], caption: str) -> str:
    """A vertical bar chart, scaled to its largest value or limit, as one `<svg>` element (role img)."""
    if not items:
        return ""
    top = max(max(b.value, b.limit or 0) for b in items) or 1
    width = LEFT * 2 + len(items) * (BAR_WIDTH + GAP)
    height = BAR_AREA + LABEL_SPACE
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(caption)}">'
    ]
    for i, b in enumerate(items):
        x = LEFT + i * (BAR_WIDTH + GAP)
        h = round(BAR_AREA * b.value / top)
        exact = format_fen(b.value)
        over = b.limit is not None and b.value > b.limit
        hover = escape(f"{b.label}: {exact}" + (f" / {format_fen(b.limit)}" if b.limit is not None else ""))
        if b.title:
            hover += escape(f" ({b.title})")
        parts.append(
            f'<g><title>{hover}</title><rect class="bar{" over" if over else ""}" x="{x}" y="{BAR_AREA - h}" '
            f'width="{BAR_WIDTH}" height="{max(h, 1)}"/>'
        )
        if b.limit is not None:
            y = BAR_AREA - round(BAR_AREA * b.limit / top)
            parts.append(f'<line class="limit" x1="{x - 4}" x2="{x + BAR_WIDTH + 4}" y1="{y}" y2="{y}"/>')
        parts.append(
            f'<text x="{x + BAR_WIDTH / 2:g}" y="{BAR_AREA + 16}" text-anchor="middle">{escape(b.label)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
