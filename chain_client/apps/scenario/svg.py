"""A receivable's credit tree as inline SVG: holders in columns by tier (the core enterprise on the left), an edge
for the value that moved from one holder to another, its width growing with the value.

A financing hangs from the supplier that sold it: the financier's box sits in the column right after the seller's,
beside the seller's own suppliers, with a dashed orange edge from the seller (the same bank buying from two sellers
has a box under each), so no financing edge runs under another supplier's box. A fragment bought back under
recourse is a dotted purple edge from that financier box to the desk, which holds it from then on (one column
further). Sellers carry an orange dot, financings with recourse say so on the financier's box, and a holder whose
fragment was frozen carries a "frozen" tag. Amounts are exact (`format_fen`), so a column's boxes add up to what
the column before it paid on, and tier 1's to the face in the heading. Hovering a node or an edge shows its
numbers (SVG <title>: no script). A column with more suppliers than fit shows the largest and one node for the
rest. The picture is as wide as what it draws, and scales down to the page (see the report's CSS).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from html import escape
from math import sqrt

from chain_client.apps.scenario.summary import FrozenFragment, Node, Tree
from chain_client.money import format_fen

COLUMN_WIDTH = 256
NODE_WIDTH = 206
NODE_HEIGHT = 50
ROW_PITCH = 60
TOP = 64
LEFT = 16
RIGHT = 16
LEGEND_HEIGHT = 40
MAX_ROWS = 24
MAX_EDGE_WIDTH = 14.0
CHAR_WIDTH = 7.0  # a generous average width of a character of the 11-12 px sans-serif text, to size the picture
NAME_CHARS = 28
FIGURE_CHARS = 32
TAG_WIDTH = 64
COLORS = {"issue": "#1f4e79", "pay": "#4f86c6", "finance": "#d9822b", "buyback": "#8e44ad", "frozen": "#2c7fb8"}
DASHES = {"finance": "7 4", "buyback": "2 3"}
# The tree's text and edge styles: one place, included by every page that shows a tree (the report, the portal).
TREE_CSS = """
svg.tree text { font-size: 12px; fill: #1d2733; } svg.tree text.fig { font-size: 11px; fill: #52627a; }
svg.tree text.sold { fill: #b0601a; } svg.tree text.tag { font-size: 10px; font-weight: 600; fill: #2c7fb8; }
svg.tree text.light { fill: #ffffff; } svg.tree text.col { font-size: 12px; font-weight: 600; fill: #52627a; }
svg.tree path.edge { fill: none; opacity: 0.55; } svg.tree path.edge:hover { opacity: 0.95; }
svg.tree text.legend { font-size: 11px; fill: #52627a; }
"""
FILL = {"core": "#1f4e79", "financier": "#fdebd3", "desk": "#efe3f5", "supplier": "#e8f0fa", "other": "#eeeeee"}


@dataclass
class _Box:
    key: str
    label: str
    role: str
    column: int
    members: list[Node] = field(default_factory=list)
    received: int = 0  # a supplier: value paid or confirmed to it; the core: value it confirmed
    bought: int = 0  # a financier box: value it bought from the seller it hangs from; the desk: value held
    sold: int = 0
    paid: int = 0
    recourse: set[bool] = field(default_factory=set)  # a financier box: with / without recourse
    seller: str = ""  # a financier or desk box: the seller's name
    frozen: list[FrozenFragment] = field(default_factory=list)
    y: float = 0.0

    @property
    def x(self) -> int:
        return LEFT + self.column * COLUMN_WIDTH

    @property
    def figures(self) -> list[str]:
        """The lines under the name: exact amounts."""
        if self.role == "core":
            return [f"confirmed {format_fen(self.received)}"]
        if self.role == "financier":
            terms = " / ".join(("with recourse" if r else "without recourse") for r in sorted(self.recourse))
            return [f"bought {format_fen(self.bought)}", terms]
        if self.role == "desk":
            return [f"holds {format_fen(self.bought)}", f"bought back by {self.seller}"]
        lines = [f"received {format_fen(self.received)}"]
        if self.sold:
            lines.append(f"financed {format_fen(self.sold)}")
        return lines

    @property
    def title(self) -> str:
        if len(self.members) > 1:
            head = f"{len(self.members)} holders: " + ", ".join(m.name for m in self.members[:12])
            head += " …" if len(self.members) > 12 else ""
        else:
            head = self.label
        lines = [head]
        if self.role == "financier":
            lines.append(f"bought {format_fen(self.bought)} from {self.seller}")
            lines += [f"with recourse to {self.seller}"] if True in self.recourse else []
            whole = self.members[0]
            lines.append(f"on this receivable in all: bought {format_fen(whole.bought)}, paid {format_fen(whole.paid)}")
        elif self.role == "desk":
            lines.append(f"holds {format_fen(self.bought)} bought back by {self.seller}, and passes on what it is paid")
        else:
            if self.received:
                lines.append(f"{'confirmed' if self.role == 'core' else 'received'} {format_fen(self.received)}")
            if self.sold:
                lines.append(f"financed away {format_fen(self.sold)}")
            if self.role != "core":
                lines.append(f"paid at maturity {format_fen(self.paid)}")
        lines += [_frozen_line(f) for f in self.frozen]
        return "\n".join(lines)


def _frozen_line(f: FrozenFragment) -> str:
    why = f": {f.reason}" if f.reason else ""
    until = f", unfrozen {f.unfrozen}" if f.unfrozen else ", still frozen"
    return f"fragment of {format_fen(f.value)} frozen {f.frozen}{until}{why}"


@dataclass
class _Link:
    source: _Box
    target: _Box
    kind: str
    recourse: bool
    value: int = 0
    fragments: int = 0


@dataclass
class _Layout:
    columns: list[list[_Box]]
    links: list[_Link]
    face: int

    @property
    def boxes(self) -> list[_Box]:
        return [b for column in self.columns for b in column]


def _supplier_column(node: Node) -> int:
    return node.tier if node.tier is not None else 0


def layout(tree: Tree) -> _Layout:
    """Boxes in columns and the links between them, ordered so that each box sits near what paid it."""
    placed = [n for n in tree.nodes if n.role not in ("financier", "desk")]
    by_column: dict[int, list[Node]] = defaultdict(list)
    for node in placed:
        by_column[_supplier_column(node)].append(node)
    boxes: dict[str, _Box] = {}
    where: dict[str, _Box] = {}  # address of a supplier or the core -> its box
    for c, nodes in by_column.items():
        nodes.sort(key=lambda n: -n.received)
        keep = nodes if len(nodes) <= MAX_ROWS else nodes[: MAX_ROWS - 1]
        column = [_Box(n.address, n.name, n.role, c, [n], n.received, 0, n.sold, n.paid) for n in keep]
        rest = nodes[len(keep) :]
        if rest:
            column.append(
                _Box(
                    f"rest-{c}",
                    f"+ {len(rest)} more holders",
                    rest[0].role,
                    c,
                    rest,
                    sum(n.received for n in rest),
                    0,
                    sum(n.sold for n in rest),
                    sum(n.paid for n in rest),
                )
            )
        for box in column:
            boxes[box.key] = box
            where.update({m.address: box for m in box.members})
    core = next((where[n.address] for n in placed if n.role == "core"), None)
    if core is not None:
        core.received = sum(e.value for e in tree.edges if e.kind == "issue")
    for fragment in tree.frozen:
        if fragment.holder in where:
            where[fragment.holder].frozen.append(fragment)

    by_address = {n.address: n for n in tree.nodes}
    by_holder: dict[str, list[_Box]] = defaultdict(list)  # financier or desk address -> its boxes

    def hanging(holder: str, role: str, parent: _Box, seller: str) -> _Box:
        key = f"{holder}@{parent.key}"
        if key not in boxes:
            node = by_address[holder]
            boxes[key] = _Box(key, node.name, role, parent.column + 1, [node], seller=seller)
            by_holder[holder].append(boxes[key])
        return boxes[key]

    def box_of(address: str) -> _Box:
        if address in where:
            return where[address]
        if by_holder[address]:
            return by_holder[address][0]
        node = by_address[address]  # a financier or the desk reached another way: a box of its own, after the tiers
        last = max((n.tier or 0 for n in tree.nodes), default=0) + 1
        return hanging(address, node.role, _Box("end", "", "", last - 1), "")

    links: dict[tuple[str, str, str, bool], _Link] = {}
    # Financings first, so that the boxes they create exist for the buy-backs and any later moves.
    for e in sorted(tree.edges, key=lambda e: {"finance": 0, "buyback": 1}.get(e.kind, 2)):
        if e.kind == "finance":
            source = box_of(e.source)
            target = hanging(e.target, "financier", source, source.label)
            target.bought += e.value
            target.recourse.add(e.recourse)
        elif e.kind == "buyback":
            seller = where.get(e.seller or "")
            parent = boxes.get(f"{e.source}@{seller.key}") if seller is not None else None
            source = parent if parent is not None else box_of(e.source)
            target = hanging(e.target, "desk", source, seller.label if seller is not None else "")
            target.bought += e.value
        else:
            source, target = box_of(e.source), box_of(e.target)
        link = links.setdefault((source.key, target.key, e.kind, e.recourse), _Link(source, target, e.kind, e.recourse))
        link.value += e.value
        link.fragments += e.fragments

    count = max(b.column for b in boxes.values()) + 1 if boxes else 1
    columns: list[list[_Box]] = [[] for _ in range(count)]
    for box in boxes.values():
        columns[box.column].append(box)
    ordered = sorted(links.values(), key=lambda link: -link.value)
    _order(columns, ordered)
    return _Layout(columns, ordered, tree.face)


def _order(columns: list[list[_Box]], links: list[_Link]) -> None:
    """Place each column's boxes near the boxes that paid them (barycentres), left to right; a box nothing paid
    from the left goes last."""
    for c, column in enumerate(columns):
        if c > 0:
            pull: dict[str, tuple[float, int]] = {}
            for link in links:
                if link.target.column == c and link.source.column < c:
                    total, weight = pull.get(link.target.key, (0.0, 0))
                    pull[link.target.key] = (total + link.source.y * link.value, weight + link.value)
            first = {box.key: i for i, box in enumerate(column)}
            column.sort(
                key=lambda b: (pull[b.key][0] / pull[b.key][1] if pull.get(b.key, (0, 0))[1] else 1e12, first[b.key])
            )
        for row, box in enumerate(column):
            box.y = TOP + row * ROW_PITCH


def column_title(column: list[_Box], c: int) -> str:
    roles = {b.role for b in column}
    parts = []
    if "core" in roles:
        parts.append("core enterprise")
    if roles - {"core", "financier", "desk"}:
        parts.append(f"tier {c}")
    if "financier" in roles:
        parts.append("financiers")
    if "desk" in roles:
        parts.append("desk (bought back)")
    return " · ".join(parts)


def render_svg(tree: Tree) -> str:
    laid = layout(tree)
    rows = max((len(c) for c in laid.columns), default=1)
    height = TOP + rows * ROW_PITCH + LEGEND_HEIGHT
    paths, right = _edges(laid)
    kinds = {link.kind for link in laid.links}
    legend, legend_right = _legend(height, buyback="buyback" in kinds, frozen=any(b.frozen for b in laid.boxes))
    titles = [(LEFT + c * COLUMN_WIDTH, column_title(column, c)) for c, column in enumerate(laid.columns)]
    content = [
        right,
        legend_right,
        *(b.x + NODE_WIDTH for b in laid.boxes),
        *(x + CHAR_WIDTH * len(t) for x, t in titles),
    ]
    width = int(max(content, default=0.0) + RIGHT + 0.999)
    parts = [
        f'<svg class="tree" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="credit tree of {escape(tree.receivable)}">'
    ]
    parts += [f'<text class="col" x="{x}" y="{TOP - 22}">{escape(t)}</text>' for x, t in titles if t]
    parts += paths
    parts += [_node(box) for box in laid.boxes]
    parts.append(legend)
    parts.append("</svg>")
    return "\n".join(parts)


def _edges(laid: _Layout) -> tuple[list[str], float]:
    """The edges' paths, and the rightmost point any of them reaches (their curves included)."""
    out = []
    right = 0.0
    for link in laid.links:
        source, target, kind = link.source, link.target, link.kind
        x1: float = source.x + NODE_WIDTH
        y1 = source.y + NODE_HEIGHT / 2
        x2: float = target.x
        y2 = target.y + NODE_HEIGHT / 2
        if target.column <= source.column:  # same column or backwards: loop around below
            x2 = target.x + NODE_WIDTH / 2
            y2 = target.y + NODE_HEIGHT
        bend = max(40.0, (x2 - x1) / 2)
        right = max(right, x1 + bend, x2)
        stroke = 1.2 + (MAX_EDGE_WIDTH - 1.2) * sqrt(link.value / laid.face) if laid.face else 1.2
        dash = f' stroke-dasharray="{DASHES[kind]}"' if kind in DASHES else ""
        what = {
            "issue": "confirmed",
            "pay": "paid",
            "finance": "financed (sold)" + (" with recourse" if link.recourse else " without recourse"),
            "buyback": "bought back by the seller, held by the desk",
        }[kind]
        pieces = f"{link.fragments} fragment{'s' * (link.fragments != 1)}"
        title = f"{source.label} → {target.label}: {what} {format_fen(link.value)} in {pieces}"
        out.append(
            f'<path class="edge {kind}" data-source="{escape(source.key)}" data-target="{escape(target.key)}" '
            f'data-value="{link.value}" d="M{x1:.0f},{y1:.0f} C{x1 + bend:.0f},{y1:.0f} {x2 - bend:.0f},{y2:.0f} '
            f'{x2:.0f},{y2:.0f}" stroke="{COLORS[kind]}" stroke-width="{stroke:.1f}"{dash}>'
            f"<title>{escape(title)}</title></path>"
        )
    return out, right


def _node(box: _Box) -> str:
    x, y = box.x, box.y
    fill = FILL.get(box.role, FILL["other"])
    text_class = "light" if box.role == "core" else ""
    border = {"financier": COLORS["finance"], "desk": COLORS["buyback"]}.get(box.role, "#1f4e79")
    marks = 1 if box.sold else 0
    room = NAME_CHARS - (10 if box.frozen else 0) - 2 * marks
    name = box.label if len(box.label) <= room else box.label[: room - 1] + "…"
    data = f' data-key="{escape(box.key)}" data-column="{box.column}"'
    if box.role == "supplier" or box.role == "core":
        data += f' data-received="{box.received}"'
    if box.role in ("financier", "desk"):
        data += f' data-bought="{box.bought}"'
    parts = [
        f'<g class="node {box.role}"{data}><title>{escape(box.title)}</title>',
        f'<rect x="{x}" y="{y:.0f}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="6" fill="{fill}" '
        f'stroke="{border}"/>',
        f'<text class="name {text_class}" x="{x + 8}" y="{y + 15:.0f}">{escape(name)}</text>',
    ]
    for i, line in enumerate(box.figures[:2]):
        line = line if len(line) <= FIGURE_CHARS else line[: FIGURE_CHARS - 1] + "…"
        css = "fig " + text_class + (" sold" if line.startswith("financed") else "")
        parts.append(f'<text class="{css.strip()}" x="{x + 8}" y="{y + 30 + 13 * i:.0f}">{escape(line)}</text>')
    if box.sold:
        parts.append(
            f'<circle class="financed-mark" cx="{x + NODE_WIDTH - 10}" cy="{y + 10:.0f}" r="5" '
            f'fill="{COLORS["finance"]}"><title>financed {escape(format_fen(box.sold))}</title></circle>'
        )
    if box.frozen:
        still = any(f.unfrozen is None for f in box.frozen)
        tag = "frozen" if still else "was frozen"
        tx = x + NODE_WIDTH - (22 if box.sold else 6) - TAG_WIDTH
        parts.append(
            f'<g class="frozen-mark"><title>{escape(chr(10).join(_frozen_line(f) for f in box.frozen))}</title>'
            f'<rect x="{tx}" y="{y + 3:.0f}" width="{TAG_WIDTH}" height="14" rx="3" fill="#ffffff" '
            f'stroke="{COLORS["frozen"]}"/><text class="tag" x="{tx + TAG_WIDTH // 2}" y="{y + 14:.0f}" '
            f'text-anchor="middle" fill="{COLORS["frozen"]}">{tag}</text></g>'
        )
    parts.append("</g>")
    return "".join(parts)


def _legend(height: int, *, buyback: bool, frozen: bool) -> tuple[str, float]:
    y = height - 16
    items = [
        ("issue", "confirmed by the core enterprise"),
        ("pay", "paid down the chain"),
        ("finance", "financed (the bank's box hangs from the seller)"),
    ]
    if buyback:
        items.append(("buyback", "bought back (recourse)"))
    out = []
    x = float(LEFT)
    for kind, text in items:
        dash = f' stroke-dasharray="{DASHES[kind]}"' if kind in DASHES else ""
        out.append(
            f'<line x1="{x:.0f}" y1="{y - 4}" x2="{x + 28:.0f}" y2="{y - 4}" stroke="{COLORS[kind]}" stroke-width="3"'
            f'{dash}/><text class="legend" x="{x + 34:.0f}" y="{y}">{escape(text)}</text>'
        )
        x += 34 + CHAR_WIDTH * len(text) + 24
    if frozen:
        text = "a holder's fragment frozen by the operator"
        out.append(
            f'<rect x="{x:.0f}" y="{y - 11}" width="28" height="12" rx="3" fill="#ffffff" stroke="{COLORS["frozen"]}"/>'
            f'<text class="legend" x="{x + 34:.0f}" y="{y}">{escape(text)}</text>'
        )
        x += 34 + CHAR_WIDTH * len(text) + 24
    return f'<g class="legend">{"".join(out)}</g>', x - 24
