"""Repayment at maturity: one payment by the debtor, exact pro-rata shares for every fragment, pull and
paged push, partial and late payment, overdue, credit lines (rules 1 and 5)."""

from __future__ import annotations

from unittest.mock import ANY

from eth_account.signers.local import LocalAccount

from chain_client import ReceivableState, Role, ScfClient, new_account
from chain_client.constants import GAS_SETTLE_PER_FRAGMENT
from chain_client.contract_errors import (
    CreditLineExceeded,
    FragmentFrozen,
    GracePeriodNotOver,
    NonexistentToken,
    NothingToRedeem,
    NotOwnerNorApproved,
    ReceivableMatured,
    ReceivableNotActive,
    ReceivableNotMatured,
    ReceivableNotRepayable,
    RepaymentExceedsOutstanding,
    TokenNotInSlot,
    WrongRole,
    ZeroRepayment,
)
from chain_client.devchain import advance_time
from chain_client.repayment import repay_and_settle
from tests.conftest import DAY, Issued, Parties, doc_hash, issue_active
from tests.refusals import assert_refused

FACE = 1_000_000_00


def fund_debtor(scf: ScfClient, p: Parties, amount: int = 10**12) -> None:
    scf.cash.mint(p.operator, p.core.address, amount)
    scf.cash.approve(p.core, scf.receivables.address, amount)


def past_maturity(scf: ScfClient, r: Issued, extra: int = 0) -> None:
    advance_time(scf.w3, r.maturity - scf.w3.eth.get_block("latest")["timestamp"] + extra)


def spread(scf: ScfClient, p: Parties, r: Issued, values: list[int]) -> list[int]:
    """Split `values` off the issued fragment to s2, s3, s4 in turn; returns the new token ids."""
    holders = [p.s2.address, p.s3.address, p.s4.address]
    payments = [(holders[i % 3], v) for i, v in enumerate(values)]
    return list(scf.receivables.split(p.s1, r.token_id, payments).new_token_ids)


def holder_of(p: Parties, address: str) -> LocalAccount:
    return next(a for a in (p.s1, p.s2, p.s3, p.s4) if a.address == address)


# ------------------------------------------------------------------------------------------------ at scale


