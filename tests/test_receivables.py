"""ReceivableToken behaviour: interfaces, life cycle, the split tree, merges, whole transfers, approvals."""

from __future__ import annotations

import pytest
from web3.logs import DISCARD

from chain_client import ReceivableState, ScfClient
from chain_client.contract_errors import DocumentAlreadyIssued, NonexistentToken, NotOwnerNorApproved
from chain_client.devchain import advance_time, now
from chain_client.ids import slot_of_document, token_id_of
from tests.conftest import DAY, Parties, doc_hash, issue_active
from tests.refusals import assert_refused

ZERO_ADDRESS = "0x" + "00" * 20


# ------------------------------------------------------------------------------------------ interfaces


@pytest.mark.parametrize(
    ("interface_id", "supported"),
    [("0x01ffc9a7", True), ("0x80ac58cd", True), ("0xd5358140", True), ("0xffffffff", False)],
)
def test_supports_erc165_erc721_and_erc3525_interfaces(scf: ScfClient, interface_id: str, supported: bool) -> None:
    fn = scf.receivables.contract.functions.supportsInterface(bytes.fromhex(interface_id[2:]))
    assert fn.call() is supported


def test_values_have_two_decimals_and_the_cap_defaults_to_a_year(scf: ScfClient) -> None:
    assert scf.receivables.contract.functions.valueDecimals().call() == 2
    assert scf.receivables.max_tenor() == 365 * DAY


# ------------------------------------------------------------------------------------------ life cycle


def test_issue_derives_slot_and_first_token_id_from_the_document_hash(scf: ScfClient, parties: Parties) -> None:
    h = doc_hash()
    r = scf.receivables.issue(parties.core, parties.s1.address, 1_00, now(scf.w3) + DAY, h)
    assert r.slot == slot_of_document(parties.core.address, h)
    assert r.slot == scf.receivables.contract.functions.slotFor(parties.core.address, h).call()
    assert r.token_id == token_id_of(r.slot, 1)
    assert scf.receivables.slot_of(r.token_id) == r.slot
    assert scf.receivables.owner_of(r.token_id) == parties.s1.address
    assert scf.receivables.fragment_count(parties.s1.address) == 1


def test_receivable_record_round_trips_and_goes_pending_then_active(scf: ScfClient, parties: Parties) -> None:
    h = doc_hash()
    maturity = now(scf.w3) + 90 * DAY
    r = scf.receivables.issue(parties.core, parties.s1.address, 123_456_78, maturity, h)
    info = scf.receivables.receivable(r.slot)
    assert info.debtor == parties.core.address
    assert info.face_value == 123_456_78
    assert info.maturity == maturity
    assert info.document_hash == h
    assert info.state == ReceivableState.PENDING
    assert info.fragments_created == 1
    assert now(scf.w3) - 60 <= info.issued_at <= now(scf.w3)
    scf.receivables.accept(parties.s1, r.token_id)
    assert scf.receivables.receivable(r.slot).state == ReceivableState.ACTIVE


def test_active_receivable_reads_as_matured_from_its_maturity(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties, tenor=5 * DAY)
    advance_time(scf.w3, 5 * DAY - 100)
    assert scf.receivables.receivable(r.slot).state == ReceivableState.ACTIVE
    advance_time(scf.w3, 200)
    assert scf.receivables.receivable(r.slot).state == ReceivableState.MATURED
    assert scf.receivables.balance_of(r.token_id) == r.face_value


def test_pending_receivable_does_not_read_as_matured(scf: ScfClient, parties: Parties) -> None:
    r = scf.receivables.issue(parties.core, parties.s1.address, 1_00, now(scf.w3) + DAY, doc_hash())
    advance_time(scf.w3, 2 * DAY)
    assert scf.receivables.receivable(r.slot).state == ReceivableState.PENDING


