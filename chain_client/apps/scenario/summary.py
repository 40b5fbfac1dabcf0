"""The numbers of a run, from the chain's record (`ledger.py`): per tier, per lender, per receivable, and each
receivable's credit tree. Plain data (pydantic, so `--json` is `model_dump_json`); `report.py` and `html.py`
only lay it out.

Definitions:
- value received (a tier): value of receivables that reached its members: confirmed to them, paid to them out
  of a fragment, or handed to them whole.
- average financing cost / rate: the discount as an annual rate on the scenario's day count, weighted by value
  and days: Σ discount / Σ (value × days to maturity / basis).
- value received does not add up across tiers (what tier 1 pays on is received again by tier 2): the total
  of the column is the value issued, the face of every receivable.
- paid at maturity (a tier): repayments that reached its members, paid to the fragments they hold or, for a
  fragment a member bought back under recourse, passed on by the desk that holds it (`RecourseRedeemed`); on
  time when paid by maturity plus the grace period, late after it.
- yield (a lender): simple annual yield, ACT/365, on financings whose fragment was paid in full (or bought back
  by the seller under recourse): 365 × Σ (cash received − price) / Σ (price × days from funding to the cash,
  weighted by amount). Cash received counts payments on its fragment, the buy-back and the desk's later
  payments to it; what the desk passes on to the seller after a buy-back is the seller's, paid on chain.
- on time: repaid by maturity plus the grace period; late: after it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from eth_utils.crypto import keccak
from pydantic import BaseModel, ConfigDict

from chain_client.apps.scenario.accounts import Accounts
from chain_client.apps.scenario.checks import Check
from chain_client.apps.scenario.ledger import Financed, Ledger, Paid, Repaid
from chain_client.apps.scenario.models import Freeze, MemberRole
from chain_client.apps.scenario.plan import Plan
from chain_client.apps.scenario.steps import ZERO_MEMO
from chain_client.apps.scenario.world import DESK
from chain_client.constants import DAY
from chain_client.ids import slot_of
from chain_client.pricing import days_between

_DAYS = Decimal(DAY)


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)


class TierRow(_Row):
    tier: int
    members: int
    value_received: int
    value_financed: int
    financings: int
    cash_from_financing: int
    financing_cost: Decimal | None  # annual rate, e.g. 0.0385
    cash_at_maturity: int  # paid_on_time + paid_late
    paid_on_time: int = 0
    paid_late: int = 0


class LenderRow(_Row):
    financier: str
    financings: int
    value_bought: int
    funded: int
    repaid: int  # cash received: payments on its fragments, buy-backs, and the desk's payments to it after them
    recourse: int  # of it, what sellers paid to buy fragments back
    paid_to_sellers: int  # later payments on those fragments, passed on to the sellers by the desk (on chain)
    outstanding: int  # value of its fragments not yet paid
    rate: Decimal | None
    annual_yield: Decimal | None
    open_financings: int  # not paid in full yet: left out of the yield


class RepaymentRow(_Row):
    receivable: str
    debtor: str
    face: int
    maturity: str
    state: str
    on_time: int
    late: int
    outstanding: int
    paid_out: int
    holders_paid: int
    days_late: int | None  # of the last late payment
    overdue_marked: bool


class Node(_Row):
    address: str
    name: str
    role: str
    tier: int | None
    received: int  # value paid or confirmed to it
    bought: int  # value it financed (a financier)
    sold: int  # value it financed away
    paid: int  # cash paid to it for this receivable


class Edge(_Row):
    source: str
    target: str
    value: int
    kind: str  # issue, pay, finance, buyback (into the desk's custody)
    fragments: int
    recourse: bool = False  # a financing with recourse to the seller
    seller: str | None = None  # finance and buyback edges: the supplier that sold the fragment (address)


class FrozenFragment(_Row):
    """A fragment the operator froze: who held it, its value then, why, and when (unfrozen: None if still)."""

    holder: str  # address
    value: int
    reason: str
    frozen: str
    unfrozen: str | None


class Tree(_Row):
    receivable: str
    slot: str
    debtor: str
    face: int
    maturity: str
    state: str
    document: str
    nodes: list[Node]
    edges: list[Edge]
    frozen: list[FrozenFragment] = []


class CheckRow(_Row):
    name: str
    passed: bool
    detail: str
    failures: list[str]


class Summary(_Row):
    scenario: str
    description: str
    chain: str
    chain_id: int
    deployment: dict[str, str]
    day_count: str
    started: str
    wall_seconds: float
    steps: int
    transactions: int  # the plan's (set-up and steps): the dry run's and the progress bar's count
    operations: int
    gas_used: int
    financings: int
    tiers: list[TierRow]
    lenders: list[LenderRow]
    repayments: list[RepaymentRow]
    trees: list[Tree]
    checks: list[CheckRow]
    deploy_transactions: int = 0  # deploying the contracts, before the plan's transactions and apart from them
    deploy_gas: int = 0
    # Seconds each phase took: planning (the dry run, twice), sending, reading the ledger, each check, summarising
    # (the report, written after, is timed by whoever writes it).
    timings: dict[str, float] = {}

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def issued(self) -> int:
        """The face value of every receivable issued: what the tiers' value received comes from."""
        return sum(r.face for r in self.repayments)


