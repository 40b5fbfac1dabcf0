"""Bounds on what an operator or a caller can set, each refused by name with the values that caused it."""

from __future__ import annotations

import pytest

from chain_client import ScfClient, new_account
from chain_client.contract_errors import (
    CreditLimitOutOfRange,
    GracePeriodOutOfRange,
    SupplyCapExceeded,
    TooManySubscribers,
    UnknownFinancing,
)
from tests.conftest import Parties, issue_active

MAX_VALUE = 2**48 - 1  # ReceivableToken.MAX_VALUE
MAX_SUPPLY = 2**72 - 1  # SettlementToken.MAX_SUPPLY


def test_a_credit_line_beyond_the_largest_value_is_refused(scf: ScfClient, parties: Parties) -> None:
    with pytest.raises(CreditLimitOutOfRange) as err:
        scf.receivables.set_credit_line(parties.operator, parties.core.address, MAX_VALUE + 1)
    assert (err.value.limit, err.value.max) == (MAX_VALUE + 1, MAX_VALUE)


def test_a_grace_period_beyond_a_year_is_refused(scf: ScfClient, parties: Parties) -> None:
    with pytest.raises(GracePeriodOutOfRange) as err:
        scf.receivables.set_grace_period(parties.operator, 365 * 86400 + 1)
    assert (err.value.seconds, err.value.max) == (365 * 86400 + 1, 365 * 86400)


def test_minting_past_the_supply_cap_is_refused(scf: ScfClient, parties: Parties) -> None:
    supply = scf.cash.total_supply()
    with pytest.raises(SupplyCapExceeded) as err:
        scf.cash.mint(parties.operator, parties.s1.address, MAX_SUPPLY - supply + 1)
    assert (err.value.supply, err.value.amount, err.value.cap) == (supply, MAX_SUPPLY - supply + 1, MAX_SUPPLY)


def test_no_more_than_eight_subscribers(scf: ScfClient, parties: Parties) -> None:
    for _ in range(8 - len(scf.membership.subscribers())):
        scf.membership.add_subscriber(parties.operator, new_account(scf.w3, fund_wei=0).address, [])
    with pytest.raises(TooManySubscribers) as err:
        scf.membership.add_subscriber(parties.operator, new_account(scf.w3, fund_wei=0).address, [])
    assert err.value.max == 8


def test_recourse_and_release_of_an_unknown_financing_are_refused(scf: ScfClient, parties: Parties) -> None:
    never_financed = issue_active(scf, parties).token_id
    with pytest.raises(UnknownFinancing) as claim:
        scf.financing.claim_recourse(parties.financier, never_financed)
    assert claim.value.financed_token_id == never_financed
    with pytest.raises(UnknownFinancing):
        scf.financing.release_exposure(parties.s1, [never_financed])
