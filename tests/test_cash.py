"""SettlementToken: the cash leg in fen, held and moved by active members only."""

from __future__ import annotations

from chain_client import Role, ScfClient
from chain_client.contract_errors import (
    AccountSuspended,
    ERC20InsufficientAllowance,
    ERC20InsufficientBalance,
    NotMember,
    WrongRole,
)
from tests.conftest import Parties
from tests.refusals import assert_refused


def test_cash_is_counted_in_fen(scf: ScfClient) -> None:
    assert scf.cash.contract.functions.decimals().call() == 2


def test_operator_mints_to_a_member(scf: ScfClient, parties: Parties) -> None:
    scf.cash.mint(parties.operator, parties.s1.address, 1_000_00)
    assert scf.cash.balance_of(parties.s1.address) == 1_000_00
    assert scf.cash.total_supply() == 1_000_00


def test_mint_by_a_non_operator_is_refused(scf: ScfClient, parties: Parties) -> None:
    assert_refused(
        scf,
        WrongRole,
        lambda: scf.cash.mint(parties.financier, parties.financier.address, 1_00),
        account=parties.financier.address,
        role=Role.FINANCIER,
        required=Role.OPERATOR,
    )
    assert scf.cash.total_supply() == 0


def test_mint_to_a_non_member_is_refused(scf: ScfClient, parties: Parties) -> None:
    assert_refused(
        scf,
        NotMember,
        lambda: scf.cash.mint(parties.operator, parties.outsider.address, 1_00),
        account=parties.outsider.address,
    )
    assert scf.cash.total_supply() == 0


def test_mint_to_a_suspended_member_is_refused(scf: ScfClient, parties: Parties) -> None:
    scf.membership.suspend(parties.operator, parties.s1.address)
    assert_refused(
        scf,
        AccountSuspended,
        lambda: scf.cash.mint(parties.operator, parties.s1.address, 1_00),
        account=parties.s1.address,
    )


def test_members_transfer_cash_to_each_other(scf: ScfClient, parties: Parties) -> None:
    scf.cash.mint(parties.operator, parties.financier.address, 500_00)
    scf.cash.transfer(parties.financier, parties.s1.address, 120_00)
    assert scf.cash.balance_of(parties.financier.address) == 380_00
    assert scf.cash.balance_of(parties.s1.address) == 120_00
    assert scf.cash.total_supply() == 500_00


def test_transfer_to_an_outsider_is_refused(scf: ScfClient, parties: Parties) -> None:
    scf.cash.mint(parties.operator, parties.s1.address, 500_00)
    assert_refused(
        scf,
        NotMember,
        lambda: scf.cash.transfer(parties.s1, parties.outsider.address, 1_00),
        account=parties.outsider.address,
    )
    assert scf.cash.balance_of(parties.s1.address) == 500_00


def test_transfer_from_a_suspended_member_is_refused(scf: ScfClient, parties: Parties) -> None:
    scf.cash.mint(parties.operator, parties.s1.address, 500_00)
    scf.membership.suspend(parties.operator, parties.s1.address)
    assert_refused(
        scf,
        AccountSuspended,
        lambda: scf.cash.transfer(parties.s1, parties.s2.address, 1_00),
        account=parties.s1.address,
    )
    assert scf.cash.balance_of(parties.s1.address) == 500_00


def test_transfer_to_a_suspended_member_is_refused(scf: ScfClient, parties: Parties) -> None:
    scf.cash.mint(parties.operator, parties.s1.address, 500_00)
    scf.membership.suspend(parties.operator, parties.s2.address)
    assert_refused(
        scf,
        AccountSuspended,
        lambda: scf.cash.transfer(parties.s1, parties.s2.address, 1_00),
        account=parties.s2.address,
    )


def test_transfer_of_more_than_the_balance_is_refused(scf: ScfClient, parties: Parties) -> None:
    scf.cash.mint(parties.operator, parties.s1.address, 5_00)
    assert_refused(
        scf,
        ERC20InsufficientBalance,
        lambda: scf.cash.transfer(parties.s1, parties.s2.address, 5_01),
        sender=parties.s1.address,
        balance=5_00,
        needed=5_01,
    )


def test_burn_of_a_members_cash_needs_its_allowance(scf: ScfClient, parties: Parties) -> None:
    scf.cash.mint(parties.operator, parties.s1.address, 500_00)
    assert_refused(
        scf,
        ERC20InsufficientAllowance,
        lambda: scf.cash.burn(parties.operator, parties.s1.address, 100_00),
        spender=parties.operator.address,
        allowance=0,
        needed=100_00,
    )
    assert scf.cash.balance_of(parties.s1.address) == 500_00


def test_burn_with_an_allowance_debits_and_spends_it(scf: ScfClient, parties: Parties) -> None:
    scf.cash.mint(parties.operator, parties.s1.address, 500_00)
    scf.cash.approve(parties.s1, parties.operator.address, 150_00)
    scf.cash.burn(parties.operator, parties.s1.address, 100_00)
    assert scf.cash.balance_of(parties.s1.address) == 400_00
    assert scf.cash.allowance(parties.s1.address, parties.operator.address) == 50_00
    assert scf.cash.total_supply() == 400_00
    assert_refused(
        scf,
        ERC20InsufficientAllowance,
        lambda: scf.cash.burn(parties.operator, parties.s1.address, 50_01),
        spender=parties.operator.address,
        allowance=50_00,
        needed=50_01,
    )


def test_operator_burns_its_own_balance_without_allowance(scf: ScfClient, parties: Parties) -> None:
    scf.cash.mint(parties.operator, parties.operator.address, 300_00)
    scf.cash.burn(parties.operator, parties.operator.address, 100_00)
    assert scf.cash.balance_of(parties.operator.address) == 200_00
    assert scf.cash.total_supply() == 200_00


def test_burn_by_a_non_operator_is_refused(scf: ScfClient, parties: Parties) -> None:
    scf.cash.mint(parties.operator, parties.s1.address, 500_00)
    assert_refused(
        scf,
        WrongRole,
        lambda: scf.cash.burn(parties.s1, parties.s1.address, 1_00),
        account=parties.s1.address,
        role=Role.SUPPLIER,
        required=Role.OPERATOR,
    )
    assert scf.cash.balance_of(parties.s1.address) == 500_00
