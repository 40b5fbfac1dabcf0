"""Every refusal of ReceivableToken: the exact named error, its fields, and no change of state."""

from __future__ import annotations

import pytest

from chain_client import Role, ScfClient
from chain_client.contract_errors import (
    AccountSuspended,
    CallerNotHolder,
    DocumentAlreadyIssued,
    EmptySplit,
    ERC721InvalidOwner,
    FaceValueOutOfRange,
    FragmentFrozen,
    FragmentNotFrozen,
    IncorrectOwner,
    InsufficientAllowance,
    InsufficientValue,
    InvalidDocumentHash,
    InvalidOperator,
    LengthMismatch,
    MaturityNotInFuture,
    NonexistentReceivable,
    NonexistentToken,
    NotDebtor,
    NotMember,
    NotOwnerNorApproved,
    ReceivableMatured,
    ReceivableNotActive,
    ReceivableNotPending,
    SelfTransfer,
    SlotMismatch,
    TenorCapOutOfRange,
    TenorExceedsCap,
    WrongRole,
    ZeroValue,
)
from chain_client.devchain import advance_time, now
from chain_client.receivables import Fragment, ReceivableState, slot_of_document, token_id_of
from tests.conftest import DAY, Issued, Parties, doc_hash, issue_active

MAX_VALUE = 2**48 - 1
DEFAULT_TENOR_CAP = 365 * DAY
MAX_TENOR_CAP = 3650 * DAY
ZERO_HASH = b"\0" * 32


def state_of(scf: ScfClient, p: Parties, slot: int) -> tuple[list[Fragment], list[int]]:
    """Every live fragment of `slot` and every party's fragment count: what a refused call must not change."""
    counts = [scf.receivables.fragment_count(a.address) for a in (p.core, p.s1, p.s2, p.s3, p.s4, p.financier)]
    return scf.receivables.fragments_of(slot), counts


def issue_pending(scf: ScfClient, p: Parties, face_value: int = 1_000_00) -> tuple[int, int]:
    r = scf.receivables.issue(p.core, p.s1.address, face_value, now(scf.w3) + 30 * DAY, doc_hash())
    return r.slot, r.token_id


def own_second_fragment(scf: ScfClient, p: Parties, r: Issued, value: int = 100_00) -> int:
    """Split `value` of `r` from s1 to s1 itself; returns the new fragment."""
    return scf.receivables.split(p.s1, r.token_id, p.s1.address, value).new_token_ids[0]


# ------------------------------------------------------------------------------------------ membership


