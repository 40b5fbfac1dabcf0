"""Bounds on what an operator or a caller can set, each refused by name with the values that caused it."""

from __future__ import annotations

from chain_client import ScfClient, new_account
from chain_client.contract_errors import (
    CreditLimitOutOfRange,
    GracePeriodOutOfRange,
    SupplyCapExceeded,
    TooManySubscribers,
    UnknownFinancing,
)
from tests.conftest import Parties, issue_active
from tests.refusals import assert_refused

MAX_VALUE = 2**48 - 1  # ReceivableToken.MAX_VALUE
MAX_SUPPLY = 2**72 - 1  # SettlementToken.MAX_SUPPLY


def test_a_credit_line_beyond_the_largest_value_is_refused(scf: ScfClient, parties: Parties) -> None:
    assert_refused(
        scf,
        CreditLimitOutOfRange,
        lambda: scf.receivables.set_credit_line(parties.operator, parties.core.address, MAX_VALUE + 1),
        limit=MAX_VALUE + 1,
        max=MAX_VALUE,
    )


def test_a_grace_period_beyond_a_year_is_refused(scf: ScfClient, parties: Parties) -> None:
    assert_refused(
        scf,
        GracePeriodOutOfRange,
        lambda: scf.receivables.set_grace_period(parties.operator, 365 * 86400 + 1),
        seconds=365 * 86400 + 1,
        max=365 * 86400,
    )


def test_minting_past_the_supply_cap_is_refused(scf: ScfClient, parties: Parties) -> None:
    supply = scf.cash.total_supply()
    assert_refused(
        scf,
        SupplyCapExceeded,
        lambda: scf.cash.mint(parties.operator, parties.s1.address, MAX_SUPPLY - supply + 1),
        supply=supply,
        amount=MAX_SUPPLY - supply + 1,
        cap=MAX_SUPPLY,
    )


def test_no_more_than_eight_subscribers(scf: ScfClient, parties: Parties) -> None:
    for _ in range(8 - len(scf.membership.subscribers())):
        scf.membership.add_subscriber(parties.operator, new_account(scf.w3, fund_wei=0).address, [])
    ninth = new_account(scf.w3, fund_wei=0).address
    assert_refused(scf, TooManySubscribers, lambda: scf.membership.add_subscriber(parties.operator, ninth, []), max=8)


def test_recourse_and_release_of_an_unknown_financing_are_refused(scf: ScfClient, parties: Parties) -> None:
    never_financed = issue_active(scf, parties).token_id
    assert_refused(
        scf,
        UnknownFinancing,
        lambda: scf.financing.claim_recourse(parties.financier, never_financed),
        financed_token_id=never_financed,
    )
    assert_refused(
        scf,
        UnknownFinancing,
        lambda: scf.financing.release_exposure(parties.s1, [never_financed]),
        financed_token_id=never_financed,
    )
