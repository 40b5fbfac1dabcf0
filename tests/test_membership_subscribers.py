"""Membership pushes every change to the token's copy (MemberWord); the copy must never drift."""

from __future__ import annotations

import pytest

from chain_client import Role, ScfClient
from chain_client.contract_errors import (
    AccountSuspended,
    AlreadySubscribed,
    NotMember,
    NotMembershipContract,
    WrongRole,
)
from chain_client.deploy import deploy_contract
from chain_client.devchain import now
from chain_client.receivables import slot_of_document, token_id_of
from tests.conftest import Parties, issue_active


def test_the_receivable_token_is_subscribed_at_deployment(scf: ScfClient) -> None:
    assert scf.membership.subscribers() == [scf.cash.address, scf.receivables.address, scf.financing.address]


def test_suspension_and_reinstatement_reach_the_token(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties, 100_00)
    scf.membership.suspend(parties.operator, parties.s2.address)
    with pytest.raises(AccountSuspended) as err:
        scf.receivables.transfer_value(parties.s1, r.token_id, parties.s2.address, 1_00)
    assert err.value.account == parties.s2.address
    scf.membership.reinstate(parties.operator, parties.s2.address)
    scf.receivables.transfer_value(parties.s1, r.token_id, parties.s2.address, 1_00)
    assert scf.receivables.fragment_count(parties.s2.address) == 1


def test_nobody_but_membership_can_write_the_copy(scf: ScfClient, parties: Parties) -> None:
    fn = scf.receivables.contract.functions.membershipChanged(parties.outsider.address, int(Role.SUPPLIER), False)
    with pytest.raises(NotMembershipContract) as err:
        scf.tx.transact(parties.operator, fn, 100_000)
    assert err.value.caller == parties.operator.address


def test_a_subscriber_cannot_be_added_twice_or_by_a_non_operator(scf: ScfClient, parties: Parties) -> None:
    with pytest.raises(AlreadySubscribed):
        scf.membership.add_subscriber(parties.operator, scf.receivables.address, [])
    with pytest.raises(WrongRole) as err:
        scf.membership.add_subscriber(parties.core, scf.receivables.address, [])
    assert err.value.required == Role.OPERATOR


def test_a_late_subscriber_learns_existing_members_from_the_push_and_resync(scf: ScfClient, parties: Parties) -> None:
    late = deploy_contract(
        scf.w3, parties.operator, "ReceivableToken", scf.membership.address, scf.cash.address, 365 * 24 * 3600
    )
    scf.membership.add_subscriber(parties.operator, late.address, [parties.operator.address])
    freeze = late.functions.freeze(token_id_of(slot_of_document(parties.core.address, b"\1" * 32), 1), b"\0" * 32)
    with pytest.raises(NotMember):  # the core enterprise was not pushed yet
        scf.tx.transact(parties.core, late.functions.issue(parties.s1.address, 1, 2**40, b"\1" * 32), 300_000)
    scf.membership.resync(parties.operator, late.address, [parties.core.address, parties.s1.address])
    scf.tx.transact(parties.operator, late.functions.setCreditLine(parties.core.address, 100), 100_000)
    maturity = now(scf.w3) + 86_400
    scf.tx.transact(parties.core, late.functions.issue(parties.s1.address, 1, maturity, b"\1" * 32), 300_000)
    assert late.functions.balanceOf(parties.s1.address).call() == 1
    scf.tx.transact(parties.operator, freeze, 100_000)  # the operator was pushed at subscription
