"""The concrete operations a plan is made of: every number in fen, every fragment by its predicted token id.

They are pure data. `plan.py` makes them (after checking them on a model), `runner.py` sends them. Token ids are
predictable because a slot is the document hash's top bits and each receivable numbers its fragments 1, 2, 3...
in the order they are created; the runner checks each prediction against what the chain minted.
"""

from __future__ import annotations

from dataclasses import dataclass

from chain_client.ids import slot_of
from chain_client.membership import Role

# Fragments one `settle` transaction pays, under repay_and_settle's default 8,000,000 gas cap.
SETTLE_PAGE = (8_000_000 - 60_000) // 60_000


@dataclass(frozen=True)
class Op:
    """One business operation; `transactions` is how many it sends (for the progress bar)."""

    @property
    def transactions(self) -> int:
        return 1

    @property
    def operations(self) -> int:
        """On-chain operations it performs: a batch split of ten payments is ten, a settle page of 100 is 100."""
        return self.transactions


# ---------------------------------------------------------------------------------------------- set-up


@dataclass(frozen=True)
class FundGas(Op):
    """Ether for gas, from the operator, to a member who sends transactions (skipped on a free-gas chain): enough
    for its `sends` planned transactions at the node's fee cap."""

    member: str
    sends: int = 1

    @property
    def operations(self) -> int:
        return 0  # plumbing, not supply-chain business


@dataclass(frozen=True)
class Admit(Op):
    member: str
    role: Role


@dataclass(frozen=True)
class SetGracePeriod(Op):
    seconds: int


@dataclass(frozen=True)
class SetCreditLine(Op):
    debtor: str
    limit: int


@dataclass(frozen=True)
class Mint(Op):
    member: str
    amount: int
    supply_after: int  # total cash minted once this is done: how a resumed run knows it was


@dataclass(frozen=True)
class ApproveDeskCash(Op):
    """A financier lets the desk take the price of each financing from its cash."""

    financier: str


@dataclass(frozen=True)
class SetExposureLimit(Op):
    financier: str
    debtor: str
    limit: int


@dataclass(frozen=True)
class Issue(Op):
    receivable: str
    debtor: str
    holder: str
    face: int
    maturity: int  # unix time
    document_hash: bytes
    token_id: int

    @property
    def slot(self) -> int:
        return slot_of(self.token_id)


# ---------------------------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class Accept(Op):
    holder: str
    token_id: int


@dataclass(frozen=True)
class Reject(Op):
    holder: str
    token_id: int


@dataclass(frozen=True)
class Split(Op):
    holder: str
    token_id: int
    payments: tuple[tuple[str, int], ...]  # (member, fen)
    memo: bytes
    new_ids: tuple[int, ...]

    @property
    def operations(self) -> int:
        return len(self.payments)


@dataclass(frozen=True)
class Transfer(Op):
    holder: str
    to: str
    token_id: int


@dataclass(frozen=True)
class ApproveDeskValue(Op):
    """A holder's one-time approval that lets the desk move the value it sells."""

    holder: str


@dataclass(frozen=True)
class Finance(Op):
    holder: str
    financier: str
    token_id: int
    value: int
    price: int
    days: int
    recourse: bool
    open_market: bool
    nonce: int
    financed_id: int


@dataclass(frozen=True)
class Freeze(Op):
    token_id: int
    reason: bytes


@dataclass(frozen=True)
class Unfreeze(Op):
    token_id: int


@dataclass(frozen=True)
class Advance(Op):
    to_time: int  # unix time the chain's clock is moved to (if it is not there yet)

    @property
    def transactions(self) -> int:
        return 0  # a development chain's clock moves without a transaction


def pages_of(token_ids: tuple[int, ...]) -> list[tuple[int, ...]]:
    """`token_ids` in settle transactions of at most `SETTLE_PAGE` fragments, in order."""
    return [token_ids[i : i + SETTLE_PAGE] for i in range(0, len(token_ids), SETTLE_PAGE)]


class _Settles:
    """What a repayment or settlement pays out: `paid_ids`, every fragment owed something then, in token id order,
    in settle transactions of `SETTLE_PAGE` (a mixin: the dataclasses below declare the field)."""

    paid_ids: tuple[int, ...]

    @property
    def pages(self) -> int:
        return -(-len(self.paid_ids) // SETTLE_PAGE)

    @property
    def fragments_paid(self) -> int:
        return len(self.paid_ids)


@dataclass(frozen=True)
class Repay(_Settles, Op):
    """Pay `amount` into escrow (approving it first), then settle the fragments `paid_ids` (none: no settlement)."""

    payer: str
    slot: int
    amount: int
    repaid_after: int  # the receivable's cumulative repayment once this is done
    paid_ids: tuple[int, ...] = ()

    @property
    def transactions(self) -> int:
        return 2 + self.pages

    @property
    def operations(self) -> int:
        return 1 + self.fragments_paid


@dataclass(frozen=True)
class Settle(_Settles, Op):
    """Settle the fragments `paid_ids` of `slot`."""

    slot: int
    paid_ids: tuple[int, ...]

    @property
    def transactions(self) -> int:
        return self.pages

    @property
    def operations(self) -> int:
        return self.fragments_paid


@dataclass(frozen=True)
class MarkOverdue(Op):
    slot: int


@dataclass(frozen=True)
class ClaimRecourse(Op):
    financier: str
    financed_id: int
    amount: int


@dataclass(frozen=True)
class SettleRecourse(Op):
    """The seller buys the fragment back for `amount` (the unpaid part, recomputed on chain); the desk holds it."""

    seller: str
    financed_id: int
    amount: int

    @property
    def transactions(self) -> int:
        return 2  # approve the desk, then pay


@dataclass(frozen=True)
class RedeemRecourse(Op):
    """The desk passes on what a fragment in its custody was paid since the last time: `to_seller` to the seller
    that bought it back, `to_financier` to the financier (sent by the operator, as a keeper)."""

    financed_id: int
    to_seller: int
    to_financier: int
    distributed_after: int  # the custody's cumulative `distributed` once this is done: how a resumed run knows


def sender_of(op: Op) -> str | None:
    """The member who signs and sends `op` (None: the operator). A financing is sent by the financier; the
    holder only signs the request, off chain."""
    match op:
        case Issue():
            return op.debtor
        case Accept() | Reject() | Split() | Transfer() | ApproveDeskValue():
            return op.holder
        case Finance() | ApproveDeskCash() | SetExposureLimit() | ClaimRecourse():
            return op.financier
        case Repay():
            return op.payer
        case SettleRecourse():
            return op.seller
    return None
