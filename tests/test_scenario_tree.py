"""The credit tree in the report tells the truth about who sold what, and its numbers add up: a financing hangs
from the supplier that sold it (no financing edge runs under another supplier's box), amounts are exact so a
column's boxes add up to the heading, and the picture is as wide as what it draws, four tiers and a buy-back
included. The tables' totals mean something, and the dry run, the progress bar and the summary count the same
transactions with the same words."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from chain_client.apps.scenario.html import render_html
from chain_client.apps.scenario.report import dry_run_line, print_summary, tier_totals
from chain_client.apps.scenario.session import Outcome, RunOptions, prepare, run_scenario
from chain_client.apps.scenario.summary import Edge, FrozenFragment, Node, Tree
from chain_client.apps.scenario.svg import NODE_HEIGHT, NODE_WIDTH, render_svg
from chain_client.money import format_fen, format_yuan, parse_yuan
from chain_client.words import counted

ROOT = Path(__file__).resolve().parents[1]
LATE = ROOT / "scripts" / "scenarios" / "late_payment.yaml"


# ---------------------------------------------------------------------------------------------- building trees


def node(address: str, name: str, role: str = "supplier", tier: int | None = None, **figures: int) -> Node:
    values = {"received": 0, "bought": 0, "sold": 0, "paid": 0, **figures}
    return Node(address=address, name=name, role=role, tier=tier, **values)


def tree_of(face: int, nodes: list[Node], edges: list[Edge], **extra: object) -> Tree:
    received = {n.address: 0 for n in nodes}
    sold = dict(received)
    bought = dict(received)
    for e in edges:
        if e.kind == "finance":
            sold[e.source] += e.value
            bought[e.target] += e.value
        else:
            received[e.target] += e.value
    nodes = [
        n.model_copy(update={"received": received[n.address], "sold": sold[n.address], "bought": bought[n.address]})
        for n in nodes
    ]
    fields: dict[str, object] = {"slot": "0x1", "maturity": "2030-01-01", "state": "active", "document": "d"}
    fields.update(extra)
    return Tree(receivable="r", debtor="Core", face=face, nodes=nodes, edges=edges, **fields)  # type: ignore[arg-type]


def pay(source: str, target: str, value: int, kind: str = "pay", **more: object) -> Edge:
    return Edge(source=source, target=target, value=value, kind=kind, fragments=1, **more)  # type: ignore[arg-type]


def three_tiers_with_a_tier_two_financing() -> Tree:
    """Core -> two tier-1 suppliers -> four tier-2 -> tier 3; the bank buys from B2 (tier 2) only."""
    nodes = [
        node("C", "Core", "core"),
        node("A1", "Alpha One", tier=1),
        node("A2", "Alpha Two", tier=1),
        *(node(f"B{i}", f"Beta {i}", tier=2) for i in range(1, 5)),
        *(node(f"G{i}", f"Gamma {i}", tier=3) for i in range(1, 7)),
        node("K", "Bank", "financier"),
    ]
    edges = [
        pay("C", "A1", 1_480_000_00, "issue"),
        pay("C", "A2", 1_520_000_00, "issue"),
        pay("A1", "B1", 640_000_00),
        pay("A1", "B2", 330_000_50),
        pay("A2", "B3", 480_000_00),
        pay("A2", "B4", 270_000_00),
        *(pay("B1", f"G{i}", 90_000_00 + i) for i in range(1, 4)),
        *(pay("B3", f"G{i}", 70_000_00 + i) for i in range(4, 7)),
        pay("B2", "K", 150_000_00, "finance", recourse=True, seller="B2"),
    ]
    return tree_of(3_000_000_00, nodes, edges)


@dataclass(frozen=True)
class Drawn:
    role: str
    column: int
    box: tuple[float, float, float, float]  # left, top, right, bottom
    texts: list[str]


@dataclass(frozen=True)
class Line:
    source: str
    target: str
    points: list[float]  # x, y pairs of the path, control points included


def boxes(svg: str) -> dict[str, Drawn]:
    """key -> column, rectangle and the lines of text of every box in the picture."""
    out: dict[str, Drawn] = {}
    for g in re.finditer(r'<g class="node (\w+)" data-key="([^"]+)" data-column="(\d+)"[^>]*>(.*?)</g>', svg, re.S):
        role, key, column, body = g.groups()
        rect = re.search(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"', body)
        assert rect is not None
        x, y, w, h = (float(v) for v in rect.groups())
        texts = re.findall(r"<text[^>]*>([^<]*)</text>", body)
        out[key] = Drawn(role, int(column), (x, y, x + w, y + h), texts)
    return out


def paths(svg: str, kind: str) -> list[Line]:
    out = []
    for p in re.finditer(r'<path class="edge (\w+)" data-source="([^"]+)" data-target="([^"]+)"[^>]*d="([^"]+)"', svg):
        if p.group(1) == kind:
            out.append(Line(p.group(2), p.group(3), [float(v) for v in re.findall(r"-?[\d.]+", p.group(4))]))
    return out


def svg_size(svg: str) -> tuple[float, float]:
    head = re.search(r'<svg[^>]* width="(\d+)" height="(\d+)" viewBox="0 0 (\d+) (\d+)"', svg)
    assert head is not None
    assert head.group(1) == head.group(3)
    assert head.group(2) == head.group(4)
    return float(head.group(1)), float(head.group(2))


# ---------------------------------------------------------------------------------------------- the picture


def test_a_financing_by_a_tier_two_supplier_hangs_from_that_supplier() -> None:
    svg = render_svg(three_tiers_with_a_tier_two_financing())
    laid = boxes(svg)
    [edge] = paths(svg, "finance")
    assert edge.source == "B2"  # the seller, not another supplier and not a column of banks
    bank = laid[str(edge.target)]
    assert bank.role == "financier"
    assert bank.column == int(laid["B2"].column) + 1  # right beside the seller
    # The edge starts on the seller's right side and runs under no other box.
    x1, y1, *_, x2, _y2 = edge.points
    _left, top, right, bottom = laid["B2"].box
    assert (x1, top <= y1 <= bottom) == (right, True)
    for key, b in laid.items():
        if key in ("B2", edge.target):
            continue
        bx1, _, bx2, _ = b.box
        assert not (min(x1, x2) < bx2 and bx1 < max(x1, x2)), f"the financing edge runs under {key}"
    assert "Bank" in bank.texts[0]
    assert "with recourse" in bank.texts


def test_a_bank_buying_from_two_sellers_has_a_box_under_each() -> None:
    t = three_tiers_with_a_tier_two_financing()
    more = pay("A1", "K", 100_000_00, "finance", seller="A1")
    svg = render_svg(t.model_copy(update={"edges": [*t.edges, more]}))
    sources = {str(e.source): str(e.target) for e in paths(svg, "finance")}
    assert set(sources) == {"A1", "B2"}
    assert sources["A1"] != sources["B2"]
    laid = boxes(svg)
    assert laid[sources["A1"]].column == 2
    assert laid[sources["B2"]].column == 3


def test_the_boxes_show_exact_amounts_that_add_up_to_the_heading() -> None:
    t = three_tiers_with_a_tier_two_financing()
    laid = boxes(render_svg(t))

    def received(column: int) -> int:
        lines = [s for b in laid.values() if b.column == column for s in b.texts if s.startswith("received ")]
        return sum(parse_yuan(s.removeprefix("received ")) for s in lines)

    assert received(1) == t.face == 3_000_000_00  # ¥1,480,000.00 + ¥1,520,000.00, not ¥1.4M + ¥1.5M
    assert received(2) == sum(e.value for e in t.edges if e.source in ("A1", "A2") and e.kind == "pay")
    assert "received ¥1,480,000.00" in laid["A1"].texts
    assert "received ¥330,000.50" in laid["B2"].texts
    assert "financed ¥150,000.00" in laid["B2"].texts


def test_the_picture_is_as_wide_as_a_four_tier_tree_with_a_buy_back() -> None:
    nodes = [
        node("C", "Core", "core"),
        *(node(f"T{i}", f"Tier {i} supplier with a long name", tier=i) for i in range(1, 5)),
        node("K", "Hubei Commercial Bank", "financier"),
        node("D", "FinancingDesk", "desk"),
    ]
    edges = [
        pay("C", "T1", 1_000_000_00, "issue"),
        pay("T1", "T2", 600_000_00),
        pay("T2", "T3", 400_000_00),
        pay("T3", "T4", 200_000_00),
        pay("T4", "K", 150_000_00, "finance", recourse=True, seller="T4"),
        pay("K", "D", 150_000_00, "buyback", recourse=True, seller="T4"),
    ]
    svg = render_svg(tree_of(1_000_000_00, nodes, edges))
    width, height = svg_size(svg)
    laid = boxes(svg)
    assert max(int(b.column) for b in laid.values()) == 6  # core, four tiers, the bank, the desk
    for b in laid.values():
        assert b.box[2] <= width
        assert b.box[3] <= height
    for kind in ("pay", "finance", "buyback"):
        for p in paths(svg, kind):
            xs = p.points[0::2]
            assert max(xs) <= width, f"a {kind} edge reaches x={max(xs)}, beyond {width}"
    for x, text in re.findall(r'<text class="(?:legend|col)" x="([\d.]+)"[^>]*>([^<]*)</text>', svg):
        assert float(x) + 6 * len(text) <= width, text
    # and the report lets the picture scale down to the page rather than cutting it off
    assert "svg.tree { max-width: 100%; height: auto; }" in render_html_css()


def render_html_css() -> str:
    from chain_client.apps.scenario import html

    return html._CSS


def test_a_frozen_fragment_is_marked_on_its_holder_with_the_reason() -> None:
    t = three_tiers_with_a_tier_two_financing()
    frozen = FrozenFragment(holder="B4", value=270_000_00, reason="court order 117", frozen="2027-01-02", unfrozen=None)
    svg = render_svg(t.model_copy(update={"frozen": [frozen]}))
    g = re.search(r'<g class="node supplier" data-key="B4".*?</g></g>', svg, re.S)
    assert g is not None
    assert 'class="frozen-mark"' in g.group(0)
    assert "frozen 2027-01-02, still frozen: court order 117" in g.group(0)
    assert "a holder&#x27;s fragment frozen by the operator" in svg  # the legend explains the tag
    assert svg.count("frozen-mark") == 1


def test_no_node_overlaps_another() -> None:
    laid = boxes(render_svg(three_tiers_with_a_tier_two_financing()))
    rects = [b.box for b in laid.values()]
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
    assert all(b.box[2] - b.box[0] == NODE_WIDTH for b in laid.values())
    assert all(b.box[3] - b.box[1] == NODE_HEIGHT for b in laid.values())


# ---------------------------------------------------------------------------------------------- a run's figures


@pytest.fixture(scope="module")
def late() -> tuple[Outcome, str]:
    """The late-payment scenario (partial repayment, overdue, recourse bought back, a frozen fragment), with
    what its progress bar printed."""
    stream = io.StringIO()
    outcome = run_scenario(LATE, RunOptions(), console=Console(file=stream, width=200, force_terminal=False))
    return outcome, stream.getvalue()


def test_the_tier_total_is_the_value_issued_not_a_sum_over_tiers(late: tuple[Outcome, str]) -> None:
    s = late[0].summary
    assert sum(r.value_received for r in s.tiers) > s.issued == 10_000_000_00  # a fen is received again per tier
    foot = tier_totals(s)
    assert foot[0] == "all tiers"
    assert foot[2] == f"issued {format_fen(s.issued)}"
    out = io.StringIO()
    print_summary(Console(file=out, width=240), s)
    assert format_fen(sum(r.value_received for r in s.tiers)) not in out.getvalue()


def test_paid_at_maturity_separates_on_time_from_late(late: tuple[Outcome, str]) -> None:
    s = late[0].summary
    for r in s.tiers:
        assert r.paid_on_time + r.paid_late == r.cash_at_maturity
    assert sum(r.paid_late for r in s.tiers) > 0  # two late payments reached the suppliers
    assert sum(r.paid_on_time for r in s.tiers) > 0  # and 40% came on time
    [row] = s.repayments
    paid_to_suppliers = sum(r.cash_at_maturity for r in s.tiers)
    paid_to_banks = sum(lender.repaid - lender.recourse for lender in s.lenders)
    assert paid_to_suppliers + paid_to_banks == row.face  # everyone's share, once


def test_recourse_and_the_frozen_fragment_are_marked_in_the_report(late: tuple[Outcome, str]) -> None:
    html = render_html(late[0].summary)
    assert html.count('class="frozen-mark"') == 1
    assert "Dispute over delivery note 8812 (court order 2026-E-117)" in html
    assert "Jingmen Seals&#x27;s fragment of ¥1,200,000.00 frozen" in html
    out = io.StringIO()
    print_summary(Console(file=out, width=240), late[0].summary)
    terminal = r"hydraulics: Jingmen Seals's fragment of ¥1,200,000\.00 frozen \d{4}-\d\d-\d\d, unfrozen \d{4}-"
    assert re.search(terminal, out.getvalue())  # the terminal says so too
    assert ">with recourse</text>" in html
    assert ">without recourse</text>" in html
    assert 'class="edge buyback"' in html
    assert "bought back under recourse" in html


def test_the_dry_run_the_progress_bar_and_the_summary_count_the_same_transactions(
    late: tuple[Outcome, str],
) -> None:
    outcome, progress = late
    source, plan = prepare(LATE)
    s = outcome.summary
    assert plan.transactions == outcome.plan.transactions == s.transactions  # what the chain shows, deployment apart
    assert s.deploy_transactions == 10
    assert len(plan.steps) - 1 == s.steps == 20
    assert f"{s.transactions}/{s.transactions}" in progress  # the transactions bar
    assert f"step {s.steps}/{s.steps}" in progress
    assert f" {s.steps}/{s.steps} " in progress
    line = dry_run_line(source.path.name, plan)
    assert f"{counted(s.transactions, 'transaction')}," in line
    assert "1 receivable," in line
    assert "1 receivables" not in line
    out = io.StringIO()
    print_summary(Console(file=out, width=240), s)
    text = out.getvalue()
    assert f"{s.steps} steps, {s.transactions} transactions, {s.operations} operations" in text
    footer = text[text.index(f"{s.steps} steps, ") :]
    assert "deploying the contracts: 10 transactions" in footer


def test_counts_are_pluralised() -> None:
    assert counted(1, "receivable") == "1 receivable"
    assert counted(0, "receivable") == "0 receivables"
    assert counted(1_200, "transaction") == "1,200 transactions"


def test_one_money_format_for_fen_and_for_the_api_s_yuan_strings() -> None:
    assert format_fen(4_567_890) == format_yuan("45678.90") == format_yuan("45678.9") == "¥45,678.90"
    assert format_yuan("120000.00") == format_fen(12_000_000) == "¥120,000.00"
    assert format_fen(8_630_000_000) == "¥86,300,000.00"