def test_split_to_a_non_member_is_refused_naming_the_outsider(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    before = state_of(scf, parties, r.slot)
    with pytest.raises(NotMember) as err:
        scf.receivables.split(parties.s1, r.token_id, parties.outsider.address, 10_00)
    assert err.value.account == parties.outsider.address
    assert state_of(scf, parties, r.slot) == before


def test_batch_split_with_one_non_member_recipient_is_refused_whole(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    before = state_of(scf, parties, r.slot)
    with pytest.raises(NotMember) as err:
        scf.receivables.split_batch(
            parties.s1, r.token_id, [(parties.s2.address, 1_00), (parties.outsider.address, 1_00)]
        )
    assert err.value.account == parties.outsider.address
    assert state_of(scf, parties, r.slot) == before


def test_whole_transfer_to_a_non_member_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    with pytest.raises(NotMember) as err:
        scf.receivables.transfer(parties.s1, parties.outsider.address, r.token_id)
    assert err.value.account == parties.outsider.address
    assert scf.receivables.owner_of(r.token_id) == parties.s1.address


def test_split_by_a_suspended_sender_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.membership.suspend(parties.operator, parties.s1.address)
    before = state_of(scf, parties, r.slot)
    with pytest.raises(AccountSuspended) as err:
        scf.receivables.split(parties.s1, r.token_id, parties.s2.address, 10_00)
    assert err.value.account == parties.s1.address
    assert state_of(scf, parties, r.slot) == before


def test_batch_split_by_a_suspended_sender_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.membership.suspend(parties.operator, parties.s1.address)
    with pytest.raises(AccountSuspended) as err:
        scf.receivables.split_batch(parties.s1, r.token_id, [(parties.s2.address, 10_00)])
    assert err.value.account == parties.s1.address


def test_split_to_a_suspended_receiver_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.membership.suspend(parties.operator, parties.s2.address)
    before = state_of(scf, parties, r.slot)
    with pytest.raises(AccountSuspended) as err:
        scf.receivables.split(parties.s1, r.token_id, parties.s2.address, 10_00)
    assert err.value.account == parties.s2.address
    assert state_of(scf, parties, r.slot) == before


def test_whole_transfer_to_a_suspended_receiver_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.membership.suspend(parties.operator, parties.s2.address)
    with pytest.raises(AccountSuspended) as err:
        scf.receivables.transfer(parties.s1, parties.s2.address, r.token_id)
    assert err.value.account == parties.s2.address


def test_merge_into_a_suspended_members_fragment_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    theirs = scf.receivables.split(parties.s1, r.token_id, parties.s2.address, 10_00).new_token_ids[0]
    scf.membership.suspend(parties.operator, parties.s2.address)
    with pytest.raises(AccountSuspended) as err:
        scf.receivables.merge(parties.s1, r.token_id, theirs, 5_00)
    assert err.value.account == parties.s2.address
    assert scf.receivables.balance_of(theirs) == 10_00


def test_suspended_supplier_cannot_accept(scf: ScfClient, parties: Parties) -> None:
    _, token_id = issue_pending(scf, parties)
    scf.membership.suspend(parties.operator, parties.s1.address)
    with pytest.raises(AccountSuspended) as err:
        scf.receivables.accept(parties.s1, token_id)
    assert err.value.account == parties.s1.address


def test_moving_value_works_again_after_reinstatement(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.membership.suspend(parties.operator, parties.s1.address)
    with pytest.raises(AccountSuspended):
        scf.receivables.split(parties.s1, r.token_id, parties.s2.address, 10_00)
    scf.membership.reinstate(parties.operator, parties.s1.address)
    scf.receivables.split(parties.s1, r.token_id, parties.s2.address, 10_00)
    assert scf.receivables.balance_of(r.token_id) == r.face_value - 10_00


# ------------------------------------------------------------------------------------------ issue


def test_issue_by_a_supplier_is_refused_with_its_role(scf: ScfClient, parties: Parties) -> None:
    with pytest.raises(WrongRole) as err:
        scf.receivables.issue(parties.s1, parties.s2.address, 1_00, now(scf.w3) + DAY, doc_hash())
    assert err.value.account == parties.s1.address
    assert err.value.role == Role.SUPPLIER
    assert err.value.required == Role.CORE_ENTERPRISE


def test_issue_to_a_financier_is_refused(scf: ScfClient, parties: Parties) -> None:
    with pytest.raises(WrongRole) as err:
        scf.receivables.issue(parties.core, parties.financier.address, 1_00, now(scf.w3) + DAY, doc_hash())
    assert err.value.account == parties.financier.address
    assert err.value.role == Role.FINANCIER
    assert err.value.required == Role.SUPPLIER


def test_issue_to_a_non_member_is_refused(scf: ScfClient, parties: Parties) -> None:
    with pytest.raises(NotMember) as err:
        scf.receivables.issue(parties.core, parties.outsider.address, 1_00, now(scf.w3) + DAY, doc_hash())
    assert err.value.account == parties.outsider.address


def test_issue_by_a_suspended_core_enterprise_is_refused(scf: ScfClient, parties: Parties) -> None:
    scf.membership.suspend(parties.operator, parties.core.address)
    with pytest.raises(AccountSuspended) as err:
        scf.receivables.issue(parties.core, parties.s1.address, 1_00, now(scf.w3) + DAY, doc_hash())
    assert err.value.account == parties.core.address


def test_issue_of_an_already_used_document_hash_is_refused(scf: ScfClient, parties: Parties) -> None:
    h = doc_hash()
    first = scf.receivables.issue(parties.core, parties.s1.address, 1_00, now(scf.w3) + DAY, h)
    with pytest.raises(DocumentAlreadyIssued) as err:
        scf.receivables.issue(parties.core, parties.s2.address, 2_00, now(scf.w3) + DAY, h)
    assert err.value.document_hash == h
    assert err.value.slot == first.slot == slot_of_document(parties.core.address, h)
    assert scf.receivables.receivable(first.slot).debtor == parties.core.address


def test_another_debtor_cannot_squat_a_document_hash(scf: ScfClient, parties: Parties) -> None:
    """A member that learns a debtor's document hash (e.g. from a pending transaction) and issues on it first,
    then cancels, does not stop the debtor from confirming its own trade: the slot is bound to the debtor."""
    h = doc_hash()
    squat = scf.receivables.issue(parties.core2, parties.s2.address, 1, now(scf.w3) + DAY, h)
    scf.receivables.cancel(parties.core2, squat.slot)
    real = scf.receivables.issue(parties.core, parties.s1.address, 1_000_00, now(scf.w3) + DAY, h)
    assert real.slot != squat.slot
    info = scf.receivables.receivable(real.slot)
    assert (info.debtor, info.face_value, info.document_hash) == (parties.core.address, 1_000_00, h)
    assert scf.receivables.receivable(squat.slot).document_hash == h  # each keeps the full hash


def test_a_hash_sharing_the_top_224_bits_is_its_own_receivable(scf: ScfClient, parties: Parties) -> None:
    """Slots hash the debtor and the whole document hash: no two documents share one by their top bits."""
    h = doc_hash()
    first = scf.receivables.issue(parties.core, parties.s1.address, 1_00, now(scf.w3) + DAY, h)
    sibling = h[:28] + bytes(b ^ 0xFF for b in h[28:])
    second = scf.receivables.issue(parties.core, parties.s1.address, 1_00, now(scf.w3) + DAY, sibling)
    assert second.slot != first.slot
    assert scf.receivables.receivable(second.slot).document_hash == sibling


def test_issue_with_a_zero_document_hash_is_refused(scf: ScfClient, parties: Parties) -> None:
    h = b"\0" * 32
    with pytest.raises(InvalidDocumentHash) as err:
        scf.receivables.issue(parties.core, parties.s1.address, 1_00, now(scf.w3) + DAY, h)
    assert err.value.document_hash == h


def test_issue_with_maturity_in_the_past_is_refused(scf: ScfClient, parties: Parties) -> None:
    maturity = now(scf.w3) - DAY
    with pytest.raises(MaturityNotInFuture) as err:
        scf.receivables.issue(parties.core, parties.s1.address, 1_00, maturity, doc_hash())
    assert err.value.maturity == maturity
    assert err.value.now_time >= maturity + DAY


def test_issue_with_maturity_equal_to_now_is_refused(scf: ScfClient, parties: Parties) -> None:
    maturity = now(scf.w3)
    with pytest.raises(MaturityNotInFuture) as err:
        scf.receivables.issue(parties.core, parties.s1.address, 1_00, maturity, doc_hash())
    assert err.value.maturity == maturity
    assert err.value.now_time >= maturity


def test_issue_with_maturity_beyond_the_tenor_cap_is_refused(scf: ScfClient, parties: Parties) -> None:
    t0 = now(scf.w3)
    maturity = t0 + DEFAULT_TENOR_CAP + DAY
    with pytest.raises(TenorExceedsCap) as err:
        scf.receivables.issue(parties.core, parties.s1.address, 1_00, maturity, doc_hash())
    assert err.value.maturity == maturity
    block_time = err.value.latest_allowed - DEFAULT_TENOR_CAP  # the refused transaction's block time
    assert t0 <= block_time <= t0 + 60
    assert err.value.maturity - err.value.latest_allowed == t0 + DAY - block_time


def test_issue_with_maturity_exactly_at_the_cap_is_accepted(scf: ScfClient, parties: Parties) -> None:
    with pytest.raises(TenorExceedsCap) as err:
        scf.receivables.issue(parties.core, parties.s1.address, 1_00, now(scf.w3) + 2 * DEFAULT_TENOR_CAP, doc_hash())
    # The clock never goes back, so the cap as the refusal reported it is still within the cap.
    r = scf.receivables.issue(parties.core, parties.s1.address, 1_00, err.value.latest_allowed, doc_hash())
    assert scf.receivables.receivable(r.slot).maturity == err.value.latest_allowed


@pytest.mark.parametrize("face_value", [0, MAX_VALUE + 1, 2**64])
def test_issue_with_face_value_out_of_range_is_refused(scf: ScfClient, parties: Parties, face_value: int) -> None:
    with pytest.raises(FaceValueOutOfRange) as err:
        scf.receivables.issue(parties.core, parties.s1.address, face_value, now(scf.w3) + DAY, doc_hash())
    assert err.value.face_value == face_value
    assert err.value.max == MAX_VALUE


def test_issue_with_the_largest_face_value_is_accepted(scf: ScfClient, parties: Parties) -> None:
    r = scf.receivables.issue(parties.core, parties.s1.address, MAX_VALUE, now(scf.w3) + DAY, doc_hash())
    assert scf.receivables.balance_of(r.token_id) == MAX_VALUE


# ------------------------------------------------------------------------------------------ splitting value


def test_split_of_more_than_the_balance_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties, 500_00)
    before = state_of(scf, parties, r.slot)
    with pytest.raises(InsufficientValue) as err:
        scf.receivables.split(parties.s1, r.token_id, parties.s2.address, 500_01)
    assert (err.value.token_id, err.value.balance, err.value.needed) == (r.token_id, 500_00, 500_01)
    assert state_of(scf, parties, r.slot) == before


def test_batch_split_whose_total_exceeds_the_balance_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties, 500_00)
    before = state_of(scf, parties, r.slot)
    with pytest.raises(InsufficientValue) as err:
        scf.receivables.split_batch(
            parties.s1, r.token_id, [(parties.s2.address, 300_00), (parties.s3.address, 300_00)]
        )
    assert (err.value.token_id, err.value.balance, err.value.needed) == (r.token_id, 500_00, 600_00)
    assert state_of(scf, parties, r.slot) == before


def test_split_of_zero_value_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    with pytest.raises(ZeroValue) as err:
        scf.receivables.split(parties.s1, r.token_id, parties.s2.address, 0)
    assert err.value.token_id == r.token_id


def test_batch_split_with_a_zero_value_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    with pytest.raises(ZeroValue) as err:
        scf.receivables.split_batch(parties.s1, r.token_id, [(parties.s2.address, 1_00), (parties.s3.address, 0)])
    assert err.value.token_id == r.token_id


def test_split_by_a_stranger_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    before = state_of(scf, parties, r.slot)
    with pytest.raises(NotOwnerNorApproved) as err:
        scf.receivables.split(parties.s2, r.token_id, parties.s2.address, 1_00)
    assert (err.value.token_id, err.value.caller) == (r.token_id, parties.s2.address)
    assert state_of(scf, parties, r.slot) == before


def test_batch_split_by_a_stranger_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    with pytest.raises(NotOwnerNorApproved) as err:
        scf.receivables.split_batch(parties.s2, r.token_id, [(parties.s2.address, 1_00)])
    assert (err.value.token_id, err.value.caller) == (r.token_id, parties.s2.address)


def test_merge_by_a_stranger_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    theirs = scf.receivables.split(parties.s1, r.token_id, parties.s2.address, 10_00).new_token_ids[0]
    with pytest.raises(NotOwnerNorApproved) as err:
        scf.receivables.merge(parties.s2, r.token_id, theirs, 1_00)
    assert (err.value.token_id, err.value.caller) == (r.token_id, parties.s2.address)


def test_split_beyond_the_value_allowance_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.receivables.approve_value(parties.s1, r.token_id, parties.s2.address, 100_00)
    before = state_of(scf, parties, r.slot)
    with pytest.raises(InsufficientAllowance) as err:
        scf.receivables.split(parties.s2, r.token_id, parties.s3.address, 150_00)
    assert err.value.token_id == r.token_id
    assert err.value.operator == parties.s2.address
    assert (err.value.allowance, err.value.needed) == (100_00, 150_00)
    assert state_of(scf, parties, r.slot) == before
    assert scf.receivables.allowance(r.token_id, parties.s2.address) == 100_00


def test_value_allowance_is_spent_and_then_exhausted(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.receivables.approve_value(parties.s1, r.token_id, parties.s2.address, 100_00)
    scf.receivables.split(parties.s2, r.token_id, parties.s3.address, 60_00)
    assert scf.receivables.allowance(r.token_id, parties.s2.address) == 40_00
    with pytest.raises(InsufficientAllowance) as err:
        scf.receivables.split_batch(parties.s2, r.token_id, [(parties.s3.address, 30_00), (parties.s4.address, 30_00)])
    assert (err.value.allowance, err.value.needed) == (40_00, 60_00)
    scf.receivables.split(parties.s2, r.token_id, parties.s3.address, 40_00)
    assert scf.receivables.allowance(r.token_id, parties.s2.address) == 0
    with pytest.raises(NotOwnerNorApproved) as err2:
        scf.receivables.split(parties.s2, r.token_id, parties.s3.address, 1)
    assert (err2.value.token_id, err2.value.caller) == (r.token_id, parties.s2.address)
    assert scf.receivables.balance_of(r.token_id) == r.face_value - 100_00


def test_value_allowance_on_another_fragment_does_not_count(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    other = own_second_fragment(scf, parties, r)
    scf.receivables.approve_value(parties.s1, other, parties.s2.address, 50_00)
    with pytest.raises(NotOwnerNorApproved) as err:
        scf.receivables.split(parties.s2, r.token_id, parties.s2.address, 1_00)
    assert (err.value.token_id, err.value.caller) == (r.token_id, parties.s2.address)


def test_value_approval_by_a_stranger_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    with pytest.raises(NotOwnerNorApproved) as err:
        scf.receivables.approve_value(parties.s2, r.token_id, parties.s2.address, 1_00)
    assert (err.value.token_id, err.value.caller) == (r.token_id, parties.s2.address)
    assert scf.receivables.allowance(r.token_id, parties.s2.address) == 0


def test_erc721_approval_by_a_stranger_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    with pytest.raises(NotOwnerNorApproved) as err:
        scf.receivables.approve(parties.s2, parties.s2.address, r.token_id)
    assert (err.value.token_id, err.value.caller) == (r.token_id, parties.s2.address)


def test_approval_for_all_to_the_zero_address_is_refused(scf: ScfClient, parties: Parties) -> None:
    zero = "0x" + "00" * 20
    with pytest.raises(InvalidOperator) as err:
        scf.receivables.set_approval_for_all(parties.s1, zero, True)
    assert int(err.value.operator, 16) == 0


def test_batch_split_with_more_recipients_than_values_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    fn = scf.receivables.contract.functions.split(
        r.token_id, [parties.s2.address, parties.s3.address], [1_00], ZERO_HASH
    )
    with pytest.raises(LengthMismatch) as err:
        scf.tx.transact(parties.s1, fn, 300_000)
    assert (err.value.recipients, err.value.values) == (2, 1)


def test_batch_split_with_no_recipient_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    with pytest.raises(EmptySplit) as err:
        scf.receivables.split_batch(parties.s1, r.token_id, [])
    assert err.value.token_id == r.token_id


# ------------------------------------------------------------------------------------------ pending receivables


def test_split_of_a_pending_fragment_is_refused(scf: ScfClient, parties: Parties) -> None:
    slot, token_id = issue_pending(scf, parties)
    with pytest.raises(ReceivableNotActive) as err:
        scf.receivables.split(parties.s1, token_id, parties.s2.address, 1_00)
    assert (err.value.slot, err.value.state) == (slot, ReceivableState.PENDING)
    assert scf.receivables.balance_of(token_id) == 1_000_00


def test_batch_split_of_a_pending_fragment_is_refused(scf: ScfClient, parties: Parties) -> None:
    slot, token_id = issue_pending(scf, parties)
    with pytest.raises(ReceivableNotActive) as err:
        scf.receivables.split_batch(parties.s1, token_id, [(parties.s2.address, 1_00)])
    assert (err.value.slot, err.value.state) == (slot, ReceivableState.PENDING)


def test_whole_transfer_of_a_pending_fragment_is_refused(scf: ScfClient, parties: Parties) -> None:
    slot, token_id = issue_pending(scf, parties)
    with pytest.raises(ReceivableNotActive) as err:
        scf.receivables.transfer(parties.s1, parties.s2.address, token_id)
    assert (err.value.slot, err.value.state) == (slot, ReceivableState.PENDING)
    assert scf.receivables.owner_of(token_id) == parties.s1.address


def test_split_of_a_rejected_receivable_is_refused_as_nonexistent(scf: ScfClient, parties: Parties) -> None:
    _, token_id = issue_pending(scf, parties)
    scf.receivables.reject(parties.s1, token_id)
    with pytest.raises(NonexistentToken) as err:
        scf.receivables.split(parties.s1, token_id, parties.s2.address, 1_00)
    assert err.value.token_id == token_id


# ------------------------------------------------------------------------------------------ frozen fragments


def test_split_of_a_frozen_fragment_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.receivables.freeze(parties.operator, r.token_id)
    before = state_of(scf, parties, r.slot)
    with pytest.raises(FragmentFrozen) as err:
        scf.receivables.split(parties.s1, r.token_id, parties.s2.address, 1_00)
    assert err.value.token_id == r.token_id
    assert state_of(scf, parties, r.slot) == before


def test_batch_split_of_a_frozen_fragment_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.receivables.freeze(parties.operator, r.token_id)
    with pytest.raises(FragmentFrozen) as err:
        scf.receivables.split_batch(parties.s1, r.token_id, [(parties.s2.address, 1_00), (parties.s3.address, 1_00)])
    assert err.value.token_id == r.token_id


def test_merge_out_of_a_frozen_fragment_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    other = own_second_fragment(scf, parties, r)
    scf.receivables.freeze(parties.operator, r.token_id)
    with pytest.raises(FragmentFrozen) as err:
        scf.receivables.merge(parties.s1, r.token_id, other, 1_00)
    assert err.value.token_id == r.token_id


def test_merge_into_a_frozen_fragment_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    other = own_second_fragment(scf, parties, r)
    scf.receivables.freeze(parties.operator, other)
    before = state_of(scf, parties, r.slot)
    with pytest.raises(FragmentFrozen) as err:
        scf.receivables.merge(parties.s1, r.token_id, other, 1_00)
    assert err.value.token_id == other
    assert state_of(scf, parties, r.slot) == before


def test_whole_transfer_of_a_frozen_fragment_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.receivables.freeze(parties.operator, r.token_id)
    with pytest.raises(FragmentFrozen) as err:
        scf.receivables.transfer(parties.s1, parties.s2.address, r.token_id)
    assert err.value.token_id == r.token_id
    assert scf.receivables.owner_of(r.token_id) == parties.s1.address


def test_unfrozen_fragment_moves_again(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.receivables.freeze(parties.operator, r.token_id, b"\x01" * 32)
    scf.receivables.unfreeze(parties.operator, r.token_id)
    assert not scf.receivables.is_frozen(r.token_id)
    scf.receivables.split(parties.s1, r.token_id, parties.s2.address, 1_00)
    assert scf.receivables.balance_of(r.token_id) == r.face_value - 1_00


def test_freeze_by_a_non_operator_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    with pytest.raises(WrongRole) as err:
        scf.receivables.freeze(parties.core, r.token_id)
    assert err.value.account == parties.core.address
    assert (err.value.role, err.value.required) == (Role.CORE_ENTERPRISE, Role.OPERATOR)
    assert not scf.receivables.is_frozen(r.token_id)


def test_unfreeze_by_a_non_operator_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.receivables.freeze(parties.operator, r.token_id)
    with pytest.raises(WrongRole) as err:
        scf.receivables.unfreeze(parties.s1, r.token_id)
    assert (err.value.account, err.value.role, err.value.required) == (parties.s1.address, Role.SUPPLIER, Role.OPERATOR)
    assert scf.receivables.is_frozen(r.token_id)


def test_unfreeze_of_a_fragment_that_is_not_frozen_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    with pytest.raises(FragmentNotFrozen) as err:
        scf.receivables.unfreeze(parties.operator, r.token_id)
    assert err.value.token_id == r.token_id


def test_freeze_of_a_nonexistent_fragment_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    missing = token_id_of(r.slot, 99)
    with pytest.raises(NonexistentToken) as err:
        scf.receivables.freeze(parties.operator, missing)
    assert err.value.token_id == missing


# ------------------------------------------------------------------------------------------ after maturity


def test_split_after_maturity_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties, tenor=10 * DAY)
    advance_time(scf.w3, 10 * DAY + 1)
    with pytest.raises(ReceivableMatured) as err:
        scf.receivables.split(parties.s1, r.token_id, parties.s2.address, 1_00)
    assert (err.value.slot, err.value.maturity) == (r.slot, r.maturity)
    assert err.value.now_time > r.maturity


def test_batch_split_after_maturity_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties, tenor=10 * DAY)
    advance_time(scf.w3, 10 * DAY + 1)
    with pytest.raises(ReceivableMatured) as err:
        scf.receivables.split_batch(parties.s1, r.token_id, [(parties.s2.address, 1_00)])
    assert (err.value.slot, err.value.maturity) == (r.slot, r.maturity)


def test_merge_after_maturity_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties, tenor=10 * DAY)
    other = own_second_fragment(scf, parties, r)
    advance_time(scf.w3, 10 * DAY + 1)
    with pytest.raises(ReceivableMatured) as err:
        scf.receivables.merge(parties.s1, r.token_id, other, 1_00)
    assert (err.value.slot, err.value.maturity) == (r.slot, r.maturity)
    assert err.value.now_time > r.maturity


def test_whole_transfer_after_maturity_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties, tenor=10 * DAY)
    advance_time(scf.w3, 10 * DAY + 1)
    with pytest.raises(ReceivableMatured) as err:
        scf.receivables.transfer(parties.s1, parties.s2.address, r.token_id)
    assert (err.value.slot, err.value.maturity) == (r.slot, r.maturity)
    assert scf.receivables.owner_of(r.token_id) == parties.s1.address


