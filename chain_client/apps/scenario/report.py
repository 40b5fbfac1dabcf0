"""The end-of-run summary in the terminal (rich tables) and as JSON for machines."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from chain_client.apps.scenario.plan import Plan
from chain_client.apps.scenario.summary import FrozenFragment, LenderRow, Summary, TierRow
from chain_client.money import format_fen
from chain_client.words import counted


def percent(rate: Decimal | None) -> str:
    return "—" if rate is None else f"{rate * 100:.2f}%"


TIER_HEAD = ["tier", "suppliers", "value received", "value financed", "financings", "cash obtained",
             "avg financing cost", "paid on time", "paid late"]  # fmt: skip


def tier_cells(r: TierRow) -> list[str]:
    """One tier's row, as text: the same cells in the terminal and in the HTML report."""
    return [
        f"tier {r.tier}",
        str(r.members),
        format_fen(r.value_received),
        format_fen(r.value_financed),
        str(r.financings),
        format_fen(r.cash_from_financing),
        percent(r.financing_cost),
        format_fen(r.paid_on_time),
        format_fen(r.paid_late),
    ]


def tier_totals(s: Summary) -> list[str]:
    """The footer: value received is counted again at every tier it passes, so its total is what was issued."""
    t = s.tiers
    return [
        "all tiers",
        str(sum(r.members for r in t)),
        f"issued {format_fen(s.issued)}",
        format_fen(sum(r.value_financed for r in t)),
        str(sum(r.financings for r in t)),
        format_fen(sum(r.cash_from_financing for r in t)),
        "",
        format_fen(sum(r.paid_on_time for r in t)),
        format_fen(sum(r.paid_late for r in t)),
    ]


TIER_NOTE = (
    "value received: what reached a tier's suppliers; a fen paid on is received again by the next tier, so the "
    "total is the value issued. avg cost: annual discount rate, weighted by value and days. paid on time: by "
    "maturity plus the grace period; late: after it."
)


def tier_table(s: Summary) -> Table:
    t = Table(title="Per tier", title_justify="left", caption=TIER_NOTE, caption_justify="left", show_footer=True)
    for i, (name, foot) in enumerate(zip(TIER_HEAD, tier_totals(s), strict=True)):
        t.add_column(name.replace("avg financing cost", "avg cost"), justify="left" if i == 0 else "right", footer=foot)
    for r in s.tiers:
        t.add_row(*tier_cells(r))
    return t


def lender_cells(r: LenderRow) -> list[str]:
    """One financier's row, as text: the same cells in the terminal and in the HTML report."""
    return [
        r.financier,
        str(r.financings),
        format_fen(r.value_bought),
        format_fen(r.funded),
        format_fen(r.repaid),
        format_fen(r.recourse),
        format_fen(r.paid_to_sellers),
        format_fen(r.outstanding),
        percent(r.rate),
        percent(r.annual_yield) + (f" ({r.open_financings} open)" if r.open_financings else ""),
    ]


def lender_table(s: Summary) -> Table:
    t = Table(title="Per lender (yield: simple annual, ACT/365, on what was paid in full)", title_justify="left")
    names = ("financier", "deals", "bought", "funded", "repaid", "recourse", "to sellers", "outstanding")
    for name in names:
        t.add_column(name, justify="left" if name == "financier" else "right", no_wrap=name == "financier")
    t.add_column("avg rate", justify="right")
    t.add_column("yield", justify="right")
    for r in s.lenders:
        t.add_row(*lender_cells(r))
    return t


def members_paid(s: Summary) -> int:
    """Members paid on any receivable, each once (a supplier paid on two receivables is one member)."""
    return len({n.address for t in s.trees for n in t.nodes if n.paid})


