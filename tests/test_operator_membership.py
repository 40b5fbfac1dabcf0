"""Whoever moves value must be a member, not only the owner and the recipient: an approval given to an
outsider, or held by a suspended member, moves nothing."""

from __future__ import annotations

from chain_client import ScfClient
from chain_client.contract_errors import AccountSuspended, NotMember
from tests.conftest import Parties, issue_active
from tests.refusals import assert_refused


def test_an_outsider_approved_for_all_cannot_split_for_the_owner(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties, 100_00)
    scf.receivables.set_approval_for_all(parties.s1, parties.outsider.address, True)
    assert_refused(
        scf,
        NotMember,
        lambda: scf.receivables.transfer_value(parties.outsider, r.token_id, parties.s2.address, 1_00),
        account=parties.outsider.address,
    )
    assert scf.receivables.balance_of(r.token_id) == 100_00


def test_a_suspended_member_cannot_spend_a_value_allowance(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties, 100_00)
    scf.receivables.approve_value(parties.s1, r.token_id, parties.s3.address, 50_00)
    scf.membership.suspend(parties.operator, parties.s3.address)
    assert_refused(
        scf,
        AccountSuspended,
        lambda: scf.receivables.transfer_value(parties.s3, r.token_id, parties.s2.address, 1_00),
        account=parties.s3.address,
    )


def test_an_outsider_approved_for_a_token_cannot_transfer_it(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties, 100_00)
    scf.receivables.approve(parties.s1, parties.outsider.address, r.token_id)
    assert_refused(
        scf,
        NotMember,
        lambda: scf.receivables.transfer(parties.outsider, parties.s2.address, r.token_id, from_=parties.s1.address),
        account=parties.outsider.address,
    )
    assert scf.receivables.owner_of(r.token_id) == parties.s1.address


def test_an_outsider_with_a_cash_allowance_cannot_move_cash(scf: ScfClient, parties: Parties) -> None:
    scf.cash.mint(parties.operator, parties.s1.address, 10_00)
    scf.cash.approve(parties.s1, parties.outsider.address, 10_00)
    fn = scf.cash.contract.functions.transferFrom(parties.s1.address, parties.s2.address, 1_00)
    assert_refused(
        scf, NotMember, lambda: scf.tx.transact(parties.outsider, fn, 100_000), account=parties.outsider.address
    )
    assert scf.cash.balance_of(parties.s1.address) == 10_00