def test_accept_after_maturity_is_refused(scf: ScfClient, parties: Parties) -> None:
    maturity = now(scf.w3) + DAY
    r = scf.receivables.issue(parties.core, parties.s1.address, 1_00, maturity, doc_hash())
    advance_time(scf.w3, DAY + 1)
    with pytest.raises(ReceivableMatured) as err:
        scf.receivables.accept(parties.s1, r.token_id)
    assert (err.value.slot, err.value.maturity) == (r.slot, maturity)
    assert scf.receivables.receivable(r.slot).state == ReceivableState.PENDING


# ------------------------------------------------------------------------------------------ merge shape


def test_merge_across_receivables_is_refused(scf: ScfClient, parties: Parties) -> None:
    a = issue_active(scf, parties)
    b = issue_active(scf, parties)
    with pytest.raises(SlotMismatch) as err:
        scf.receivables.merge(parties.s1, a.token_id, b.token_id, 1_00)
    assert (err.value.from_token_id, err.value.to_token_id) == (a.token_id, b.token_id)
    assert scf.receivables.balance_of(a.token_id) == a.face_value
    assert scf.receivables.balance_of(b.token_id) == b.face_value


def test_merge_of_a_fragment_into_itself_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    with pytest.raises(SelfTransfer) as err:
        scf.receivables.merge(parties.s1, r.token_id, r.token_id, 1_00)
    assert err.value.token_id == r.token_id