def repayment_table(s: Summary, limit: int = 25) -> Table:
    t = Table(title="Repayment", title_justify="left", show_footer=len(s.repayments) > 1)
    rows = s.repayments
    t.add_column("receivable", footer=counted(len(rows), "receivable"))
    t.add_column("face", justify="right", footer=format_fen(sum(r.face for r in rows)))
    t.add_column("maturity")
    t.add_column("on time", justify="right", footer=format_fen(sum(r.on_time for r in rows)))
    t.add_column("late", justify="right", footer=format_fen(sum(r.late for r in rows)))
    t.add_column("outstanding", justify="right", footer=format_fen(sum(r.outstanding for r in rows)))
    t.add_column("paid to holders", justify="right", footer=format_fen(sum(r.paid_out for r in rows)))
    t.add_column("holders", justify="right", footer=f"{members_paid(s)} distinct")
    t.add_column("state")
    for r in rows[:limit]:
        late = f"{r.days_late} days late" if r.days_late is not None else ""
        state = r.state + (" (was overdue)" if r.overdue_marked and r.state != "overdue" else "")
        t.add_row(
            r.receivable,
            format_fen(r.face),
            r.maturity,
            format_fen(r.on_time),
            format_fen(r.late) + (f" ({late})" if late else ""),
            format_fen(r.outstanding),
            format_fen(r.paid_out),
            str(r.holders_paid),
            state,
        )
    if len(rows) > limit:
        t.add_row(f"… {len(rows) - limit} more", *[""] * 8)
    return t


def frozen_lines(s: Summary) -> list[str]:
    """Each fragment the operator froze: whose, how much, when, until when, and why."""
    out = []
    for t in s.trees:
        names = {n.address: n.name for n in t.nodes}
        out += [f"{t.receivable}: {frozen_fact(names.get(f.holder, f.holder), f)}" for f in t.frozen]
    return out


def frozen_fact(holder: str, f: FrozenFragment) -> str:
    until = f"unfrozen {f.unfrozen}" if f.unfrozen else "still frozen"
    why = f": {f.reason}" if f.reason else ""
    return f"{holder}'s fragment of {format_fen(f.value)} frozen {f.frozen}, {until}{why}"


def checks_text(s: Summary) -> Text:
    out = Text()
    for c in s.checks:
        out.append("  ✓ " if c.passed else "  ✗ ", style="bold green" if c.passed else "bold red")
        out.append(f"{c.name}: ", style="bold")
        out.append(c.detail + "\n")
        for failure in c.failures:
            out.append(f"      {failure}\n", style="red")
    return out


def run_facts(s: Summary) -> str:
    """The run's size, counted as the dry run and the progress bar count it (the deployment apart)."""
    return ", ".join(
        [
            counted(s.steps, "step"),
            counted(s.transactions, "transaction"),
            counted(s.operations, "operation"),
            counted(s.financings, "financing"),
            f"{s.gas_used:,} gas",
        ]
    )


def deploy_facts(s: Summary) -> str:
    if not s.deploy_transactions:
        return ""
    return (
        f"before them, deploying the contracts: {counted(s.deploy_transactions, 'transaction')}, {s.deploy_gas:,} gas"
    )


def dry_run_line(name: str, plan: Plan) -> str:
    """What `--dry-run` prints: the same counts, with the same words, as the progress bar and the summary."""
    return (
        f"{name}: {counted(len(plan.members), 'member')}, {counted(len(plan.receivables), 'receivable')}, "
        f"{counted(len(plan.steps) - 1, 'step')} -> {counted(plan.transactions, 'transaction')}, "
        f"{counted(plan.operations, 'operation')}; no problems found"
    )


def footer(s: Summary) -> Text:
    deployed = deploy_facts(s)
    return Text(
        f"{run_facts(s)}; {s.wall_seconds:.1f} s on the {s.chain}" + (f"\n{deployed}" if deployed else ""), style="dim"
    )


def render(s: Summary) -> Group:
    head = Text(f"{s.scenario}\n", style="bold")
    frozen = frozen_lines(s)
    return Group(
        head,
        tier_table(s),
        lender_table(s),
        repayment_table(s),
        *([Text("Frozen fragments", style="bold"), Text("\n".join(f"  {line}" for line in frozen))] if frozen else []),
        Text("Invariants", style="bold"),
        checks_text(s),
        footer(s),
    )


def print_summary(console: Console, s: Summary) -> None:
    console.print(render(s))


def write_json(s: Summary, path: Path) -> None:
    """Money in integer fen, rates as decimal strings ("0.0335"), addresses checksummed."""
    path.write_text(s.model_dump_json(indent=2) + "\n")