def _date(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d")


def _rate(discount: int, weight: Decimal) -> Decimal | None:
    return (Decimal(discount) / weight).quantize(Decimal("0.000001")) if weight else None


class Summarizer:
    def __init__(self, plan: Plan, accounts: Accounts, ledger: Ledger) -> None:
        self.plan = plan
        self.accounts = accounts
        self.ledger = ledger
        self.basis = plan.scenario.settings.day_count.basis
        self.member = {accounts.address(n): m for n, m in plan.members.items()}

    def tier_of(self, address: str) -> int | None:
        member = self.member.get(address)
        return member.tier if member is not None else None

    def days_to_maturity(self, slot: int, t: int) -> int:
        return days_between(t, self.ledger.issued[slot].maturity)

    def deadline(self, slot: int) -> int:
        """The last moment a payment on `slot` is on time: maturity plus the grace period."""
        return self.ledger.issued[slot].maturity + self.plan.scenario.settings.grace_period_days * DAY

    # ------------------------------------------------------------------ tables

    def tiers(self) -> list[TierRow]:
        received: dict[int, int] = defaultdict(int)
        for move in self.ledger.moves:
            tier = self.tier_of(move.recipient)
            if tier is not None and move.kind != "finance" and move.sender != move.recipient:
                received[tier] += move.value
        sold: dict[int, list[tuple[int, int, Decimal]]] = defaultdict(list)
        for f in self.ledger.financings:
            if (tier := self.tier_of(f.seller)) is not None:
                sold[tier].append((f.value, f.price, Decimal(f.value * self.days_to_maturity(f.slot, f.time))))
        on_time: dict[int, int] = defaultdict(int)
        late: dict[int, int] = defaultdict(int)
        paid = [(p.holder, p.slot, p.amount, p.time) for p in self.ledger.payouts]
        paid += [(d.seller, slot_of(d.financed_id), d.to_seller, d.time) for d in self.ledger.redemptions]
        for holder, slot, amount, t in paid:
            if (tier := self.tier_of(holder)) is not None:
                (late if t > self.deadline(slot) else on_time)[tier] += amount
        counts: dict[int, int] = defaultdict(int)
        for m in self.plan.members.values():
            if m.tier is not None:
                counts[m.tier] += 1
        rows = []
        for tier in sorted(counts):
            deals = sold[tier]
            weight = sum((w for _, _, w in deals), Decimal(0)) / self.basis
            rows.append(
                TierRow(
                    tier=tier,
                    members=counts[tier],
                    value_received=received[tier],
                    value_financed=sum(v for v, _, _ in deals),
                    financings=len(deals),
                    cash_from_financing=sum(p for _, p, _ in deals),
                    financing_cost=_rate(sum(v - p for v, p, _ in deals), weight),
                    cash_at_maturity=on_time[tier] + late[tier],
                    paid_on_time=on_time[tier],
                    paid_late=late[tier],
                )
            )
        return rows

    def lenders(self) -> list[LenderRow]:
        receipts: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)  # (token, holder) -> (fen, time)
        burned: set[int] = set()
        for p in self.ledger.payouts:
            receipts[p.token_id, p.holder].append((p.amount, p.time))
            if p.burned:
                burned.add(p.token_id)
        recourse: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
        for c in self.ledger.settled_claims:
            recourse[c.financed_id, c.financier].append((c.amount, c.time))
        to_sellers: dict[tuple[int, str], int] = defaultdict(int)
        for d in self.ledger.redemptions:
            receipts[d.financed_id, d.financier].append((d.to_financier, d.time))
            to_sellers[d.financed_id, d.financier] += d.to_seller
        rows = []
        for name, m in self.plan.members.items():
            if m.role is not MemberRole.FINANCIER:
                continue
            address = self.accounts.address(name)
            deals = [f for f in self.ledger.financings if f.financier == address]
            results = [
                _deal(f, receipts[f.financed_id, address], recourse[f.financed_id, address], f.financed_id in burned)
                for f in deals
            ]
            weight = sum(
                (Decimal(f.value * self.days_to_maturity(f.slot, f.time)) / self.basis for f in deals), Decimal(0)
            )
            capital_days = sum((d.capital_days for d in results if d.closed), Decimal(0))
            profit = sum(d.received - f.price for d, f in zip(results, deals, strict=True) if d.closed)
            rows.append(
                LenderRow(
                    financier=name,
                    financings=len(deals),
                    value_bought=sum(f.value for f in deals),
                    funded=sum(f.price for f in deals),
                    repaid=sum(d.received for d in results),
                    recourse=sum(d.recourse for d in results),
                    paid_to_sellers=sum(to_sellers[f.financed_id, address] for f in deals),
                    outstanding=sum(f.value - d.received for d, f in zip(results, deals, strict=True) if not d.closed),
                    rate=_rate(sum(f.value - f.price for f in deals), weight),
                    annual_yield=(Decimal(365 * profit) / capital_days).quantize(Decimal("0.000001"))
                    if capital_days
                    else None,
                    open_financings=sum(not d.closed for d in results),
                )
            )
        return rows

    def repayments(self, states: dict[int, str]) -> list[RepaymentRow]:
        repaid: dict[int, list[Repaid]] = defaultdict(list)
        for r in self.ledger.repayments:
            repaid[r.slot].append(r)
        paid_out: dict[int, list[Paid]] = defaultdict(list)
        for p in self.ledger.payouts:
            paid_out[p.slot].append(p)
        rows = []
        for name, slot in self.plan.receivables.items():
            issued = self.ledger.issued.get(slot)
            if issued is None:
                continue
            deadline = self.deadline(slot)
            payments = repaid[slot]
            late = [r for r in payments if r.time > deadline]
            payouts = paid_out[slot]
            rows.append(
                RepaymentRow(
                    receivable=name,
                    debtor=self.accounts.name_of(issued.debtor),
                    face=issued.face,
                    maturity=_date(issued.maturity),
                    state=states[slot],
                    on_time=sum(r.amount for r in payments if r.time <= deadline),
                    late=sum(r.amount for r in late),
                    outstanding=issued.face - sum(r.amount for r in payments),
                    paid_out=sum(p.amount for p in payouts),
                    holders_paid=len({p.holder for p in payouts}),
                    days_late=(late[-1].time - issued.maturity) // DAY if late else None,
                    overdue_marked=slot in self.ledger.overdue,
                )
            )
        return rows

    # ------------------------------------------------------------------ trees

    def trees(self, states: dict[int, str], documents: dict[str, str]) -> list[Tree]:
        by_slot: dict[int, list[Edge]] = defaultdict(list)
        grouped: dict[tuple[int, str, str, str, bool, str | None], list[int]] = defaultdict(list)
        financed = {f.financed_id: f for f in self.ledger.financings}
        for move in self.ledger.moves:
            if move.sender == move.recipient:
                continue  # a merge within one holder moves no credit
            kind = {"issue": "issue", "finance": "finance", "buyback": "buyback"}.get(move.kind, "pay")
            deal = financed.get(move.token_id) if kind in ("finance", "buyback") else None
            recourse = deal is not None and deal.recourse
            seller = deal.seller if deal is not None else None
            grouped[move.slot, move.sender, move.recipient, kind, recourse, seller].append(move.value)
        for (slot, source, target, kind, recourse, seller), values in grouped.items():
            edge = Edge(
                source=source,
                target=target,
                value=sum(values),
                kind=kind,
                fragments=len(values),
                recourse=recourse,
                seller=seller,
            )
            by_slot[slot].append(edge)
        reasons = self.freeze_reasons()
        frozen: dict[int, list[FrozenFragment]] = defaultdict(list)
        for fz in self.ledger.freezes:
            frozen[fz.slot].append(
                FrozenFragment(
                    holder=fz.holder,
                    value=fz.value,
                    reason=reasons.get(fz.reason, "0x" + fz.reason.hex()),
                    frozen=_date(fz.time),
                    unfrozen=_date(fz.until) if fz.until is not None else None,
                )
            )
        paid: dict[tuple[int, str], int] = defaultdict(int)
        for p in self.ledger.payouts:
            paid[p.slot, p.holder] += p.amount
        for d in self.ledger.redemptions:  # the desk's custody passes on what it is paid
            paid[slot_of(d.financed_id), d.seller] += d.to_seller
            paid[slot_of(d.financed_id), d.financier] += d.to_financier
        out = []
        for name, slot in self.plan.receivables.items():
            issued = self.ledger.issued.get(slot)
            if issued is None:
                continue
            edges = by_slot[slot]
            addresses = list(dict.fromkeys([issued.debtor, *(e.source for e in edges), *(e.target for e in edges)]))
            flows = _flows(edges)  # one pass: a receivable of 100,000 suppliers has as many nodes as edges
            nodes = [self._node(slot, a, flows[a], paid) for a in addresses]
            out.append(
                Tree(
                    receivable=name,
                    slot=hex(slot),
                    debtor=self.accounts.name_of(issued.debtor),
                    face=issued.face,
                    maturity=_date(issued.maturity),
                    state=states[slot],
                    document=documents[name],
                    nodes=nodes,
                    edges=edges,
                    frozen=frozen[slot],
                )
            )
        return out

    def freeze_reasons(self) -> dict[bytes, str]:
        """The chain keeps a reason's hash; the scenario file has its text."""
        reasons = {ZERO_MEMO: ""}
        for step in self.plan.scenario.steps:
            if isinstance(freeze := getattr(step, "freeze", None), Freeze) and freeze.reason:
                reasons[keccak(text=freeze.reason)] = freeze.reason
        return reasons

    def _node(self, slot: int, address: str, flow: _Flow, paid: dict[tuple[int, str], int]) -> Node:
        member = self.member.get(address)
        name = self.accounts.name_of(address)
        return Node(
            address=address,
            name=name,
            role=member.role.value if member is not None else "desk" if name == DESK else "operator",
            tier=member.tier if member is not None else None,
            received=flow.received,
            bought=flow.bought,
            sold=flow.sold,
            paid=paid[slot, address],
        )


