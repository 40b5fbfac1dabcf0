"""A member contract that re-enters ReceivableToken from its receiver hooks gains nothing, and a receiver that
refuses is respected."""

from __future__ import annotations

import pytest
from web3.contract import Contract

from chain_client import Role, ScfClient
from chain_client.artifacts import load_artifact
from chain_client.contract_errors import ERC721InvalidReceiver
from chain_client.deploy import deploy_contract
from tests.conftest import Issued, Parties, issue_active


@pytest.fixture
def hostile(scf: ScfClient, parties: Parties) -> Contract:
    """A HostileReceiver admitted as a supplier (deployed inside the test's snapshot)."""
    contract = deploy_contract(scf.w3, parties.operator, "HostileReceiver", scf.receivables.address)
    scf.membership.admit(parties.operator, contract.address, Role.SUPPLIER)
    return contract


def holdings(scf: ScfClient, slot: int, owner: str) -> int:
    return sum(f.value for f in scf.receivables.fragments_of(slot) if f.owner == owner)


def assert_value_conserved(scf: ScfClient, r: Issued) -> None:
    assert sum(f.value for f in scf.receivables.fragments_of(r.slot)) == r.face_value


def reentries(contract: Contract) -> tuple[int, int]:
    fns = contract.functions
    return int(fns.reentries().call()), int(fns.reentriesSucceeded().call())


def reject_all(scf: ScfClient, parties: Parties, contract: Contract) -> None:
    scf.tx.transact(parties.operator, contract.functions.setRejectAll(True), 100_000)


def test_split_to_a_re_entering_receiver_moves_only_the_value_sent(
    scf: ScfClient, parties: Parties, hostile: Contract
) -> None:
    r = issue_active(scf, parties, 1_000_00)
    scf.receivables.transfer_value(parties.s1, r.token_id, hostile.address, 100_00, gas=1_000_000)
    assert scf.receivables.balance_of(r.token_id) == 900_00  # the second pull from the source failed
    assert holdings(scf, r.slot, hostile.address) == 100_00
    assert_value_conserved(scf, r)
    tried, succeeded = reentries(hostile)
    assert tried > 0
    assert succeeded < 2 * tried  # the pulls from s1's fragment never succeed


def test_batch_split_to_a_re_entering_receiver_moves_only_the_value_sent(
    scf: ScfClient, parties: Parties, hostile: Contract
) -> None:
    r = issue_active(scf, parties, 1_000_00)
    payments = [(hostile.address, 100_00), (parties.s2.address, 50_00), (hostile.address, 200_00)]
    scf.receivables.split(parties.s1, r.token_id, payments, gas=2_000_000)
    assert scf.receivables.balance_of(r.token_id) == 650_00
    assert holdings(scf, r.slot, hostile.address) == 300_00
    assert holdings(scf, r.slot, parties.s2.address) == 50_00
    assert_value_conserved(scf, r)
    assert reentries(hostile)[0] > 0


def test_merge_into_a_re_entering_receivers_fragment_moves_only_the_value_sent(
    scf: ScfClient, parties: Parties, hostile: Contract
) -> None:
    r = issue_active(scf, parties, 1_000_00)
    # A plain ERC-721 transfer calls no hook, so the receiver holds a fragment without having re-entered yet.
    (theirs,) = scf.receivables.transfer_value(parties.s1, r.token_id, parties.s1.address, 10_00).new_token_ids
    scf.receivables.transfer(parties.s1, hostile.address, theirs)
    assert reentries(hostile) == (0, 0)
    fn = scf.receivables.contract.functions.transferFrom(r.token_id, theirs, 40_00)
    scf.tx.transact(parties.s1, fn, 1_000_000)
    assert scf.receivables.balance_of(r.token_id) == 950_00
    assert holdings(scf, r.slot, hostile.address) == 50_00
    assert_value_conserved(scf, r)
    assert reentries(hostile)[0] > 0


def test_safe_transfer_to_a_re_entering_receiver_that_hands_it_back(
    scf: ScfClient, parties: Parties, hostile: Contract
) -> None:
    r = issue_active(scf, parties, 1_000_00)
    fn = scf.receivables.contract.functions.safeTransferFrom(parties.s1.address, hostile.address, r.token_id)
    scf.tx.transact(parties.s1, fn, 1_000_000)
    assert reentries(hostile) == (1, 1)  # handing the token back is legitimate
    assert scf.receivables.owner_of(r.token_id) == parties.s1.address
    assert scf.receivables.fragment_count(parties.s1.address) == 1
    assert scf.receivables.fragment_count(hostile.address) == 0
    assert scf.receivables.balance_of(r.token_id) == r.face_value
    assert_value_conserved(scf, r)


def test_split_to_a_receiver_that_refuses_is_reverted(scf: ScfClient, parties: Parties, hostile: Contract) -> None:
    r = issue_active(scf, parties, 1_000_00)
    reject_all(scf, parties, hostile)
    with pytest.raises(ERC721InvalidReceiver) as err:
        scf.receivables.transfer_value(parties.s1, r.token_id, hostile.address, 100_00, gas=1_000_000)
    assert err.value.receiver == hostile.address
    assert scf.receivables.balance_of(r.token_id) == r.face_value
    assert scf.receivables.fragment_count(hostile.address) == 0


def test_batch_split_to_a_receiver_that_refuses_is_reverted(
    scf: ScfClient, parties: Parties, hostile: Contract
) -> None:
    r = issue_active(scf, parties, 1_000_00)
    reject_all(scf, parties, hostile)
    with pytest.raises(ERC721InvalidReceiver) as err:
        scf.receivables.split(
            parties.s1, r.token_id, [(parties.s2.address, 1_00), (hostile.address, 1_00)], gas=2_000_000
        )
    assert err.value.receiver == hostile.address
    assert scf.receivables.fragments_of(r.slot) == [scf.receivables.fragment(r.token_id)]


def test_safe_transfer_to_a_receiver_that_refuses_is_reverted(
    scf: ScfClient, parties: Parties, hostile: Contract
) -> None:
    r = issue_active(scf, parties, 1_000_00)
    reject_all(scf, parties, hostile)
    fn = scf.receivables.contract.functions.safeTransferFrom(parties.s1.address, hostile.address, r.token_id)
    with pytest.raises(ERC721InvalidReceiver) as err:
        scf.tx.transact(parties.s1, fn, 1_000_000)
    assert err.value.receiver == hostile.address
    assert scf.receivables.owner_of(r.token_id) == parties.s1.address


def test_plain_transfer_to_a_receiver_that_refuses_calls_no_hook(
    scf: ScfClient, parties: Parties, hostile: Contract
) -> None:
    r = issue_active(scf, parties, 1_000_00)
    reject_all(scf, parties, hostile)
    scf.receivables.transfer(parties.s1, hostile.address, r.token_id)
    assert scf.receivables.owner_of(r.token_id) == hostile.address


def test_a_refusing_receiver_has_one_error_name_whichever_hook_it_refused() -> None:
    """ERC-3525 and ERC-721 hooks refuse with the same error: the ABI declares one receiver error, not two."""
    abi = load_artifact("ReceivableToken")["abi"]
    receiver_errors = sorted(e["name"] for e in abi if e["type"] == "error" and "Receiver" in e["name"])
    assert receiver_errors == ["ERC721InvalidReceiver"]