def test_merge_into_a_nonexistent_fragment_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    missing = token_id_of(r.slot, 7)
    with pytest.raises(NonexistentToken) as err:
        scf.receivables.merge(parties.s1, r.token_id, missing, 1_00)
    assert err.value.token_id == missing
    assert scf.receivables.balance_of(r.token_id) == r.face_value


# ------------------------------------------------------------------------------------------ accept, reject, cancel


def test_accept_by_someone_other_than_the_holder_is_refused(scf: ScfClient, parties: Parties) -> None:
    slot, token_id = issue_pending(scf, parties)
    with pytest.raises(CallerNotHolder) as err:
        scf.receivables.accept(parties.s2, token_id)
    assert (err.value.token_id, err.value.caller, err.value.holder) == (
        token_id,
        parties.s2.address,
        parties.s1.address,
    )
    assert scf.receivables.receivable(slot).state == ReceivableState.PENDING


def test_reject_by_the_debtor_is_refused(scf: ScfClient, parties: Parties) -> None:
    slot, token_id = issue_pending(scf, parties)
    with pytest.raises(CallerNotHolder) as err:
        scf.receivables.reject(parties.core, token_id)
    assert (err.value.token_id, err.value.caller, err.value.holder) == (
        token_id,
        parties.core.address,
        parties.s1.address,
    )
    assert scf.receivables.receivable(slot).state == ReceivableState.PENDING


