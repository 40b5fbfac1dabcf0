"""Financing (rule 6): a holder's signed request, funded by a financier, moves cash and value atomically."""

from __future__ import annotations

from dataclasses import replace
from unittest.mock import ANY

import pytest

from chain_client import ReceivableState, Role, ScfClient
from chain_client.contract_errors import (
    AccountSuspended,
    ERC20InsufficientAllowance,
    ExposureLimitExceeded,
    FragmentFrozen,
    InvalidFinancingValue,
    InvalidPrice,
    InvalidSignature,
    NonceAlreadyUsed,
    NoRecourse,
    ReceivableMatured,
    RequestExpired,
    RequestForAnotherFinancier,
    SignerNotHolder,
    WrongRole,
)
from chain_client.devchain import advance_time, now
from chain_client.financing import FinancingRequest
from tests.conftest import DAY, Issued, Parties, issue_active
from tests.refusals import assert_refused

VALUE = 50_000_00


@pytest.fixture
def ready(scf: ScfClient, parties: Parties) -> Issued:
    """An active receivable held by s1, who approved the desk; a financier with cash and a limit."""
    p = parties
    r = issue_active(scf, p, 200_000_00)
    scf.receivables.set_approval_for_all(p.s1, scf.financing.address, True)
    scf.cash.mint(p.operator, p.financier.address, 10_000_000_00)
    scf.cash.approve(p.financier, scf.financing.address, 10_000_000_00)
    scf.financing.set_exposure_limit(p.financier, p.core.address, 1_000_000_00)
    return r


def request(scf: ScfClient, r: Issued, **changes: object) -> FinancingRequest:
    base = FinancingRequest(token_id=r.token_id, value=VALUE, price=49_000_00, nonce=1, deadline=now(scf.w3) + DAY)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_funding_moves_cash_and_value_in_one_transaction(scf: ScfClient, parties: Parties, ready: Issued) -> None:
    p, req = parties, request(scf, ready)
    sig = scf.financing.sign(p.s1, req)
    cash_before = scf.cash.balance_of(p.s1.address), scf.cash.balance_of(p.financier.address)
    done = scf.financing.finance(p.financier, req, sig)
    assert scf.cash.balance_of(p.s1.address) == cash_before[0] + 49_000_00
    assert scf.cash.balance_of(p.financier.address) == cash_before[1] - 49_000_00
    assert scf.receivables.owner_of(done.financed_token_id) == p.financier.address
    assert scf.receivables.balance_of(done.financed_token_id) == VALUE
    assert scf.receivables.balance_of(ready.token_id) == 200_000_00 - VALUE
    assert scf.receivables.parent_of(done.financed_token_id) == ready.token_id
    assert done.request_hash == scf.financing.request_hash(req)
    assert (done.seller, done.value, done.price, done.recourse) == (p.s1.address, VALUE, 49_000_00, False)
    assert scf.financing.exposure(p.financier.address, p.core.address) == (1_000_000_00, VALUE)
    assert scf.financing.nonce_used(p.s1.address, 1)


def test_selling_a_whole_fragment_hands_over_the_same_token(scf: ScfClient, parties: Parties, ready: Issued) -> None:
    req = request(scf, ready, value=200_000_00, price=198_000_00)
    done = scf.financing.finance(parties.financier, req, scf.financing.sign(parties.s1, req))
    assert done.financed_token_id == ready.token_id
    assert scf.receivables.owner_of(ready.token_id) == parties.financier.address


def test_a_signature_is_used_once(scf: ScfClient, parties: Parties, ready: Issued) -> None:
    req = request(scf, ready)
    sig = scf.financing.sign(parties.s1, req)
    scf.financing.finance(parties.financier, req, sig)
    assert_refused(
        scf,
        NonceAlreadyUsed,
        lambda: scf.financing.finance(parties.financier, req, sig),
        signer=parties.s1.address,
        nonce=1,
    )


def test_a_cancelled_request_cannot_be_funded(scf: ScfClient, parties: Parties, ready: Issued) -> None:
    req = request(scf, ready, nonce=77)
    sig = scf.financing.sign(parties.s1, req)
    scf.financing.cancel(parties.s1, 77)
    assert_refused(
        scf,
        NonceAlreadyUsed,
        lambda: scf.financing.finance(parties.financier, req, sig),
        signer=parties.s1.address,
        nonce=77,
    )