def test_a_thousand_fragments_across_four_tiers_are_settled_exactly_under_the_gas_cap(
    scf: ScfClient, parties: Parties
) -> None:
    p, rt, op = parties, scf.receivables, parties.operator
    r = issue_active(scf, p, FACE)

    def members(n: int, funded: bool) -> list[LocalAccount]:
        accounts = [new_account(scf.w3, fund_wei=10**18 if funded else 0) for _ in range(n)]
        for a in accounts:
            scf.membership.admit(op, a.address, Role.SUPPLIER)
        return accounts

    tier2, tier3, tier4 = members(10, True), members(100, True), members(300, False)
    t2_ids = rt.split(p.s1, r.token_id, [(a.address, 50_000_00) for a in tier2]).new_token_ids
    t3_ids: list[tuple[LocalAccount, int]] = []
    for i, (holder, token) in enumerate(zip(tier2, t2_ids, strict=True)):
        payees = tier3[i * 10 : i * 10 + 10]
        ids = rt.split(holder, token, [(a.address, 3_000_00 + i) for a in payees]).new_token_ids
        t3_ids += list(zip(payees, ids, strict=True))
    for j, (holder, token) in enumerate(t3_ids):
        leaves = [str(tier4[(j * 9 + k) % 300].address) for k in range(9)]
        rt.split(holder, token, [(a, 123_45 + j + k) for k, a in enumerate(leaves)])
    fragments = rt.fragments_of(r.slot)
    assert len(fragments) == 1 + 10 + 100 + 900
    assert sum(f.value for f in fragments) == FACE

    expected: dict[str, int] = {}
    for f in fragments:
        expected[f.owner] = expected.get(f.owner, 0) + f.value
    before = {a: scf.cash.balance_of(a) for a in expected}
    fund_debtor(scf, p)
    past_maturity(scf, r)

    cap = 3_000_000
    report = repay_and_settle(scf, p.core, op, r.slot, gas_cap=cap)

    assert report.pages == -(-len(fragments) // ((cap - 60_000) // GAS_SETTLE_PER_FRAGMENT))
    assert report.fragments_paid == len(fragments)
    assert report.max_gas_used <= cap
    assert report.paid_out == FACE
    for account, value in expected.items():
        assert scf.cash.balance_of(account) - before[account] == value
    info = rt.receivable(r.slot)
    assert info.state == ReceivableState.REPAID
    assert (info.repaid, info.paid_out, info.redeemed_value, info.escrow) == (FACE, FACE, FACE, 0)
    assert scf.cash.balance_of(rt.address) == 0
    assert rt.fragments_of(r.slot) == []


def test_repay_and_settle_resumes_without_paying_anyone_twice(scf: ScfClient, parties: Parties) -> None:
    p, rt = parties, scf.receivables
    r = issue_active(scf, p, FACE)
    ids = spread(scf, p, r, [10_000_00 + i for i in range(30)])
    fund_debtor(scf, p)
    past_maturity(scf, r)
    rt.repay(p.core, r.slot, FACE)
    rt.settle(p.operator, r.slot, ids[:12])  # a first run that "crashed" after one page
    before = {a.address: scf.cash.balance_of(a.address) for a in (p.s1, p.s2, p.s3, p.s4)}
    report = repay_and_settle(scf, p.core, p.operator, r.slot)
    assert report.repaid_now == 0
    assert report.fragments_paid == 30 - 12 + 1  # the rest, and the issued fragment
    paid = {a: scf.cash.balance_of(a) - b for a, b in before.items()}
    assert sum(paid.values()) == FACE - sum(10_000_00 + i for i in range(12))
    assert rt.receivable(r.slot).escrow == 0
    again = repay_and_settle(scf, p.core, p.operator, r.slot)
    assert (again.pages, again.paid_out) == (0, 0)


def test_repay_costs_the_same_for_one_fragment_and_for_five_hundred(scf: ScfClient, parties: Parties) -> None:
    p, rt = parties, scf.receivables
    one = issue_active(scf, p, FACE)
    many = issue_active(scf, p, FACE)
    for _ in range(10):
        rt.split(p.s1, many.token_id, [(p.s2.address, 1_00)] * 50)
    assert rt.receivable(many.slot).fragments_created == 501
    fund_debtor(scf, p)
    past_maturity(scf, many)
    rt.repay(p.core, one.slot, 1_00)  # first payments record maturity: compare steady-state payments
    rt.repay(p.core, many.slot, 1_00)
    gas_one = rt.repay(p.core, one.slot, 1_00).gas_used
    gas_many = rt.repay(p.core, many.slot, 1_00).gas_used
    assert abs(gas_one - gas_many) <= gas_one * 0.02
    assert gas_many <= 80_000


# ------------------------------------------------------------------------------------------------ partial and late


def test_partial_payment_then_overdue_then_late_payments_pay_each_holder_exactly(
    scf: ScfClient, parties: Parties
) -> None:
    p, rt = parties, scf.receivables
    face = 987_654_33
    r = issue_active(scf, p, face)
    ids = [r.token_id, *spread(scf, p, r, [123_456_78, 1_234_56, 33, 500_000_01, 7])]
    values = {t: rt.balance_of(t) for t in ids}
    owners = {t: rt.owner_of(t) for t in ids}
    paid = dict.fromkeys(ids, 0)
    fund_debtor(scf, p)
    past_maturity(scf, r)

    def settle_and_check(repaid: int) -> None:
        live = [t for t in ids if paid[t] < values[t]]
        for t in live:  # each holder pulls separately, so each payment is attributed to one fragment
            if rt.claimable(t) > 0 or repaid == face:
                before = scf.cash.balance_of(owners[t])
                got = rt.redeem(holder_of(p, owners[t]), t).paid
                assert scf.cash.balance_of(owners[t]) - before == got
                paid[t] += got
        for t in ids:
            assert paid[t] == values[t] * repaid // face  # never more than floor(v × R / F), and exactly that
        dust = repaid - sum(paid.values())
        assert 0 <= dust < len(ids)  # at most one fen per fragment while partly repaid

    rt.repay(p.core, r.slot, face * 37 // 100)
    settle_and_check(face * 37 // 100)
    assert_refused(
        scf,
        GracePeriodNotOver,
        lambda: rt.mark_overdue(p.operator, r.slot),
        slot=r.slot,
        overdue_from=r.maturity + rt.grace_period(),
        now_time=ANY,
    )
    advance_time(scf.w3, rt.grace_period())
    rt.mark_overdue(p.s4, r.slot)
    assert rt.receivable(r.slot).state == ReceivableState.OVERDUE
    rt.repay(p.core, r.slot, face * 30 // 100)
    settle_and_check(face * 37 // 100 + face * 30 // 100)
    rt.repay(p.core, r.slot, rt.receivable(r.slot).outstanding)
    settle_and_check(face)
    info = rt.receivable(r.slot)
    assert info.state == ReceivableState.REPAID
    assert paid == values
    assert (info.escrow, info.redeemed_value) == (0, face)


def test_a_second_redeem_with_nothing_new_repaid_is_refused(scf: ScfClient, parties: Parties) -> None:
    p, rt = parties, scf.receivables
    r = issue_active(scf, p, FACE)
    fund_debtor(scf, p)
    past_maturity(scf, r)
    rt.repay(p.core, r.slot, FACE // 2)
    assert rt.redeem(p.s1, r.token_id).paid == FACE // 2
    assert_refused(
        scf,
        NothingToRedeem,
        lambda: rt.redeem(p.s1, r.token_id),
        token_id=r.token_id,
        entitled=FACE // 2,
        paid=FACE // 2,
    )
    rt.repay(p.core, r.slot, FACE // 2)
    assert rt.redeem(p.s1, r.token_id).burned == (r.token_id,)
    # paid in full and burned
    assert_refused(scf, NonexistentToken, lambda: rt.redeem(p.s1, r.token_id), token_id=r.token_id)


def test_an_approved_operator_redeems_for_the_holder(scf: ScfClient, parties: Parties) -> None:
    p, rt = parties, scf.receivables
    r = issue_active(scf, p, FACE)
    rt.set_approval_for_all(p.s1, p.s2.address, True)
    fund_debtor(scf, p)
    past_maturity(scf, r)
    rt.repay(p.core, r.slot, FACE)
    before = scf.cash.balance_of(p.s1.address), scf.cash.balance_of(p.s2.address)
    rt.redeem(p.s2, r.token_id)
    assert scf.cash.balance_of(p.s1.address) == before[0] + FACE  # the holder is paid, not the operator
    assert scf.cash.balance_of(p.s2.address) == before[1]


def test_early_full_repayment_stops_movement_and_pays_from_maturity_on(scf: ScfClient, parties: Parties) -> None:
    p, rt = parties, scf.receivables
    r = issue_active(scf, p, FACE)
    fund_debtor(scf, p)
    rt.repay(p.core, r.slot, FACE)
    assert rt.receivable(r.slot).state == ReceivableState.REPAID
    assert_refused(
        scf,
        ReceivableNotActive,
        lambda: rt.transfer_value(p.s1, r.token_id, p.s2.address, 1),
        slot=r.slot,
        state=ReceivableState.REPAID,
    )
    assert_refused(
        scf,
        ReceivableNotMatured,
        lambda: rt.redeem(p.s1, r.token_id),
        slot=r.slot,
        maturity=r.maturity,
        now_time=ANY,
    )
    assert rt.claimable(r.token_id) == 0
    past_maturity(scf, r)
    assert rt.claimable(r.token_id) == FACE
    assert rt.redeem(p.s1, r.token_id).paid == FACE


# ------------------------------------------------------------------------------------------------ refusals


def test_repaying_more_than_outstanding_is_refused(scf: ScfClient, parties: Parties) -> None:
    p, rt = parties, scf.receivables
    r = issue_active(scf, p, FACE)
    fund_debtor(scf, p)
    rt.repay(p.core, r.slot, FACE - 10)
    assert_refused(
        scf,
        RepaymentExceedsOutstanding,
        lambda: rt.repay(p.core, r.slot, 11),
        slot=r.slot,
        outstanding=10,
        amount=11,
    )
    assert_refused(scf, ZeroRepayment, lambda: rt.repay(p.core, r.slot, 0), slot=r.slot)


def test_a_pending_receivable_cannot_be_repaid(scf: ScfClient, parties: Parties) -> None:
    p, rt = parties, scf.receivables
    maturity = scf.w3.eth.get_block("latest")["timestamp"] + 30 * DAY
    issued = rt.issue(p.core, p.s1.address, FACE, maturity, doc_hash())
    fund_debtor(scf, p)
    assert_refused(
        scf,
        ReceivableNotRepayable,
        lambda: rt.repay(p.core, issued.slot, 1),
        slot=issued.slot,
        state=ReceivableState.PENDING,
    )


def test_redeem_before_maturity_is_refused(scf: ScfClient, parties: Parties) -> None:
    p, rt = parties, scf.receivables
    r = issue_active(scf, p, FACE)
    fund_debtor(scf, p)
    rt.repay(p.core, r.slot, 100)
    err = assert_refused(
        scf,
        ReceivableNotMatured,
        lambda: rt.redeem(p.s1, r.token_id),
        slot=r.slot,
        maturity=r.maturity,
        now_time=ANY,
    )
    assert err.now_time < r.maturity


def test_redeem_by_a_non_holder_is_refused(scf: ScfClient, parties: Parties) -> None:
    p, rt = parties, scf.receivables
    r = issue_active(scf, p, FACE)
    fund_debtor(scf, p)
    past_maturity(scf, r)
    rt.repay(p.core, r.slot, FACE)
    assert_refused(
        scf, NotOwnerNorApproved, lambda: rt.redeem(p.s2, r.token_id), token_id=r.token_id, caller=p.s2.address
    )


def test_settle_with_a_token_of_another_receivable_is_refused(scf: ScfClient, parties: Parties) -> None:
    p, rt = parties, scf.receivables
    a, b = issue_active(scf, p, FACE), issue_active(scf, p, FACE)
    fund_debtor(scf, p)
    past_maturity(scf, a)
    rt.repay(p.core, a.slot, FACE)
    assert_refused(  # nothing was half-applied
        scf,
        TokenNotInSlot,
        lambda: rt.settle(p.operator, a.slot, [a.token_id, b.token_id]),
        token_id=b.token_id,
        slot=a.slot,
    )
    assert rt.balance_of(a.token_id) == FACE


def test_settle_refuses_a_frozen_fragment_and_repay_and_settle_reports_it(scf: ScfClient, parties: Parties) -> None:
    p, rt = parties, scf.receivables
    r = issue_active(scf, p, FACE)
    (other,) = spread(scf, p, r, [1_000_00])
    rt.freeze(p.operator, other, b"\x01" * 32)
    fund_debtor(scf, p)
    past_maturity(scf, r)
    rt.repay(p.core, r.slot, FACE)
    assert_refused(scf, FragmentFrozen, lambda: rt.settle(p.operator, r.slot, [r.token_id, other]), token_id=other)
    report = repay_and_settle(scf, p.core, p.operator, r.slot)
    assert report.skipped == [(other, "frozen")]
    assert rt.receivable(r.slot).escrow == 1_000_00  # held until the freeze is lifted
    rt.unfreeze(p.operator, other)
    assert repay_and_settle(scf, p.core, p.operator, r.slot).paid_out == 1_000_00


def test_moves_at_or_after_maturity_are_refused(scf: ScfClient, parties: Parties) -> None:
    p, rt = parties, scf.receivables
    r = issue_active(scf, p, FACE)
    (other,) = spread(scf, p, r, [1_000_00])
    past_maturity(scf, r)
    for move in (
        lambda: rt.transfer_value(p.s1, r.token_id, p.s2.address, 1),
        lambda: rt.merge(p.s1, r.token_id, other, 1),
        lambda: rt.transfer(p.s1, p.s3.address, r.token_id),
    ):
        err = assert_refused(scf, ReceivableMatured, move, slot=r.slot, maturity=r.maturity, now_time=ANY)
        assert err.now_time >= r.maturity


def test_overdue_cannot_be_marked_before_the_grace_period_ends(scf: ScfClient, parties: Parties) -> None:
    p, rt = parties, scf.receivables
    r = issue_active(scf, p, FACE)
    past_maturity(scf, r)
    assert_refused(
        scf,
        GracePeriodNotOver,
        lambda: rt.mark_overdue(p.s2, r.slot),
        slot=r.slot,
        overdue_from=r.maturity + rt.grace_period(),
        now_time=ANY,
    )


# ------------------------------------------------------------------------------------------------ credit lines


def test_issuing_beyond_the_credit_line_is_refused_and_full_repayment_restores_it(
    scf: ScfClient, parties: Parties
) -> None:
    p, rt = parties, scf.receivables
    rt.set_credit_line(p.operator, p.core.address, 3 * FACE)
    a = issue_active(scf, p, 2 * FACE)
    assert rt.credit_line(p.core.address) == (3 * FACE, 2 * FACE)
    maturity = a.maturity
    assert_refused(
        scf,
        CreditLineExceeded,
        lambda: rt.issue(p.core, p.s1.address, FACE + 1, maturity, doc_hash()),
        debtor=p.core.address,
        limit=3 * FACE,
        used=2 * FACE,
        requested=FACE + 1,
    )
    fund_debtor(scf, p)
    rt.repay(p.core, a.slot, 2 * FACE - 1)
    assert rt.credit_line(p.core.address)[1] == 2 * FACE  # restored only by full repayment
    rt.repay(p.core, a.slot, 1)
    assert rt.credit_line(p.core.address) == (3 * FACE, 0)
    rt.issue(p.core, p.s1.address, 3 * FACE, maturity, doc_hash())


def test_rejection_and_cancellation_release_the_credit_they_used(scf: ScfClient, parties: Parties) -> None:
    p, rt = parties, scf.receivables
    rt.set_credit_line(p.operator, p.core.address, FACE)
    maturity = scf.w3.eth.get_block("latest")["timestamp"] + 30 * DAY
    first = rt.issue(p.core, p.s1.address, FACE, maturity, doc_hash())
    rt.reject(p.s1, first.token_id)
    second = rt.issue(p.core, p.s1.address, FACE, maturity, doc_hash())
    rt.cancel(p.core, second.slot)
    assert rt.credit_line(p.core.address) == (FACE, 0)


def test_a_credit_line_is_for_core_enterprises_and_set_by_the_operator(scf: ScfClient, parties: Parties) -> None:
    p, rt = parties, scf.receivables
    assert_refused(
        scf,
        WrongRole,
        lambda: rt.set_credit_line(p.operator, p.s1.address, FACE),
        account=p.s1.address,
        role=Role.SUPPLIER,
        required=Role.CORE_ENTERPRISE,
    )
    assert_refused(
        scf,
        WrongRole,
        lambda: rt.set_credit_line(p.core, p.core.address, FACE),
        account=p.core.address,
        role=Role.CORE_ENTERPRISE,
        required=Role.OPERATOR,
    )