def test_accept_of_an_accepted_receivable_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    with pytest.raises(ReceivableNotPending) as err:
        scf.receivables.accept(parties.s1, r.token_id)
    assert (err.value.slot, err.value.state) == (r.slot, ReceivableState.ACTIVE)


def test_reject_of_an_accepted_receivable_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    with pytest.raises(ReceivableNotPending) as err:
        scf.receivables.reject(parties.s1, r.token_id)
    assert (err.value.slot, err.value.state) == (r.slot, ReceivableState.ACTIVE)
    assert scf.receivables.balance_of(r.token_id) == r.face_value


def test_accept_of_a_split_off_fragment_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    new = scf.receivables.split(parties.s1, r.token_id, parties.s2.address, 1_00).new_token_ids[0]
    with pytest.raises(ReceivableNotPending) as err:
        scf.receivables.accept(parties.s2, new)
    assert (err.value.slot, err.value.state) == (r.slot, ReceivableState.ACTIVE)


def test_cancel_after_acceptance_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    with pytest.raises(ReceivableNotPending) as err:
        scf.receivables.cancel(parties.core, r.slot)
    assert (err.value.slot, err.value.state) == (r.slot, ReceivableState.ACTIVE)
    assert scf.receivables.owner_of(r.token_id) == parties.s1.address


