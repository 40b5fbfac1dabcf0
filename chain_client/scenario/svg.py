"""A receivable's credit tree as inline SVG: holders in columns by tier (the core enterprise on the left,
financiers and the financing desk on the right), an edge for the value that moved from one holder to another,
its width growing with the value; financings are dashed orange edges and the sellers carry an orange mark; a
fragment bought back under recourse is a dotted purple edge from the financier to the desk, which holds it from
then on. Hovering a node or an edge shows its numbers (SVG <title>: no script). A column with more holders than
fit shows the largest and one node for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from math import sqrt

from chain_client.money import format_fen
from chain_client.scenario.summary import Edge, Node, Tree

COLUMN_WIDTH = 228
NODE_WIDTH = 188
NODE_HEIGHT = 36
ROW_PITCH = 46
TOP = 64
LEFT = 16
MAX_ROWS = 24
MAX_EDGE_WIDTH = 14.0
COLORS = {"issue": "#1f4e79", "pay": "#4f86c6", "finance": "#d9822b", "buyback": "#8e44ad"}
DASHES = {"finance": "7 4", "buyback": "2 3"}
FILL = {"core": "#1f4e79", "financier": "#fdebd3", "desk": "#efe3f5", "supplier": "#e8f0fa", "other": "#eeeeee"}


def compact(fen: int) -> str:
    """¥36.0M, ¥850.0K, ¥1,234: short enough for a node (integer arithmetic, rounded down)."""
    yuan = fen // 100
    if yuan >= 1_000_000:
        tenths = yuan // 100_000
        return f"¥{tenths // 10:,}.{tenths % 10}M"
    if yuan >= 10_000:
        tenths = yuan // 100
        return f"¥{tenths // 10:,}.{tenths % 10}K"
    return f"¥{yuan:,}"


@dataclass
class _Box:
    key: str
    label: str
    role: str
    column: int
    received: int = 0
    bought: int = 0
    sold: int = 0
    paid: int = 0
    members: list[Node] = field(default_factory=list)
    y: float = 0.0

    @property
    def title(self) -> str:
        if len(self.members) > 1:
            head = f"{len(self.members)} holders: " + ", ".join(m.name for m in self.members[:12])
            head += " …" if len(self.members) > 12 else ""
        else:
            head = self.label
        lines = [head]
        if self.received:
            lines.append(f"received {format_fen(self.received)}")
        if self.bought:
            lines.append(f"bought {format_fen(self.bought)}")
        if self.sold:
            lines.append(f"financed away {format_fen(self.sold)}")
        lines.append(f"paid at maturity {format_fen(self.paid)}")
        return "\n".join(lines)


def _column(node: Node, last: int) -> int:
    if node.role in ("financier", "desk"):
        return last
    return node.tier if node.tier is not None else 0


def _boxes(tree: Tree) -> tuple[list[list[_Box]], dict[str, _Box]]:
    last = max((n.tier or 0 for n in tree.nodes), default=0) + 1
    columns: list[list[Node]] = [[] for _ in range(last + 1)]
    for node in tree.nodes:
        columns[_column(node, last)].append(node)
    laid: list[list[_Box]] = []
    where: dict[str, _Box] = {}
    for c, nodes in enumerate(columns):
        nodes.sort(key=lambda n: -(n.received + n.bought))
        keep = nodes if len(nodes) <= MAX_ROWS else nodes[: MAX_ROWS - 1]
        boxes = [_Box(n.address, n.name, n.role, c, n.received, n.bought, n.sold, n.paid, [n]) for n in keep]
        rest = nodes[len(keep) :]
        if rest:
            boxes.append(
                _Box(
                    f"rest-{c}",
                    f"+ {len(rest)} more holders",
                    rest[0].role,
                    c,
                    sum(n.received for n in rest),
                    sum(n.bought for n in rest),
                    sum(n.sold for n in rest),
                    sum(n.paid for n in rest),
                    rest,
                )
            )
        for box in boxes:
            for member in box.members:
                where[member.address] = box
        laid.append(boxes)
    return laid, where


def _order(columns: list[list[_Box]], edges: list[Edge], where: dict[str, _Box]) -> None:
    """Place each column's boxes near the boxes that paid them (barycentres), left to right."""
    for c, boxes in enumerate(columns):
        if c > 0:
            pull: dict[str, tuple[float, int]] = {}
            for e in edges:
                target, source = where[e.target], where[e.source]
                if target.column == c and source.column < c:
                    total, weight = pull.get(target.key, (0.0, 0))
                    pull[target.key] = (total + source.y * e.value, weight + e.value)
            boxes.sort(key=lambda b: pull[b.key][0] / pull[b.key][1] if pull.get(b.key, (0, 0))[1] else 1e12)
        for row, box in enumerate(boxes):
            box.y = TOP + row * ROW_PITCH


