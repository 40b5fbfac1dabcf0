"""The money rules of `contracts/ReceivableToken.sol`, once, in Python: what a fragment is entitled to, what it
can be paid now, when it is paid in full (and burned), and what rounding leaves in escrow.

Every Python copy of these rules (the index's reconciliation, the API's fragment views, the scenario's dry
run) calls this module, and `tests/test_rules.py` checks it against the contract's own views over random
states. Pure functions of integers (fen) and the receivable's state: no chain access, and nothing imported from
the API or the scenario engine, which are tools built on this library.

A receivable of face value `face` that has been repaid `repaid` fen owes each fragment of value `value` the
share floor(value × repaid / face) in total. Holders are paid from maturity on, in the states that pay.
"""

from __future__ import annotations

from collections.abc import Iterable

from chain_client.receivables import ReceivableState

PAYING_STATES: frozenset[ReceivableState] = frozenset(
    {ReceivableState.ACTIVE, ReceivableState.MATURED, ReceivableState.OVERDUE, ReceivableState.REPAID}
)
"""The states in which holders are paid (`_requireRedeemable`, `_claimable`): accepted, and neither rejected
nor cancelled. Active counts: the contract records maturity on the first payment after it."""


def is_paying(state: ReceivableState) -> bool:
    """Whether holders of a receivable in `state` are paid at all: the state test of `_requireRedeemable`
    and of `_claimable` in ReceivableToken.sol."""
    return state in PAYING_STATES


def is_redeemable(state: ReceivableState, maturity: int, now: int) -> bool:
    """Whether `redeem` and `settle` may pay now: a paying state and block time at or after maturity
    (`_requireRedeemable`, which reverts `ReceivableNotActive` or `ReceivableNotMatured` otherwise)."""
    return is_paying(state) and now >= maturity


def entitled(value: int, repaid: int, face: int) -> int:
    """A fragment's pro-rata share of what was repaid, in total: floor(value × repaid / face), the
    `entitled` of `_payFragment` and `_claimable` (rounded down, so the shares never exceed `repaid`)."""
    return value * repaid // face


def owed(value: int, paid: int, repaid: int, face: int) -> int:
    """What paying the fragment now would send its holder, maturity and state aside: its share less the
    `paid` fen it already received (`amount` in `_payFragment`). Never negative on a consistent record,
    because `repaid` only grows."""
    return entitled(value, repaid, face) - paid


def claimable(value: int, paid: int, repaid: int, face: int, state: ReceivableState, maturity: int, now: int) -> int:
    """What the holder can redeem at time `now`: the contract's `claimable(tokenId)` view (`_claimable`).
    Nothing before maturity or outside the paying states, however much was repaid early; from then on its
    share less what it was paid."""
    if not is_redeemable(state, maturity, now):
        return 0
    return owed(value, paid, repaid, face)


def paid_in_full(value: int, repaid: int, face: int) -> bool:
    """Whether paying the fragment now leaves it with all of its value, so that it is burned: the
    `entitled == value` branch of `_payFragment` (a fragment of value 0 is burned on its first payment)."""
    return entitled(value, repaid, face) == value


def dust(repaid: int, face: int, values: Iterable[int]) -> int:
    """What rounding keeps in escrow once every fragment has been paid its share: `repaid` less the sum of
    the shares. `values` is every fragment of the receivable, burned ones at the value they had when burned
    (their share was all of it), so that they sum to `face`. Zero once the receivable is repaid in full."""
    return repaid - sum(entitled(value, repaid, face) for value in values)


# ---------------------------------------------------------------------------------- recourse (FinancingDesk)


def recourse_due(recorded_value: int, fragment_value: int, repaid: int, face: int) -> int:
    """What a seller owes under recourse now (`FinancingDesk._recourseDue`): of the value it sold with recourse
    that the financier still holds, min(recorded, fragment value), the part repayments have not covered."""
    capped = min(recorded_value, fragment_value)
    return capped - entitled(capped, repaid, face)


def custody_shares(
    received: int, fragment_value: int, paid_before: int, seller_share: int, distributed: int, paid_to_seller: int
) -> tuple[int, int]:
    """What `FinancingDesk.redeemRecourse` pays on now, (to the seller, to the financier), when a bought-back
    fragment has received `received` since the desk took it: the seller's cumulative share is
    floor(received × seller_share / (fragment_value − paid_before)), the financier has the rest."""
    seller_total = received * seller_share // (fragment_value - paid_before)
    to_seller = seller_total - paid_to_seller
    return to_seller, received - distributed - to_seller