def test_reject_burns_the_fragment_and_the_document_hash_stays_used(scf: ScfClient, parties: Parties) -> None:
    h = doc_hash()
    r = scf.receivables.issue(parties.core, parties.s1.address, 1_00, now(scf.w3) + DAY, h)
    scf.receivables.reject(parties.s1, r.token_id)
    assert_refused(scf, NonexistentToken, lambda: scf.receivables.owner_of(r.token_id), token_id=r.token_id)
    assert scf.receivables.receivable(r.slot).state == ReceivableState.REJECTED
    assert scf.receivables.fragment_count(parties.s1.address) == 0
    assert scf.receivables.fragments_of(r.slot) == []
    assert_refused(
        scf,
        DocumentAlreadyIssued,
        lambda: scf.receivables.issue(parties.core, parties.s1.address, 1_00, now(scf.w3) + DAY, h),
        document_hash=h,
        slot=r.slot,
    )


def test_cancel_burns_the_fragment_and_the_document_hash_stays_used(scf: ScfClient, parties: Parties) -> None:
    h = doc_hash()
    r = scf.receivables.issue(parties.core, parties.s1.address, 1_00, now(scf.w3) + DAY, h)
    scf.receivables.cancel(parties.core, r.slot)
    assert_refused(scf, NonexistentToken, lambda: scf.receivables.owner_of(r.token_id), token_id=r.token_id)
    assert scf.receivables.receivable(r.slot).state == ReceivableState.CANCELLED
    assert scf.receivables.fragment_count(parties.s1.address) == 0
    assert scf.receivables.parent_of(r.token_id) == 0  # the tree stays walkable after a burn
    assert_refused(  # the debtor confirms one set of documents once, ever
        scf,
        DocumentAlreadyIssued,
        lambda: scf.receivables.issue(parties.core, parties.s2.address, 1_00, now(scf.w3) + DAY, h),
        document_hash=h,
        slot=r.slot,
    )


# ------------------------------------------------------------------------------------------ the split tree


def test_three_tier_split_chain_records_each_parent(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties, 1_000_00)
    tier2 = scf.receivables.transfer_value(parties.s1, r.token_id, parties.s2.address, 600_00).new_token_ids
    tier3 = scf.receivables.transfer_value(parties.s2, tier2[0], parties.s3.address, 250_00).new_token_ids
    tier4 = scf.receivables.transfer_value(parties.s3, tier3[0], parties.s4.address, 100_00).new_token_ids
    assert (tier2, tier3, tier4) == ((token_id_of(r.slot, 2),), (token_id_of(r.slot, 3),), (token_id_of(r.slot, 4),))
    assert scf.receivables.parent_of(r.token_id) == 0
    assert scf.receivables.parent_of(tier2[0]) == r.token_id
    assert scf.receivables.parent_of(tier3[0]) == tier2[0]
    assert scf.receivables.parent_of(tier4[0]) == tier3[0]
    leaf = scf.receivables.fragment(tier4[0])
    assert (leaf.owner, leaf.value, leaf.slot, leaf.parent_id, leaf.frozen) == (
        parties.s4.address,
        100_00,
        r.slot,
        tier3[0],
        False,
    )
    assert scf.receivables.fragment(r.token_id).parent_id == 0
    assert [scf.receivables.balance_of(t) for t in (r.token_id, tier2[0], tier3[0], tier4[0])] == [
        400_00,
        350_00,
        150_00,
        100_00,
    ]
    assert scf.receivables.receivable(r.slot).fragments_created == 4


def test_batch_split_of_ten_creates_consecutive_fragments_and_a_memo_event(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties, 1_000_00)
    holders = [parties.s2, parties.s3, parties.s4]
    payments = [(holders[i % 3].address, (i + 1) * 1_00) for i in range(10)]
    memo = doc_hash()
    res = scf.receivables.split(parties.s1, r.token_id, payments, memo)
    assert res.new_token_ids == tuple(token_id_of(r.slot, 2 + i) for i in range(10))
    for token_id, (holder, value) in zip(res.new_token_ids, payments, strict=True):
        f = scf.receivables.fragment(token_id)
        assert (f.owner, f.value, f.parent_id) == (holder, value, r.token_id)
    assert scf.receivables.balance_of(r.token_id) == 1_000_00 - 55_00
    receipt = scf.w3.eth.get_transaction_receipt(res.tx_hash)  # type: ignore[arg-type]
    (event,) = scf.receivables.contract.events.FragmentsSplit().process_receipt(receipt, errors=DISCARD)
    assert event["args"]["fromTokenId"] == r.token_id
    assert event["args"]["firstTokenId"] == res.new_token_ids[0]
    assert event["args"]["count"] == 10
    assert bytes(event["args"]["memo"]) == memo