def render_svg(tree: Tree) -> str:
    columns, where = _boxes(tree)
    _order(columns, tree.edges, where)
    rows = max((len(c) for c in columns), default=1)
    width = LEFT * 2 + (len(columns) - 1) * COLUMN_WIDTH + NODE_WIDTH
    height = TOP + rows * ROW_PITCH + 40
    parts = [
        f'<svg class="tree" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="credit tree of {escape(tree.receivable)}">'
    ]
    for c in range(len(columns)):
        title = "core enterprise" if c == 0 else ("financiers" if c == len(columns) - 1 else f"tier {c}")
        parts.append(f'<text class="col" x="{LEFT + c * COLUMN_WIDTH}" y="{TOP - 22}">{title}</text>')
    parts += _edges(tree, where)
    for boxes in columns:
        parts += [_node(box) for box in boxes]
    parts.append(_legend(height, buyback=any(e.kind == "buyback" for e in tree.edges)))
    parts.append("</svg>")
    return "\n".join(parts)


def _edges(tree: Tree, where: dict[str, _Box]) -> list[str]:
    merged: dict[tuple[str, str, str], tuple[int, int]] = {}
    for e in tree.edges:
        key = (where[e.source].key, where[e.target].key, e.kind)
        value, count = merged.get(key, (0, 0))
        merged[key] = (value + e.value, count + e.fragments)
    boxes = {b.key: b for b in where.values()}
    out = []
    for (source_key, target_key, kind), (value, count) in sorted(merged.items(), key=lambda kv: -kv[1][0]):
        source, target = boxes[source_key], boxes[target_key]
        x1: float = LEFT + source.column * COLUMN_WIDTH + NODE_WIDTH
        y1 = source.y + NODE_HEIGHT / 2
        x2: float = LEFT + target.column * COLUMN_WIDTH
        y2 = target.y + NODE_HEIGHT / 2
        if target.column <= source.column:  # same tier or backwards: loop around below
            x2 = LEFT + target.column * COLUMN_WIDTH + NODE_WIDTH / 2
            y2 = target.y + NODE_HEIGHT
        bend = max(40.0, (x2 - x1) / 2)
        stroke = 1.2 + (MAX_EDGE_WIDTH - 1.2) * sqrt(value / tree.face) if tree.face else 1.2
        dash = f' stroke-dasharray="{DASHES[kind]}"' if kind in DASHES else ""
        what = {
            "issue": "confirmed",
            "pay": "paid",
            "finance": "financed (sold)",
            "buyback": "bought back by the seller, held by the desk",
        }[kind]
        title = f"{source.label} → {target.label}: {what} {format_fen(value)} in {count} fragment{'s' * (count > 1)}"
        out.append(
            f'<path class="edge {kind}" d="M{x1:.0f},{y1:.0f} C{x1 + bend:.0f},{y1:.0f} {x2 - bend:.0f},{y2:.0f} '
            f'{x2:.0f},{y2:.0f}" stroke="{COLORS[kind]}" stroke-width="{stroke:.1f}"{dash}>'
            f"<title>{escape(title)}</title></path>"
        )
    return out


def _node(box: _Box) -> str:
    x, y = LEFT + box.column * COLUMN_WIDTH, box.y
    fill = FILL.get(box.role, FILL["other"])
    text_class = "light" if box.role == "core" else ""
    border = COLORS["finance"] if box.role == "financier" else "#1f4e79"
    name = box.label if len(box.label) <= 26 else box.label[:25] + "…"
    if box.role == "core":
        figures = "debtor"
    elif box.role == "financier":
        figures = f"bought {compact(box.bought)}"
    else:
        figures = f"received {compact(box.received)}" + (f" · sold {compact(box.sold)}" if box.sold else "")
    parts = [
        f'<g class="node {box.role}"><title>{escape(box.title)}</title>',
        f'<rect x="{x}" y="{y:.0f}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="6" fill="{fill}" '
        f'stroke="{border}"/>',
        f'<text class="name {text_class}" x="{x + 8}" y="{y + 15:.0f}">{escape(name)}</text>',
        f'<text class="fig {text_class}" x="{x + 8}" y="{y + 29:.0f}">{escape(figures)}</text>',
    ]
    if box.sold:
        parts.append(
            f'<circle class="financed-mark" cx="{x + NODE_WIDTH - 10}" cy="{y + 10:.0f}" r="5" '
            f'fill="{COLORS["finance"]}"><title>financed {escape(format_fen(box.sold))}</title></circle>'
        )
    parts.append("</g>")
    return "".join(parts)


def _legend(height: int, *, buyback: bool) -> str:
    y = height - 16
    items = [("issue", "confirmed by the core enterprise"), ("pay", "paid down the chain"), ("finance", "financed")]
    if buyback:
        items.append(("buyback", "bought back (recourse)"))
    out = []
    x = LEFT
    for kind, text in items:
        dash = f' stroke-dasharray="{DASHES[kind]}"' if kind in DASHES else ""
        out.append(
            f'<line x1="{x}" y1="{y - 4}" x2="{x + 28}" y2="{y - 4}" stroke="{COLORS[kind]}" stroke-width="3"{dash}/>'
            f'<text class="legend" x="{x + 34}" y="{y}">{text}</text>'
        )
        x += 34 + 8 * len(text) + 24
    return f'<g class="legend">{"".join(out)}</g>'
