"""A model of the chain's state as the scenario moves it, in plain Python: who holds which fragment of what
value, each member's cash, each receivable's repayments, the financings and the clock.

It follows the contracts' rules (pro-rata shares `floor(value × repaid / face)`, a fragment paid in full is
burned, settlement skips frozen fragments), so that a plan can be checked step by step before anything is
sent, and so that the run can be compared with it afterwards (every member's cash to the fen).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from chain_client import rules
from chain_client.receivables import token_id_of

DAY = 86_400


class State(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"
    OVERDUE = "overdue"
    REPAID = "repaid"


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
    state: State = State.PENDING
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


@dataclass
class Settlement:
    """What one settlement of a receivable pays: fragments in sequence order, and those left (frozen)."""

    paid: list[tuple[int, int]] = field(default_factory=list)  # (token id, fen)
    skipped: list[int] = field(default_factory=list)


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

    # ------------------------------------------------------------------ reads

    def receivable_of(self, token_id: int) -> ReceivableModel:
        return self.receivables[token_id >> 32]

    def matured(self, r: ReceivableModel) -> bool:
        return self.now >= r.maturity

    def live(self, slot: int) -> list[FragmentModel]:
        return sorted(
            (f for f in self.fragments.values() if f.token_id >> 32 == slot and not f.burned), key=lambda f: f.token_id
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
        if value == source.value:
            source.holder = financier
            financed_id = source.token_id
        else:
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
            r.state = State.REPAID

    def settlement(self, r: ReceivableModel) -> Settlement:
        """Who a settlement of `r` now would pay, without paying (repay_and_settle's selection)."""
        out = Settlement()
        for f in self.live(r.slot):
            owed = rules.owed(f.value, f.paid, r.repaid, r.face)
            if owed == 0 and f.value != 0:
                continue  # nothing owed now; an empty fragment is settled to burn it
            if f.frozen:
                out.skipped.append(f.token_id)
            else:
                out.paid.append((f.token_id, owed))
        return out

    def settle(self, r: ReceivableModel, settlement: Settlement) -> None:
        for token_id, owed in settlement.paid:
            f = self.fragments[token_id]
            f.paid += owed
            self.cash[f.holder] = self.cash.get(f.holder, 0) + owed
            r.paid_out += owed
            if rules.paid_in_full(f.value, r.repaid, r.face):
                f.burned = True
                r.redeemed += f.value

    def recourse_claim(self, record: FinancingModel) -> int:
        r = self.receivable_of(record.financed_id)
        return record.value - record.value * r.repaid // r.face
