"""Findings of the contracts review (issue 9, defects 3, 4, 5 and 7): each test failed on the code before its fix.

Defects 1 and 2 (the financing record and recourse) are in test_desk_lifecycle.py.
"""

from __future__ import annotations

from unittest.mock import ANY

from chain_client import ReceivableState, Role, ScfClient, new_account
from chain_client.contract_errors import (
    AccountSuspended,
    FragmentFrozen,
    LastActiveOperator,
    NotMember,
    NotSubscribed,
)
from chain_client.devchain import now
from chain_client.exceptions import ContractRevert
from tests.conftest import DAY, Parties, doc_hash, issue_active
from tests.refusals import assert_refused

# ------------------------------------------------------------------------------------------ defect 3: approvals


def test_an_outsider_approved_for_all_cannot_pass_an_approval_on(scf: ScfClient, parties: Parties) -> None:
    """An approval given to an outsider moves nothing, and so it cannot be delegated to an active accomplice."""
    p = parties
    r = issue_active(scf, p, 100_000_00)
    scf.receivables.set_approval_for_all(p.s1, p.outsider.address, True)
    assert_refused(
        scf,
        NotMember,
        lambda: scf.receivables.approve_value(p.outsider, r.token_id, p.s2.address, 100_000_00),
        account=p.outsider.address,
    )
    assert_refused(
        scf,
        NotMember,
        lambda: scf.receivables.approve(p.outsider, p.s2.address, r.token_id),
        account=p.outsider.address,
    )
    assert scf.receivables.allowance(r.token_id, p.s2.address) == 0
    assert scf.receivables.get_approved(r.token_id) == "0x" + "00" * 20


def test_a_suspended_member_holding_a_token_approval_cannot_pass_it_on(scf: ScfClient, parties: Parties) -> None:
    p = parties
    r = issue_active(scf, p, 100_000_00)
    scf.receivables.approve(p.s1, p.s2.address, r.token_id)
    scf.membership.suspend(p.operator, p.s2.address)
    assert_refused(
        scf,
        AccountSuspended,
        lambda: scf.receivables.approve_value(p.s2, r.token_id, p.s3.address, 50_000_00),
        account=p.s2.address,
    )
    assert scf.receivables.allowance(r.token_id, p.s3.address) == 0


def test_an_active_operator_still_approves_for_the_owner(scf: ScfClient, parties: Parties) -> None:
    p = parties
    r = issue_active(scf, p, 100_000_00)
    scf.receivables.set_approval_for_all(p.s1, p.s2.address, True)
    scf.receivables.approve_value(p.s2, r.token_id, p.s3.address, 10_00)
    assert scf.receivables.allowance(r.token_id, p.s3.address) == 10_00


# ------------------------------------------------------------------------------------------ defect 4: frozen pending


def test_a_frozen_pending_fragment_cannot_be_rejected_or_cancelled(scf: ScfClient, parties: Parties) -> None:
    p = parties
    issued = scf.receivables.issue(p.core, p.s1.address, 100_000_00, now(scf.w3) + 30 * DAY, doc_hash())
    credit_before = scf.receivables.credit_line(p.core.address)
    scf.receivables.freeze(p.operator, issued.token_id, b"\x01" * 32)
    assert_refused(scf, FragmentFrozen, lambda: scf.receivables.reject(p.s1, issued.token_id), token_id=issued.token_id)
    assert_refused(scf, FragmentFrozen, lambda: scf.receivables.cancel(p.core, issued.slot), token_id=issued.token_id)
    assert scf.receivables.receivable(issued.slot).state == ReceivableState.PENDING
    assert scf.receivables.credit_line(p.core.address) == credit_before  # the credit line stays used
    scf.receivables.unfreeze(p.operator, issued.token_id)
    scf.receivables.cancel(p.core, issued.slot)


def test_a_burned_fragment_reads_as_neither_frozen_nor_approved(scf: ScfClient, parties: Parties) -> None:
    """Before the fix a frozen pending fragment could be cancelled, and its burned record still read as frozen."""
    p = parties
    issued = scf.receivables.issue(p.core, p.s1.address, 100_000_00, now(scf.w3) + 30 * DAY, doc_hash())
    scf.receivables.approve(p.s1, p.s2.address, issued.token_id)
    scf.receivables.freeze(p.operator, issued.token_id)
    try:
        scf.receivables.cancel(p.core, issued.slot)
    except FragmentFrozen:
        scf.receivables.unfreeze(p.operator, issued.token_id)
        scf.receivables.cancel(p.core, issued.slot)
    infos, _, _ = scf.receivables.contract.functions.fragmentsOf(issued.slot, 1, 1).call()
    owner, value, _, _, frozen = infos[0]
    assert (int(owner, 16), value, frozen) == (0, 0, False)


# ------------------------------------------------------------------------------------------ defect 7: operator


def test_a_reverting_subscriber_can_be_removed_so_admission_and_suspension_work_again(
    scf: ScfClient, parties: Parties
) -> None:
    p = parties
    broken = new_account(scf.w3).address  # no code: every push to it reverts
    scf.membership.add_subscriber(p.operator, broken, [])
    newcomer = new_account(scf.w3)
    assert_refused(  # the push to a contract-less address reverts without data
        scf,
        ContractRevert,
        lambda: scf.membership.admit(p.operator, newcomer.address, Role.SUPPLIER),
        message=ANY,
    )
    assert not scf.membership.is_active(newcomer.address)
    scf.membership.remove_subscriber(p.operator, broken)
    assert broken not in scf.membership.subscribers()
    scf.membership.admit(p.operator, newcomer.address, Role.SUPPLIER)
    scf.membership.suspend(p.operator, newcomer.address)
    assert not scf.membership.is_active(newcomer.address)
    assert_refused(scf, NotSubscribed, lambda: scf.membership.remove_subscriber(p.operator, broken), subscriber=broken)


def test_the_last_active_operator_cannot_be_suspended(scf: ScfClient, parties: Parties) -> None:
    p = parties
    assert_refused(
        scf,
        LastActiveOperator,
        lambda: scf.membership.suspend(p.operator, p.operator.address),
        account=p.operator.address,
    )
    second = new_account(scf.w3)
    scf.membership.admit(p.operator, second.address, Role.OPERATOR)
    scf.membership.suspend(second, p.operator.address)  # two active: one may go
    assert_refused(
        scf, LastActiveOperator, lambda: scf.membership.suspend(second, second.address), account=second.address
    )
    scf.membership.reinstate(second, p.operator.address)
    scf.membership.suspend(p.operator, second.address)
    assert scf.membership.is_active(p.operator.address)