def test_an_expired_request_is_refused(scf: ScfClient, parties: Parties, ready: Issued) -> None:
    req = request(scf, ready, deadline=now(scf.w3) + 60)
    sig = scf.financing.sign(parties.s1, req)
    advance_time(scf.w3, 120)
    err = assert_refused(
        scf,
        RequestExpired,
        lambda: scf.financing.finance(parties.financier, req, sig),
        deadline=req.deadline,
        now_time=ANY,
    )
    assert err.now_time > req.deadline


def test_a_tampered_request_recovers_another_signer(scf: ScfClient, parties: Parties, ready: Issued) -> None:
    req = request(scf, ready)
    sig = scf.financing.sign(parties.s1, req)
    err = assert_refused(
        scf,
        SignerNotHolder,
        lambda: scf.financing.finance(parties.financier, replace(req, price=1_00), sig),
        token_id=ready.token_id,
        signer=ANY,
        holder=parties.s1.address,
    )
    assert err.signer != parties.s1.address
    assert_refused(scf, InvalidSignature, lambda: scf.financing.finance(parties.financier, req, b"\x01" * 65))


def test_a_signer_who_no_longer_holds_the_fragment_is_refused(scf: ScfClient, parties: Parties, ready: Issued) -> None:
    req = request(scf, ready)
    sig = scf.financing.sign(parties.s1, req)
    scf.receivables.transfer(parties.s1, parties.s2.address, ready.token_id)
    assert_refused(
        scf,
        SignerNotHolder,
        lambda: scf.financing.finance(parties.financier, req, sig),
        token_id=ready.token_id,
        signer=parties.s1.address,
        holder=parties.s2.address,
    )


def test_a_request_for_another_financier_is_refused(scf: ScfClient, parties: Parties, ready: Issued) -> None:
    scf.membership.admit(parties.operator, parties.outsider.address, Role.FINANCIER)
    req = request(scf, ready, financier=parties.outsider.address)
    sig = scf.financing.sign(parties.s1, req)
    assert_refused(
        scf,
        RequestForAnotherFinancier,
        lambda: scf.financing.finance(parties.financier, req, sig),
        financier=parties.outsider.address,
        caller=parties.financier.address,
    )


@pytest.mark.parametrize(("value", "price"), [(0, 0), (200_000_01, 1_00)])
def test_value_zero_or_above_the_fragment_is_refused(
    scf: ScfClient, parties: Parties, ready: Issued, value: int, price: int
) -> None:
    req = request(scf, ready, value=value, price=price)
    sig = scf.financing.sign(parties.s1, req)
    assert_refused(
        scf,
        InvalidFinancingValue,
        lambda: scf.financing.finance(parties.financier, req, sig),
        token_id=ready.token_id,
        value=value,
        balance=200_000_00,
    )


@pytest.mark.parametrize("price", [0, VALUE + 1])
def test_price_zero_or_above_the_value_is_refused(scf: ScfClient, parties: Parties, ready: Issued, price: int) -> None:
    req = request(scf, ready, price=price)
    sig = scf.financing.sign(parties.s1, req)
    assert_refused(
        scf, InvalidPrice, lambda: scf.financing.finance(parties.financier, req, sig), price=price, value=VALUE
    )


def test_a_frozen_fragment_is_not_financed(scf: ScfClient, parties: Parties, ready: Issued) -> None:
    scf.receivables.freeze(parties.operator, ready.token_id, b"\x02" * 32)
    req = request(scf, ready)
    sig = scf.financing.sign(parties.s1, req)
    assert_refused(  # nothing moved
        scf, FragmentFrozen, lambda: scf.financing.finance(parties.financier, req, sig), token_id=ready.token_id
    )
    assert scf.cash.balance_of(parties.s1.address) == 0


def test_a_matured_fragment_is_not_financed(scf: ScfClient, parties: Parties, ready: Issued) -> None:
    req = request(scf, ready, deadline=ready.maturity + 10 * DAY)
    sig = scf.financing.sign(parties.s1, req)
    advance_time(scf.w3, ready.maturity - now(scf.w3) + 1)
    err = assert_refused(
        scf,
        ReceivableMatured,
        lambda: scf.financing.finance(parties.financier, req, sig),
        slot=ready.slot,
        maturity=ready.maturity,
        now_time=ANY,
    )
    assert err.now_time > ready.maturity


def test_exposure_above_the_limit_is_refused(scf: ScfClient, parties: Parties, ready: Issued) -> None:
    scf.financing.set_exposure_limit(parties.financier, parties.core.address, VALUE - 1)
    req = request(scf, ready)
    sig = scf.financing.sign(parties.s1, req)
    assert_refused(
        scf,
        ExposureLimitExceeded,
        lambda: scf.financing.finance(parties.financier, req, sig),
        financier=parties.financier.address,
        debtor=parties.core.address,
        limit=VALUE - 1,
        used=0,
        value=VALUE,
    )