@dataclass
class _Flow:
    """What one node of a credit tree received (other than by buying), bought and sold, in fen."""

    received: int = 0
    bought: int = 0
    sold: int = 0


def _flows(edges: list[Edge]) -> defaultdict[str, _Flow]:
    flows: defaultdict[str, _Flow] = defaultdict(_Flow)
    for e in edges:
        if e.kind == "finance":
            flows[e.target].bought += e.value
            flows[e.source].sold += e.value
        else:
            flows[e.target].received += e.value
    return flows


@dataclass(frozen=True)
class _Deal:
    received: int  # cash the financier got for one financing: payments on its fragment, buy-back, the desk's
    recourse: int
    closed: bool  # paid in full (fragment burned) or bought back by the seller
    capital_days: Decimal  # price × days from funding to the cash, weighted by amount


def _deal(f: Financed, cash: list[tuple[int, int]], claims: list[tuple[int, int]], burned: bool) -> _Deal:
    # After a buy-back the desk, not the financier, holds the fragment, and passes on to the seller its share of
    # later payments (on chain): everything the financier receives is its own.
    flows = cash + claims
    received = sum(a for a, _ in flows)
    weighted = sum((Decimal(a * (t - f.time)) for a, t in flows), Decimal(0))
    days = weighted / (Decimal(received) * _DAYS) if received else Decimal(0)
    return _Deal(received, sum(a for a, _ in claims), burned or bool(claims), f.price * days)


def check_rows(checks: list[Check]) -> list[CheckRow]:
    return [CheckRow(name=c.name, passed=c.passed, detail=c.detail, failures=c.failures) for c in checks]