def test_cancel_of_a_rejected_receivable_is_refused(scf: ScfClient, parties: Parties) -> None:
    slot, token_id = issue_pending(scf, parties)
    scf.receivables.reject(parties.s1, token_id)
    with pytest.raises(ReceivableNotPending) as err:
        scf.receivables.cancel(parties.core, slot)
    assert (err.value.slot, err.value.state) == (slot, ReceivableState.REJECTED)


def test_cancel_by_someone_other_than_the_debtor_is_refused(scf: ScfClient, parties: Parties) -> None:
    slot, token_id = issue_pending(scf, parties)
    with pytest.raises(NotDebtor) as err:
        scf.receivables.cancel(parties.core2, slot)
    assert (err.value.slot, err.value.caller, err.value.debtor) == (slot, parties.core2.address, parties.core.address)
    assert scf.receivables.owner_of(token_id) == parties.s1.address


def test_cancel_of_an_unknown_receivable_is_refused(scf: ScfClient, parties: Parties) -> None:
    slot = slot_of_document(parties.core.address, doc_hash())
    with pytest.raises(NonexistentReceivable) as err:
        scf.receivables.cancel(parties.core, slot)
    assert err.value.slot == slot


# ------------------------------------------------------------------------------------------ nonexistent, ERC-721


def test_reads_of_a_nonexistent_token_are_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    missing = token_id_of(r.slot, 2)
    for read in (scf.receivables.owner_of, scf.receivables.balance_of, scf.receivables.fragment):
        with pytest.raises(NonexistentToken) as err:
            read(missing)
        assert err.value.token_id == missing
    with pytest.raises(NonexistentToken) as err:
        scf.receivables.parent_of(missing)
    assert err.value.token_id == missing