def test_only_an_active_financier_can_fund(scf: ScfClient, parties: Parties, ready: Issued) -> None:
    req = request(scf, ready)
    sig = scf.financing.sign(parties.s1, req)
    assert_refused(
        scf,
        WrongRole,
        lambda: scf.financing.finance(parties.s2, req, sig),
        account=parties.s2.address,
        role=Role.SUPPLIER,
        required=Role.FINANCIER,
    )
    scf.membership.suspend(parties.operator, parties.financier.address)
    assert_refused(
        scf,
        AccountSuspended,
        lambda: scf.financing.finance(parties.financier, req, sig),
        account=parties.financier.address,
    )


def test_without_cash_nothing_moves(scf: ScfClient, parties: Parties, ready: Issued) -> None:
    req = request(scf, ready, value=200_000_00, price=199_000_00)
    sig = scf.financing.sign(parties.s1, req)
    scf.cash.approve(parties.financier, scf.financing.address, 1_00)
    assert_refused(
        scf,
        ERC20InsufficientAllowance,
        lambda: scf.financing.finance(parties.financier, req, sig),
        spender=scf.financing.address,
        allowance=1_00,
        needed=199_000_00,
    )
    assert scf.receivables.owner_of(ready.token_id) == parties.s1.address
    assert scf.financing.exposure(parties.financier.address, parties.core.address)[1] == 0


def test_repayment_and_redemption_release_exposure(scf: ScfClient, parties: Parties, ready: Issued) -> None:
    p = parties
    req = request(scf, ready)
    done = scf.financing.finance(p.financier, req, scf.financing.sign(p.s1, req))
    scf.cash.mint(p.operator, p.core.address, 200_000_00)
    scf.cash.approve(p.core, scf.receivables.address, 200_000_00)
    advance_time(scf.w3, ready.maturity - now(scf.w3))
    scf.receivables.repay(p.core, ready.slot, 200_000_00)
    before = scf.cash.balance_of(p.financier.address)
    scf.receivables.redeem(p.financier, done.financed_token_id)
    assert scf.cash.balance_of(p.financier.address) - before == VALUE  # the financier is paid the face value
    scf.financing.release_exposure(p.s3, [done.financed_token_id])
    assert scf.financing.exposure(p.financier.address, p.core.address)[1] == 0
    assert scf.financing.financing(done.financed_token_id).released


def test_recourse_is_claimed_on_an_overdue_receivable_and_settled_by_the_seller(
    scf: ScfClient, parties: Parties, ready: Issued
) -> None:
    p = parties
    req = request(scf, ready, recourse=True)
    done = scf.financing.finance(p.financier, req, scf.financing.sign(p.s1, req))
    scf.cash.mint(p.operator, p.core.address, 200_000_00)
    scf.cash.approve(p.core, scf.receivables.address, 200_000_00)
    advance_time(scf.w3, ready.maturity - now(scf.w3))
    scf.receivables.repay(p.core, ready.slot, 200_000_00 * 40 // 100)
    advance_time(scf.w3, scf.receivables.grace_period())
    scf.receivables.mark_overdue(p.s2, ready.slot)
    assert scf.receivables.receivable(ready.slot).state == ReceivableState.OVERDUE
    scf.financing.claim_recourse(p.financier, done.financed_token_id)
    record = scf.financing.financing(done.financed_token_id)
    assert (record.seller, record.recourse_claim) == (p.s1.address, VALUE * 60 // 100)
    scf.cash.approve(p.s1, scf.financing.address, record.recourse_claim)
    before = scf.cash.balance_of(p.financier.address)
    scf.financing.settle_recourse(p.s1, done.financed_token_id)
    # The financier is paid the 40 % repaid so far on its fragment, then the seller buys back the unpaid 60 %.
    assert scf.cash.balance_of(p.financier.address) - before == VALUE
    assert scf.financing.financing(done.financed_token_id).recourse_settled
    assert scf.receivables.owner_of(done.financed_token_id) == scf.financing.address  # in the desk's custody


def test_recourse_needs_a_request_with_recourse(scf: ScfClient, parties: Parties, ready: Issued) -> None:
    req = request(scf, ready)
    done = scf.financing.finance(parties.financier, req, scf.financing.sign(parties.s1, req))
    assert_refused(
        scf,
        NoRecourse,
        lambda: scf.financing.claim_recourse(parties.financier, done.financed_token_id),
        financed_token_id=done.financed_token_id,
    )
