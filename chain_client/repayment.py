"""Repayment at maturity, end to end: pay what is outstanding, then push every holder's share in pages.

`repay_and_settle` is resumable: it reads what is still owed from the chain each time, and the contract pays
each fragment at most floor(value * repaid / face) in total, so running it again after a crash pays nobody
twice and finishes the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount

from chain_client.client import ScfClient
from chain_client.constants import GAS_SETTLE_BASE, GAS_SETTLE_PER_FRAGMENT
from chain_client.receivables import Fragment

DEFAULT_GAS_CAP = 8_000_000


@dataclass
class SettlementReport:
    slot: int
    repaid_now: int = 0  # fen paid into escrow by this call
    pages: int = 0
    fragments_paid: int = 0
    paid_out: int = 0  # fen pushed to holders by this call
    max_gas_used: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (token id, why) left for later


def unpaid_fragments(scf: ScfClient, slot: int) -> tuple[list[Fragment], list[tuple[int, str]]]:
    """Fragments of `slot` owed something now, and those owed something that a settle would refuse."""
    payable: list[Fragment] = []
    skipped: list[tuple[int, str]] = []
    for status in scf.receivables.fragment_statuses(slot):
        f = status.fragment
        if status.claimable == 0 and f.value != 0:
            continue  # nothing owed now (an empty fragment is settled to burn it)
        if f.frozen:
            skipped.append((f.token_id, "frozen"))
        elif not status.holder_active:
            skipped.append((f.token_id, "holder suspended"))
        else:
            payable.append(f)
    return payable, skipped


def repay_and_settle(
    scf: ScfClient,
    payer: LocalAccount,
    keeper: LocalAccount,
    slot: int,
    *,
    amount: int | None = None,
    gas_cap: int = DEFAULT_GAS_CAP,
) -> SettlementReport:
    """Pay `amount` (default: everything outstanding) for `slot`, then settle every fragment owed something,
    each transaction's gas limit at most `gas_cap`. Frozen fragments and suspended holders are reported in
    `skipped`, not paid: a judicial freeze or a suspension must be lifted first."""
    report = SettlementReport(slot)
    info = scf.receivables.receivable(slot)
    to_pay = info.outstanding if amount is None else amount
    if to_pay > info.outstanding:
        raise ValueError(f"amount {to_pay} is more than the {info.outstanding} fen outstanding on {slot}")
    if to_pay > 0:
        if scf.cash.allowance(payer.address, scf.receivables.address) < to_pay:
            scf.cash.approve(payer, scf.receivables.address, to_pay)
        scf.receivables.repay(payer, slot, to_pay)
        report.repaid_now = to_pay

    page_size = max(1, (gas_cap - GAS_SETTLE_BASE) // GAS_SETTLE_PER_FRAGMENT)
    payable, report.skipped = unpaid_fragments(scf, slot)
    for start in range(0, len(payable), page_size):
        page = [f.token_id for f in payable[start : start + page_size]]
        gas = min(gas_cap, GAS_SETTLE_BASE + GAS_SETTLE_PER_FRAGMENT * len(page))
        result = scf.receivables.settle(keeper, slot, page, gas=gas)
        report.pages += 1
        report.fragments_paid += len(page)
        report.paid_out += result.paid
        report.max_gas_used = max(report.max_gas_used, result.gas_used)
    return report