def test_split_of_a_nonexistent_token_is_refused(scf: ScfClient, parties: Parties) -> None:
    missing = token_id_of(slot_of_document(parties.core.address, doc_hash()), 1)
    with pytest.raises(NonexistentToken) as err:
        scf.receivables.split(parties.s1, missing, parties.s2.address, 1_00)
    assert err.value.token_id == missing


def test_batch_split_of_a_nonexistent_token_is_refused_as_nonexistent(scf: ScfClient, parties: Parties) -> None:
    missing = token_id_of(slot_of_document(parties.core.address, doc_hash()), 1)
    with pytest.raises(NonexistentToken) as err:
        scf.receivables.split_batch(parties.s1, missing, [(parties.s2.address, 1_00)])
    assert err.value.token_id == missing


def test_fragment_count_of_the_zero_address_is_refused(scf: ScfClient) -> None:
    with pytest.raises(ERC721InvalidOwner) as err:
        scf.receivables.fragment_count("0x" + "00" * 20)
    assert int(err.value.owner, 16) == 0


def test_read_of_an_unknown_receivable_is_refused(scf: ScfClient) -> None:
    slot = slot_of_document("0x" + "11" * 20, doc_hash())
    with pytest.raises(NonexistentReceivable) as err:
        scf.receivables.receivable(slot)
    assert err.value.slot == slot