def test_merge_moves_value_between_fragments_of_one_receivable(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties, 1_000_00)
    (theirs,) = scf.receivables.transfer_value(parties.s1, r.token_id, parties.s2.address, 100_00).new_token_ids
    scf.receivables.merge(parties.s1, r.token_id, theirs, 150_00)
    assert scf.receivables.balance_of(r.token_id) == 750_00
    assert scf.receivables.balance_of(theirs) == 250_00
    assert scf.receivables.owner_of(theirs) == parties.s2.address
    scf.receivables.merge(parties.s2, theirs, r.token_id, 250_00)  # emptying a fragment keeps it alive
    assert scf.receivables.balance_of(theirs) == 0
    assert scf.receivables.balance_of(r.token_id) == 1_000_00


# ------------------------------------------------------------------------------------------ whole transfers


def test_whole_transfer_changes_owner_and_fragment_counts(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.receivables.transfer_value(parties.s1, r.token_id, parties.s1.address, 1_00)
    assert scf.receivables.fragment_count(parties.s1.address) == 2
    scf.receivables.transfer(parties.s1, parties.s2.address, r.token_id)
    assert scf.receivables.owner_of(r.token_id) == parties.s2.address
    assert scf.receivables.fragment_count(parties.s1.address) == 1
    assert scf.receivables.fragment_count(parties.s2.address) == 1
    assert scf.receivables.balance_of(r.token_id) == r.face_value - 1_00


def test_erc721_approved_account_can_transfer_the_fragment(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.receivables.approve(parties.s1, parties.s2.address, r.token_id)
    assert scf.receivables.get_approved(r.token_id) == parties.s2.address
    scf.receivables.transfer(parties.s2, parties.s3.address, r.token_id, from_=parties.s1.address)
    assert scf.receivables.owner_of(r.token_id) == parties.s3.address
    assert scf.receivables.get_approved(r.token_id) == ZERO_ADDRESS


def test_erc721_approved_account_can_also_split_value(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.receivables.approve(parties.s1, parties.s2.address, r.token_id)
    scf.receivables.transfer_value(parties.s2, r.token_id, parties.s3.address, 5_00)
    assert scf.receivables.balance_of(r.token_id) == r.face_value - 5_00
    assert scf.receivables.get_approved(r.token_id) == parties.s2.address


def test_whole_transfer_voids_every_approval_and_allowance(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.receivables.approve(parties.s1, parties.s2.address, r.token_id)
    scf.receivables.approve_value(parties.s1, r.token_id, parties.s3.address, 50_00)
    scf.receivables.transfer(parties.s1, parties.s4.address, r.token_id)
    assert scf.receivables.get_approved(r.token_id) == ZERO_ADDRESS
    assert scf.receivables.allowance(r.token_id, parties.s3.address) == 0
    assert_refused(
        scf,
        NotOwnerNorApproved,
        lambda: scf.receivables.transfer_value(parties.s3, r.token_id, parties.s3.address, 1_00),
        token_id=r.token_id,
        caller=parties.s3.address,
    )
    assert_refused(
        scf,
        NotOwnerNorApproved,
        lambda: scf.receivables.transfer(parties.s2, parties.s2.address, r.token_id, from_=parties.s4.address),
        token_id=r.token_id,
        caller=parties.s2.address,
    )
    # Handing it back does not revive the old owner's approvals.
    scf.receivables.transfer(parties.s4, parties.s1.address, r.token_id)
    assert scf.receivables.allowance(r.token_id, parties.s3.address) == 0
    assert scf.receivables.get_approved(r.token_id) == ZERO_ADDRESS


def test_new_owner_can_grant_fresh_allowances_after_a_transfer(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.receivables.approve_value(parties.s1, r.token_id, parties.s3.address, 50_00)
    scf.receivables.transfer(parties.s1, parties.s4.address, r.token_id)
    scf.receivables.approve_value(parties.s4, r.token_id, parties.s2.address, 20_00)
    assert scf.receivables.allowance(r.token_id, parties.s2.address) == 20_00
    assert scf.receivables.allowance(r.token_id, parties.s3.address) == 0


def test_operator_approved_for_all_can_split_and_transfer(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.receivables.set_approval_for_all(parties.s1, parties.s2.address, True)
    assert scf.receivables.contract.functions.isApprovedForAll(parties.s1.address, parties.s2.address).call()
    scf.receivables.transfer_value(parties.s2, r.token_id, parties.s3.address, 10_00)
    scf.receivables.split(parties.s2, r.token_id, [(parties.s4.address, 5_00)])
    assert scf.receivables.balance_of(r.token_id) == r.face_value - 15_00
    assert scf.receivables.allowance(r.token_id, parties.s2.address) == 0  # nothing spent, nothing granted
    scf.receivables.set_approval_for_all(parties.s1, parties.s2.address, False)
    assert_refused(
        scf,
        NotOwnerNorApproved,
        lambda: scf.receivables.transfer_value(parties.s2, r.token_id, parties.s3.address, 1_00),
        token_id=r.token_id,
        caller=parties.s2.address,
    )


def test_value_allowance_decreases_as_it_is_spent(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.receivables.approve_value(parties.s1, r.token_id, parties.s2.address, 100_00)
    scf.receivables.transfer_value(parties.s2, r.token_id, parties.s2.address, 30_00)
    assert scf.receivables.allowance(r.token_id, parties.s2.address) == 70_00
    (other,) = scf.receivables.transfer_value(parties.s1, r.token_id, parties.s3.address, 1_00).new_token_ids
    scf.receivables.merge(parties.s2, r.token_id, other, 20_00)
    assert scf.receivables.allowance(r.token_id, parties.s2.address) == 50_00
    scf.receivables.split(parties.s2, r.token_id, [(parties.s3.address, 10_00), (parties.s4.address, 15_00)])
    assert scf.receivables.allowance(r.token_id, parties.s2.address) == 25_00


def test_unlimited_value_allowance_is_not_decreased(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    unlimited = 2**256 - 1
    scf.receivables.approve_value(parties.s1, r.token_id, parties.s2.address, unlimited)
    scf.receivables.transfer_value(parties.s2, r.token_id, parties.s3.address, 30_00)
    assert scf.receivables.allowance(r.token_id, parties.s2.address) == unlimited


def test_freeze_is_visible_on_the_fragment(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties)
    scf.receivables.freeze(parties.operator, r.token_id, b"\x07" * 32)
    assert scf.receivables.is_frozen(r.token_id)
    assert scf.receivables.fragment(r.token_id).frozen


def test_fragment_values_always_add_up_to_the_face_value(scf: ScfClient, parties: Parties) -> None:
    p = parties
    r = issue_active(scf, p, 987_654_32)
    rx = scf.receivables
    (a,) = rx.transfer_value(p.s1, r.token_id, p.s2.address, 300_000_00).new_token_ids
    b, c, d = rx.split(p.s2, a, [(p.s3.address, 50_000_00), (p.s4.address, 25_000_01), (p.s2.address, 1)]).new_token_ids
    rx.merge(p.s3, b, r.token_id, 10_000_00)
    rx.transfer(p.s4, p.s3.address, c)
    rx.merge(p.s3, c, b, 25_000_01)
    rx.approve_value(p.s1, r.token_id, p.s4.address, 7_00)
    rx.transfer_value(p.s4, r.token_id, p.s4.address, 7_00)
    rx.merge(p.s2, d, a, 1)
    fragments = rx.fragments_of(r.slot)
    assert sum(f.value for f in fragments) == r.face_value
    assert len(fragments) == rx.receivable(r.slot).fragments_created == 6
    owners = {p.s1.address, p.s2.address, p.s3.address, p.s4.address}
    assert {f.owner for f in fragments} == owners
    assert sum(rx.fragment_count(o) for o in owners) == 6
