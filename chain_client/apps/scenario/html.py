"""The HTML report: one self-contained file (inline CSS and SVG, no script, no font, image or stylesheet from
anywhere else) with the run's facts, the invariant checks, the tier, lender and repayment tables, and one credit
tree per receivable."""

from __future__ import annotations

from html import escape
from pathlib import Path

from chain_client.apps.scenario.report import (
    TIER_HEAD,
    TIER_NOTE,
    deploy_facts,
    frozen_fact,
    lender_cells,
    run_facts,
    tier_cells,
    tier_totals,
)
from chain_client.apps.scenario.summary import Summary, Tree
from chain_client.apps.scenario.svg import TREE_CSS, render_svg
from chain_client.money import format_fen
from chain_client.words import counted

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; margin: 24px 32px;
       color: #1d2733; background: #fbfcfe; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d5dde8; }
h3 { font-size: 15px; margin: 22px 0 6px; } p.lead { max-width: 980px; color: #3b4a5c; }
.facts { color: #52627a; font-size: 13px; } .facts b { color: #1d2733; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0 4px; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e3e8ef; text-align: right; white-space: nowrap; }
th { white-space: normal; max-width: 140px; }
th { background: #eef3f9; font-weight: 600; } td:first-child, th:first-child { text-align: left; }
tfoot td { font-weight: 600; border-top: 2px solid #c9d3e0; }
.ok { color: #18794e; font-weight: 600; } .bad { color: #c0392b; font-weight: 600; }
ul.checks { list-style: none; padding-left: 0; font-size: 14px; } ul.checks li { margin: 3px 0; }
ul.fail { color: #c0392b; font-size: 12px; }
.tree-box { overflow-x: auto; background: #fff; border: 1px solid #dfe6ef; border-radius: 8px; padding: 6px; }
svg.tree { max-width: 100%; height: auto; }
.meta { font-size: 12px; color: #52627a; margin: 0 0 6px; }
"""


def _table(head: list[str], rows: list[list[str]], foot: list[str] | None = None) -> str:
    out = ["<table><thead><tr>", *(f"<th>{escape(h)}</th>" for h in head), "</tr></thead><tbody>"]
    for row in rows:
        out += ["<tr>", *(f"<td>{escape(c)}</td>" for c in row), "</tr>"]
    out.append("</tbody>")
    if foot:
        out += ["<tfoot><tr>", *(f"<td>{escape(c)}</td>" for c in foot), "</tr></tfoot>"]
    out.append("</table>")
    return "".join(out)


def _tiers(s: Summary) -> str:
    table = _table(TIER_HEAD, [tier_cells(r) for r in s.tiers], tier_totals(s))
    return table + f'<p class="meta">{escape(TIER_NOTE)}</p>'


def _lenders(s: Summary) -> str:
    rows = [lender_cells(r) for r in s.lenders]
    head = ["financier", "financings", "value bought", "funded", "repaid", "of which buy-backs",
            "paid to sellers after buy-back", "outstanding", "avg rate", "yield (ACT/365)"]  # fmt: skip
    return _table(head, rows)


def _repayments(s: Summary) -> str:
    rows = [
        [
            r.receivable,
            r.debtor,
            format_fen(r.face),
            r.maturity,
            format_fen(r.on_time),
            format_fen(r.late) + (f" ({r.days_late} days late)" if r.days_late is not None else ""),
            format_fen(r.outstanding),
            format_fen(r.paid_out),
            str(r.holders_paid),
            r.state + (" (was overdue)" if r.overdue_marked and r.state != "overdue" else ""),
        ]
        for r in s.repayments
    ]
    head = ["receivable", "debtor", "face", "maturity", "on time", "late", "outstanding", "paid to holders",
            "holders", "state"]  # fmt: skip
    return _table(head, rows)


def _checks(s: Summary) -> str:
    items = []
    for c in s.checks:
        mark = '<span class="ok">✓</span>' if c.passed else '<span class="bad">✗</span>'
        fails = "".join(f"<li>{escape(f)}</li>" for f in c.failures)
        items.append(
            f"<li>{mark} <b>{escape(c.name)}</b>: {escape(c.detail)}"
            + (f'<ul class="fail">{fails}</ul>' if fails else "")
            + "</li>"
        )
    return f'<ul class="checks">{"".join(items)}</ul>'


def _tree(t: Tree) -> str:
    financings = [e for e in t.edges if e.kind == "finance"]
    financed = sum(e.value for e in financings)
    with_recourse = sum(e.value for e in financings if e.recourse)
    bought_back = sum(e.value for e in t.edges if e.kind == "buyback")
    holders = sum(1 for n in t.nodes if n.role == "supplier")
    names = {n.address: n.name for n in t.nodes}
    facts = [
        f"document: {t.document}",
        f"slot {t.slot[:18]}…",
        counted(holders, "supplier holder"),
        f"{format_fen(financed)} financed"
        + (f", {format_fen(with_recourse)} of it with recourse" if with_recourse else ""),
    ]
    if bought_back:
        facts.append(f"{format_fen(bought_back)} bought back under recourse")
    facts += [frozen_fact(names.get(f.holder, f.holder), f) for f in t.frozen]
    return (
        f'<section class="receivable"><h3>{escape(t.receivable)}: {escape(t.debtor)} owes {format_fen(t.face)}, '
        f"due {escape(t.maturity)} ({escape(t.state)})</h3>"
        f'<p class="meta">{" · ".join(escape(f) for f in facts)}</p>'
        f'<div class="tree-box">{render_svg(t)}</div></section>'
    )


def render_html(s: Summary) -> str:
    verdict = (
        '<span class="ok">all invariants hold</span>' if s.passed else '<span class="bad">an invariant failed</span>'
    )
    deployed = deploy_facts(s)
    facts = escape(run_facts(s) + (f" ({deployed})" if deployed else "")) + (
        f" · <b>{s.wall_seconds:.1f} s</b> on the {escape(s.chain)} (chain id {s.chain_id}) · started "
        f"{escape(s.started)} · day count {escape(s.day_count)}"
    )
    body = [
        f"<h1>{escape(s.scenario)}</h1>",
        f'<p class="lead">{escape(s.description)}</p>' if s.description else "",
        f'<p class="facts">{facts}</p>',
        f"<h2>Invariants: {verdict}</h2>",
        _checks(s),
        "<h2>Per tier</h2>",
        _tiers(s),
        "<h2>Per lender</h2>",
        _lenders(s),
        "<h2>Repayment</h2>",
        _repayments(s),
        "<h2>Credit trees</h2>",
        '<p class="meta">Holders by tier; an edge is value moved, its width grows with the value. A financing is a '
        "dashed orange edge from the supplier that sold the fragment to the financier's box beside it, and an orange "
        "dot marks the seller; a dotted purple edge is a buy-back under recourse. Amounts are exact: each tier's "
        "boxes add up to what the tier before paid on, tier 1's to the face. Hover for more figures.</p>",
        *(_tree(t) for t in s.trees),
        '<p class="meta">Deployment: '
        + " · ".join(f"{escape(k)} {escape(v)}" for k, v in s.deployment.items())
        + "</p>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(s.scenario)}</title><style>{_CSS}{TREE_CSS}</style></head><body>\n"
        + "\n".join(part for part in body if part)
        + "\n</body></html>\n"
    )


def write_html(s: Summary, path: Path) -> None:
    path.write_text(render_html(s), encoding="utf-8")