def test_erc721_transfer_naming_the_wrong_owner_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    with pytest.raises(IncorrectOwner) as err:
        scf.receivables.transfer(parties.s1, parties.s3.address, r.token_id, from_=parties.s2.address)
    assert err.value.token_id == r.token_id
    assert (err.value.from_, err.value.owner) == (parties.s2.address, parties.s1.address)
    assert scf.receivables.owner_of(r.token_id) == parties.s1.address


def test_erc721_transfer_by_a_stranger_is_refused(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    with pytest.raises(NotOwnerNorApproved) as err:
        scf.receivables.transfer(parties.s2, parties.s2.address, r.token_id, from_=parties.s1.address)
    assert (err.value.token_id, err.value.caller) == (r.token_id, parties.s2.address)


def test_value_allowance_does_not_allow_a_whole_transfer(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.receivables.approve_value(parties.s1, r.token_id, parties.s2.address, r.face_value)
    with pytest.raises(NotOwnerNorApproved) as err:
        scf.receivables.transfer(parties.s2, parties.s2.address, r.token_id, from_=parties.s1.address)
    assert (err.value.token_id, err.value.caller) == (r.token_id, parties.s2.address)


# ------------------------------------------------------------------------------------------ tenor cap


def test_set_max_tenor_by_a_non_operator_is_refused(scf: ScfClient, parties: Parties) -> None:
    with pytest.raises(WrongRole) as err:
        scf.receivables.set_max_tenor(parties.core, 30 * DAY)
    assert (err.value.account, err.value.role, err.value.required) == (
        parties.core.address,
        Role.CORE_ENTERPRISE,
        Role.OPERATOR,
    )
    assert scf.receivables.max_tenor() == DEFAULT_TENOR_CAP


@pytest.mark.parametrize("seconds", [0, MAX_TENOR_CAP + 1])
def test_set_max_tenor_out_of_range_is_refused(scf: ScfClient, parties: Parties, seconds: int) -> None:
    with pytest.raises(TenorCapOutOfRange) as err:
        scf.receivables.set_max_tenor(parties.operator, seconds)
    assert (err.value.seconds, err.value.max) == (seconds, MAX_TENOR_CAP)
    assert scf.receivables.max_tenor() == DEFAULT_TENOR_CAP


def test_a_lowered_tenor_cap_refuses_longer_maturities(scf: ScfClient, parties: Parties) -> None:
    scf.receivables.set_max_tenor(parties.operator, 30 * DAY)
    assert scf.receivables.max_tenor() == 30 * DAY
    maturity = now(scf.w3) + 60 * DAY
    with pytest.raises(TenorExceedsCap) as err:
        scf.receivables.issue(parties.core, parties.s1.address, 1_00, maturity, doc_hash())
    assert err.value.maturity == maturity
    assert 0 < maturity - err.value.latest_allowed <= 30 * DAY
