"""The financing record's life cycle and recourse (issue 9, defects 1 and 2).

One open record per financed fragment: a resale through the desk ends the earlier record (exposure released
once, recourse over) before the new one replaces it; recourse exists only for value sold with recourse, capped
at what the financier still holds; after the seller buys back, later repayments reach the seller on chain.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from chain_client import ReceivableState, Role, ScfClient, new_account
from chain_client.contract_errors import (
    NoRecourse,
    NotAuthorized,
    NothingToDistribute,
    NotInCustody,
    NotOwnerNorApproved,
    ReceivableNotOverdue,
    RecourseEnded,
    RecourseUnavailable,
    SelfFinancing,
)
from chain_client.deploy import deploy_contract
from chain_client.devchain import advance_time, now
from chain_client.financing import FinanceResult, FinancingRequest
from tests.conftest import DAY, Issued, Parties, issue_active
from tests.refusals import assert_refused

FACE = 1_000_000_00
SOLD = 100_000_00


@dataclass(frozen=True)
class Desk:
    r: Issued
    bank2: LocalAccount  # a second financier
    nonce: list[int]


@pytest.fixture
def desk(scf: ScfClient, parties: Parties) -> Desk:
    """An active receivable of ¥1,000,000 held by s1; two financiers with cash, limits and desk approvals."""
    p = parties
    r = issue_active(scf, p, FACE)
    bank2 = new_account(scf.w3)
    scf.membership.admit(p.operator, bank2.address, Role.FINANCIER)
    for bank in (p.financier, bank2):
        scf.cash.mint(p.operator, bank.address, 10_000_000_00)
        scf.cash.approve(bank, scf.financing.address, 10_000_000_00)
        scf.financing.set_exposure_limit(bank, p.core.address, 5_000_000_00)
        scf.receivables.set_approval_for_all(bank, scf.financing.address, True)  # to resell through the desk
    for s in (p.s1, p.s2):
        scf.receivables.set_approval_for_all(s, scf.financing.address, True)
        scf.cash.mint(p.operator, s.address, 1_000_000_00)
        scf.cash.approve(s, scf.financing.address, 1_000_000_00)
    scf.cash.mint(p.operator, p.core.address, FACE)
    scf.cash.approve(p.core, scf.receivables.address, FACE)
    return Desk(r, bank2, [0])


def sell(
    scf: ScfClient, d: Desk, seller: LocalAccount, buyer: LocalAccount, token_id: int, value: int, *, recourse: bool
) -> FinanceResult:
    d.nonce[0] += 1
    req = FinancingRequest(
        token_id, value, value * 99 // 100, recourse=recourse, nonce=d.nonce[0], deadline=now(scf.w3) + DAY
    )
    return scf.financing.finance(buyer, req, scf.financing.sign(seller, req))


def bought_with_recourse_then_merged(scf: ScfClient, p: Parties, d: Desk, merged: int) -> FinanceResult:
    """The financier buys SOLD from s1 with recourse, then `merged` more without, merged into the first."""
    bought = sell(scf, d, p.s1, p.financier, d.r.token_id, SOLD, recourse=True)
    more = sell(scf, d, p.s1, p.financier, d.r.token_id, merged, recourse=False)
    scf.receivables.merge(p.financier, more.financed_token_id, bought.financed_token_id, merged)
    return bought


def go_overdue(scf: ScfClient, p: Parties, d: Desk, repaid_percent: int) -> None:
    advance_time(scf.w3, d.r.maturity - now(scf.w3))
    if repaid_percent:
        scf.receivables.repay(p.core, d.r.slot, FACE * repaid_percent // 100)
    advance_time(scf.w3, scf.receivables.grace_period())
    scf.receivables.mark_overdue(p.s3, d.r.slot)


def used(scf: ScfClient, bank: LocalAccount, p: Parties) -> int:
    return scf.financing.exposure(bank.address, p.core.address)[1]


# ------------------------------------------------------------------------------------------ defect 1: stale records


def test_a_non_recourse_resale_ends_the_first_financiers_recourse_and_releases_its_exposure(
    scf: ScfClient, parties: Parties, desk: Desk
) -> None:
    p, d = parties, desk
    first = sell(scf, d, p.s1, p.financier, d.r.token_id, SOLD, recourse=True)
    assert used(scf, p.financier, p) == SOLD
    again = sell(scf, d, p.financier, d.bank2, first.financed_token_id, SOLD, recourse=False)
    assert again.financed_token_id == first.financed_token_id  # the whole fragment keeps its id
    record = scf.financing.financing(first.financed_token_id)
    assert (record.financier, record.value, record.recourse, record.seller) == (
        d.bank2.address,
        SOLD,
        False,
        "0x" + "00" * 20,
    )
    assert used(scf, p.financier, p) == 0  # released at the resale, once
    assert used(scf, d.bank2, p) == SOLD
    go_overdue(scf, p, d, 0)
    assert_refused(  # the second financier bought without recourse: nobody can claim
        scf,
        NoRecourse,
        lambda: scf.financing.claim_recourse(d.bank2, first.financed_token_id),
        financed_token_id=first.financed_token_id,
    )


def test_value_merged_into_a_recourse_fragment_does_not_raise_the_claim(
    scf: ScfClient, parties: Parties, desk: Desk
) -> None:
    """The seller agreed to recourse on ¥100,000; the financier merges ¥400,000 more into that fragment."""
    p, d = parties, desk
    bought = bought_with_recourse_then_merged(scf, p, d, 4 * SOLD)
    assert scf.receivables.balance_of(bought.financed_token_id) == 5 * SOLD
    assert_refused(  # re-financing it to itself would rewrite the record
        scf,
        SelfFinancing,
        lambda: sell(scf, d, p.financier, p.financier, bought.financed_token_id, 5 * SOLD, recourse=False),
        account=p.financier.address,
    )
    go_overdue(scf, p, d, 0)
    scf.financing.claim_recourse(p.financier, bought.financed_token_id)
    assert scf.financing.financing(bought.financed_token_id).recourse_claim == SOLD  # not ¥500,000


def test_exposure_is_released_exactly_once(scf: ScfClient, parties: Parties, desk: Desk) -> None:
    p, d = parties, desk
    bought = sell(scf, d, p.s1, p.financier, d.r.token_id, SOLD, recourse=False)
    scf.receivables.transfer(p.financier, p.s2.address, bought.financed_token_id)  # sold on outside the desk
    scf.financing.release_exposure(p.s3, [bought.financed_token_id])
    scf.financing.release_exposure(p.s3, [bought.financed_token_id])  # a second call changes nothing
    assert used(scf, p.financier, p) == 0
    # s2 sells it through the desk: the old record is already released and nothing is released twice.
    sell(scf, d, p.s2, d.bank2, bought.financed_token_id, SOLD, recourse=False)
    assert (used(scf, p.financier, p), used(scf, d.bank2, p)) == (0, SOLD)


def test_a_partial_resale_by_the_financier_moves_that_much_off_its_books(
    scf: ScfClient, parties: Parties, desk: Desk
) -> None:
    p, d = parties, desk
    bought = sell(scf, d, p.s1, p.financier, d.r.token_id, SOLD, recourse=True)
    sell(scf, d, p.financier, d.bank2, bought.financed_token_id, SOLD // 4, recourse=False)
    record = scf.financing.financing(bought.financed_token_id)
    assert (record.value, record.released, record.recourse) == (SOLD * 3 // 4, False, True)
    assert (used(scf, p.financier, p), used(scf, d.bank2, p)) == (SOLD * 3 // 4, SOLD // 4)


# ------------------------------------------------------------------------------------------ defect 2: recourse


def test_recourse_is_capped_at_the_value_the_financier_still_holds(
    scf: ScfClient, parties: Parties, desk: Desk
) -> None:
    """A financier holding ¥25,000 of a ¥100,000 purchase claims ¥25,000, not ¥100,000."""
    p, d = parties, desk
    bought = sell(scf, d, p.s1, p.financier, d.r.token_id, SOLD, recourse=True)
    scf.receivables.transfer_value(
        p.financier, bought.financed_token_id, p.s2.address, SOLD * 3 // 4
    )  # outside the desk
    go_overdue(scf, p, d, 0)
    scf.financing.claim_recourse(p.financier, bought.financed_token_id)
    assert scf.financing.financing(bought.financed_token_id).recourse_claim == SOLD // 4


def test_recourse_ends_when_the_financier_sells_the_fragment_on(scf: ScfClient, parties: Parties, desk: Desk) -> None:
    p, d = parties, desk
    bought = sell(scf, d, p.s1, p.financier, d.r.token_id, SOLD, recourse=True)
    scf.receivables.transfer(p.financier, p.s2.address, bought.financed_token_id)
    go_overdue(scf, p, d, 0)
    assert_refused(
        scf,
        RecourseEnded,
        lambda: scf.financing.claim_recourse(p.financier, bought.financed_token_id),
        financed_token_id=bought.financed_token_id,
        holder=p.s2.address,
    )


def test_after_a_buy_back_later_repayments_reach_the_seller_on_chain(
    scf: ScfClient, parties: Parties, desk: Desk
) -> None:
    p, d = parties, desk
    bought = sell(scf, d, p.s1, p.financier, d.r.token_id, SOLD, recourse=True)
    tid = bought.financed_token_id
    go_overdue(scf, p, d, 40)
    scf.financing.claim_recourse(p.financier, tid)
    assert scf.financing.financing(tid).recourse_claim == SOLD * 60 // 100
    bank_before, s1_before = scf.cash.balance_of(p.financier.address), scf.cash.balance_of(p.s1.address)
    scf.financing.settle_recourse(p.s1, tid)
    # The financier: the 40 % repaid on its fragment, then the unpaid 60 % from the seller: paid in full.
    assert scf.cash.balance_of(p.financier.address) - bank_before == SOLD
    assert s1_before - scf.cash.balance_of(p.s1.address) == SOLD * 60 // 100
    assert scf.financing.custody(tid).seller_share == SOLD * 60 // 100
    assert_refused(scf, NothingToDistribute, lambda: scf.financing.redeem_recourse(p.s3, tid), financed_token_id=tid)

    # The debtor pays the rest late: the fragment's 60 % goes to the seller, none to the financier again.
    scf.receivables.repay(p.core, d.r.slot, FACE * 60 // 100)
    bank_before, s1_before = scf.cash.balance_of(p.financier.address), scf.cash.balance_of(p.s1.address)
    out = scf.financing.redeem_recourse(p.s3, tid)  # a keeper may call it
    assert (out.to_seller, out.to_financier) == (SOLD * 60 // 100, 0)
    assert scf.cash.balance_of(p.s1.address) - s1_before == SOLD * 60 // 100
    assert scf.cash.balance_of(p.financier.address) == bank_before
    assert scf.receivables.receivable(d.r.slot).state == ReceivableState.REPAID
    assert scf.cash.balance_of(scf.financing.address) == 0  # the desk keeps nothing


def test_custody_shares_later_repayments_when_other_value_was_merged_in(
    scf: ScfClient, parties: Parties, desk: Desk
) -> None:
    """Recourse on ¥100,000 of a ¥300,000 fragment: the seller gets a third of what is paid later, exactly."""
    p, d = parties, desk
    bought = bought_with_recourse_then_merged(scf, p, d, 2 * SOLD)
    tid = bought.financed_token_id
    go_overdue(scf, p, d, 10)
    scf.financing.claim_recourse(p.financier, tid)
    scf.financing.settle_recourse(p.s1, tid)
    assert scf.financing.custody(tid).seller_share == SOLD * 90 // 100
    paid: list[tuple[int, int]] = []
    for part in (33, 41, 16):  # 10 + 33 + 41 + 16 = 100 %
        scf.receivables.repay(p.core, d.r.slot, FACE * part // 100)
        out = scf.financing.redeem_recourse(p.s1, tid)
        paid.append((out.to_seller, out.to_financier))
    assert sum(s for s, _ in paid) == SOLD * 90 // 100
    assert sum(f for _, f in paid) == 2 * SOLD * 90 // 100
    assert scf.cash.balance_of(scf.financing.address) == 0


def test_recourse_refusals_name_the_cause(scf: ScfClient, parties: Parties, desk: Desk) -> None:
    p, d = parties, desk
    bought = sell(scf, d, p.s1, p.financier, d.r.token_id, SOLD, recourse=True)
    tid = bought.financed_token_id
    fin = scf.financing
    assert_refused(
        scf,
        ReceivableNotOverdue,
        lambda: fin.claim_recourse(p.financier, tid),
        slot=d.r.slot,
        state=ReceivableState.ACTIVE,
    )
    go_overdue(scf, p, d, 0)
    assert_refused(
        scf,
        NotAuthorized,
        lambda: fin.claim_recourse(d.bank2, tid),
        caller=d.bank2.address,
        expected=p.financier.address,
    )
    # nothing claimed yet
    assert_refused(scf, RecourseUnavailable, lambda: fin.settle_recourse(p.s1, tid), financed_token_id=tid)
    fin.claim_recourse(p.financier, tid)
    # one claim per financing
    assert_refused(scf, RecourseUnavailable, lambda: fin.claim_recourse(p.financier, tid), financed_token_id=tid)
    assert_refused(
        scf, NotAuthorized, lambda: fin.settle_recourse(p.s2, tid), caller=p.s2.address, expected=p.s1.address
    )
    assert_refused(scf, NotInCustody, lambda: fin.redeem_recourse(p.s1, tid), financed_token_id=tid)
    # Only an escrow contract (the desk) may take a fragment back under recourse.
    recourse_transfer = scf.receivables.contract.functions.recourseTransfer(p.financier.address, tid)
    assert_refused(
        scf,
        NotOwnerNorApproved,
        lambda: scf.tx.transact(p.s1, recourse_transfer, 200_000),
        token_id=tid,
        caller=p.s1.address,
    )
    fin.settle_recourse(p.s1, tid)
    # settled once
    assert_refused(scf, RecourseUnavailable, lambda: fin.settle_recourse(p.s1, tid), financed_token_id=tid)


def test_a_claim_is_not_settled_after_the_debtor_paid_in_full(scf: ScfClient, parties: Parties, desk: Desk) -> None:
    p, d = parties, desk
    bought = sell(scf, d, p.s1, p.financier, d.r.token_id, SOLD, recourse=True)
    go_overdue(scf, p, d, 0)
    scf.financing.claim_recourse(p.financier, bought.financed_token_id)
    scf.receivables.repay(p.core, d.r.slot, FACE)
    assert_refused(
        scf,
        ReceivableNotOverdue,
        lambda: scf.financing.settle_recourse(p.s1, bought.financed_token_id),
        slot=d.r.slot,
        state=ReceivableState.REPAID,
    )


# ------------------------------------------------------------------------------------------ re-entry (Slither)


def test_a_financier_contract_cannot_reenter_the_desk_from_the_erc3525_hook(
    scf: ScfClient, parties: Parties, desk: Desk
) -> None:
    """A partial sale mints the financier a new fragment and calls its ERC-3525 hook before the desk records the
    financing; a hostile financier contract tries to fund a second request from there. The desk refuses."""
    p, d = parties, desk
    hostile = deploy_contract(scf.w3, p.operator, "HostileFinancier", scf.financing.address, scf.cash.address)
    scf.membership.admit(p.operator, hostile.address, Role.FINANCIER)
    scf.cash.mint(p.operator, hostile.address, 1_000_000_00)
    scf.tx.transact(p.operator, hostile.functions.setExposureLimit(p.core.address, 10_000_000_00), 200_000)
    outer = FinancingRequest(d.r.token_id, SOLD, SOLD * 99 // 100, nonce=101, deadline=now(scf.w3) + DAY)
    inner = FinancingRequest(d.r.token_id, SOLD, SOLD * 99 // 100, nonce=102, deadline=now(scf.w3) + DAY)
    call = hostile.functions.fundTwice(
        outer.as_tuple(), scf.financing.sign(p.s1, outer), inner.as_tuple(), scf.financing.sign(p.s1, inner)
    )
    scf.tx.transact(p.operator, call, 1_000_000)
    assert hostile.functions.reentered().call()
    reason = bytes(hostile.functions.reentryError().call())
    assert reason == keccak(text="ReentrancyGuardReentrantCall()")[:4]  # refused by the guard
    assert scf.receivables.balance_of(d.r.token_id) == FACE - SOLD  # only the outer sale happened
    assert not scf.financing.nonce_used(p.s1.address, 102)
