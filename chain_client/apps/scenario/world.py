"""A model of the chain's state as the scenario moves it, in plain Python: who holds which fragment of what
value, each member's cash, each receivable's repayments, the financings and the clock.

It follows the contracts' rules (pro-rata shares `floor(value × repaid / face)`, a fragment paid in full is
burned, settlement skips frozen fragments, a fragment bought back under recourse is held by the financing desk
and what it is paid later is shared between seller and financier as `FinancingDesk.redeemRecourse` shares it),
so that a plan can be checked step by step before anything is sent, and so that the run can be compared with it
afterwards (every member's cash, and the desk's, to the fen).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chain_client import rules
from chain_client.ids import slot_of, token_id_of
from chain_client.receivables import ReceivableState

DESK = "FinancingDesk"
"""The financing desk contract as a holder in the model: of fragments bought back under recourse (custody), and
of cash for the instant between a payment to such a fragment and its distribution (always zero after a step)."""


@dataclass
class FragmentModel:
    token_id: int
    holder: str
    value: int
    frozen: bool = False
    paid: int = 0  # cash paid to it so far
    burned: bool = False


@dataclass
class ReceivableModel:
    name: str
    slot: int
    debtor: str
    holder: str  # the supplier it was issued to
    face: int
    maturity: int
    state: ReceivableState = ReceivableState.PENDING  # never MATURED: the model has no clock-derived state
    repaid: int = 0
    paid_out: int = 0
    redeemed: int = 0
    last_sequence: int = 1

    @property
    def outstanding(self) -> int:
        return self.face - self.repaid


@dataclass
class FinancingModel:
    financed_id: int
    financier: str
    seller: str
    value: int
    price: int
    recourse: bool
    claim: int = 0
    claim_settled: bool = False
    released: bool = False  # its exposure ended (resold whole, or bought back)


@dataclass
class CustodyModel:
    """`IFinancingDesk.Custody`: a fragment the seller bought back, held by the desk."""

    financed_id: int
    seller: str
    financier: str
    fragment_value: int
    paid_before: int  # what the fragment had been paid (to the financier) when the desk took it
    seller_share: int  # what the seller paid for
    distributed: int = 0
    paid_to_seller: int = 0


@dataclass(frozen=True)
class Redemption:
    """One `redeemRecourse`: what the desk passed on, and its cumulative `distributed` afterwards."""

    financed_id: int
    to_seller: int
    to_financier: int
    distributed: int


@dataclass
class Settlement:
    """What one settlement of a receivable pays: fragments in sequence order, and those left (frozen)."""

    paid: list[tuple[int, int]] = field(default_factory=list)  # (token id, fen)
    skipped: list[int] = field(default_factory=list)
    # Held by the desk, which is no member: `repay_and_settle` leaves them (its `holder_active` is false) and
    # `redeemRecourse` settles and distributes them.
    in_custody: list[int] = field(default_factory=list)


class World:
    def __init__(self, now: int, grace_period: int) -> None:
        self.now = now
        self.grace_period = grace_period
        self.cash: dict[str, int] = {}
        self.supply = 0
        self.fragments: dict[int, FragmentModel] = {}
        self.receivables: dict[int, ReceivableModel] = {}  # by slot
        self.financings: dict[int, FinancingModel] = {}  # by financed token id
        self.nonces: dict[str, int] = {}
        self.desk_approved: set[str] = set()
        self.exposure: dict[tuple[str, str], int] = {}
        self.custody: dict[int, CustodyModel] = {}  # by financed token id

    # ------------------------------------------------------------------ reads

    def receivable_of(self, token_id: int) -> ReceivableModel:
        return self.receivables[slot_of(token_id)]

    def matured(self, r: ReceivableModel) -> bool:
        return self.now >= r.maturity

    def live(self, slot: int) -> list[FragmentModel]:
        return sorted(
            (f for f in self.fragments.values() if slot_of(f.token_id) == slot and not f.burned),
            key=lambda f: f.token_id,
        )

    # ------------------------------------------------------------------ cash

    def mint(self, member: str, amount: int) -> None:
        self.cash[member] = self.cash.get(member, 0) + amount
        self.supply += amount

    def move_cash(self, payer: str, payee: str, amount: int) -> None:
        self.cash[payer] = self.cash.get(payer, 0) - amount
        self.cash[payee] = self.cash.get(payee, 0) + amount

    # ------------------------------------------------------------------ fragments

    def issue(self, r: ReceivableModel) -> int:
        self.receivables[r.slot] = r
        token_id = token_id_of(r.slot, 1)
        self.fragments[token_id] = FragmentModel(token_id, r.holder, r.face)
        return token_id

    def mint_fragment(self, source: FragmentModel, holder: str, value: int) -> int:
        r = self.receivable_of(source.token_id)
        r.last_sequence += 1
        token_id = token_id_of(r.slot, r.last_sequence)
        source.value -= value
        self.fragments[token_id] = FragmentModel(token_id, holder, value)
        return token_id

    def finance(self, source: FragmentModel, financier: str, value: int, price: int, recourse: bool) -> int:
        """Sell `value` of `source` to `financier` for `price`: value one way, cash the other (the desk's swap)."""
        seller = source.holder
        debtor = self.receivable_of(source.token_id).debtor
        earlier = self.financings.get(source.token_id)
        if value == source.value:
            # The whole fragment changes hands: the open record of it ends and this one replaces it.
            if earlier is not None and not earlier.released:
                self.release(earlier, debtor, earlier.value)
            source.holder = financier
            financed_id = source.token_id
        else:
            # The financier of record selling part of it: that much leaves its books (and its recourse claim).
            if earlier is not None and earlier.financier == seller and not earlier.released:
                self.release(earlier, debtor, min(value, earlier.value))
            financed_id = self.mint_fragment(source, financier, value)
        self.financings[financed_id] = FinancingModel(financed_id, financier, seller, value, price, recourse)
        self.exposure[financier, debtor] = self.exposure.get((financier, debtor), 0) + value
        self.move_cash(financier, seller, price)
        return financed_id

    # ------------------------------------------------------------------ repayment

    def repay(self, r: ReceivableModel, payer: str, amount: int) -> None:
        self.cash[payer] = self.cash.get(payer, 0) - amount
        r.repaid += amount
        if r.repaid == r.face:
            r.state = ReceivableState.REPAID

    def settlement(self, r: ReceivableModel) -> Settlement:
        """Who a settlement of `r` now would pay, without paying (repay_and_settle's selection)."""
        out = Settlement()
        for f in self.live(r.slot):
            owed = rules.owed(f.value, f.paid, r.repaid, r.face)
            if owed == 0 and f.value != 0:
                continue  # nothing owed now; an empty fragment is settled to burn it
            if f.frozen:
                out.skipped.append(f.token_id)
            elif f.holder == DESK:
                out.in_custody.append(f.token_id)
            else:
                out.paid.append((f.token_id, owed))
        return out

    def settle(self, r: ReceivableModel, settlement: Settlement) -> None:
        for token_id, _ in settlement.paid:
            self.pay_fragment(r, self.fragments[token_id])

    def pay_fragment(self, r: ReceivableModel, f: FragmentModel) -> int:
        """`_payFragment`: pay `f`'s holder what it is owed now, burning it when that is all of its value."""
        owed = rules.owed(f.value, f.paid, r.repaid, r.face)
        f.paid += owed
        self.cash[f.holder] = self.cash.get(f.holder, 0) + owed
        r.paid_out += owed
        if rules.paid_in_full(f.value, r.repaid, r.face):
            f.burned = True
            r.redeemed += f.value
        return owed

    def release(self, record: FinancingModel, debtor: str, amount: int) -> None:
        """`_release`: `amount` of the record's value leaves the financier's exposure, once."""
        record.value -= amount
        record.released = record.value == 0
        self.exposure[record.financier, debtor] = self.exposure.get((record.financier, debtor), 0) - amount

    # ------------------------------------------------------------------ recourse

    def recourse_due(self, record: FinancingModel) -> int:
        """`_recourseDue`: the unpaid part of the value sold with recourse that the financier still holds."""
        r = self.receivable_of(record.financed_id)
        return rules.recourse_due(record.value, self.fragments[record.financed_id].value, r.repaid, r.face)

    def buy_back(self, record: FinancingModel) -> int:
        """`settleRecourse`: the financier is paid what the fragment is owed now, the seller pays the unpaid part
        of the value it sold (recomputed), and the desk takes the fragment into custody. Returns what the
        seller paid."""
        r = self.receivable_of(record.financed_id)
        f = self.fragments[record.financed_id]
        self.pay_fragment(r, f)
        due = self.recourse_due(record)
        self.custody[f.token_id] = CustodyModel(
            f.token_id, record.seller, record.financier, f.value, rules.entitled(f.value, r.repaid, r.face), due
        )
        record.claim_settled = True
        if not record.released:
            self.release(record, r.debtor, record.value)
        f.holder = DESK
        self.move_cash(record.seller, record.financier, due)
        return due

    def redeem_recourse(self, financed_id: int) -> Redemption | None:
        """`redeemRecourse`: settle the fragment in custody (paying the desk), then pass on what it received since
        the last time, the seller's share cumulatively rounded down. None: nothing new (the contract reverts
        `NothingToDistribute`)."""
        c = self.custody[financed_id]
        f = self.fragments[financed_id]
        r = self.receivable_of(financed_id)
        received = rules.entitled(c.fragment_value, r.repaid, r.face) - c.paid_before
        if received == c.distributed or f.frozen:
            return None
        if not f.burned:
            self.pay_fragment(r, f)
        to_seller, to_financier = rules.custody_shares(
            received, c.fragment_value, c.paid_before, c.seller_share, c.distributed, c.paid_to_seller
        )
        c.distributed, c.paid_to_seller = received, c.paid_to_seller + to_seller
        self.move_cash(DESK, c.seller, to_seller)
        self.move_cash(DESK, c.financier, to_financier)
        return Redemption(financed_id, to_seller, to_financier, received)
