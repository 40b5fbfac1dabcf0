"""The token-id codec: chain_client/ids.py round-trips, refuses what does not fit, and agrees with the Solidity
one (contracts/types/TokenId.sol), both through a harness on any id and through ReceivableToken on minted ones."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3
from web3.contract import Contract

from chain_client import ScfClient
from chain_client.deploy import deploy_contract
from chain_client.ids import (
    MAX_SEQUENCE,
    MAX_SLOT,
    MAX_TOKEN_ID,
    SEQUENCE_BITS,
    sequence_of,
    slot_of,
    slot_of_document,
    token_id_of,
)
from tests.conftest import Parties, issue_active

slots = st.integers(0, MAX_SLOT)
sequences = st.integers(0, MAX_SEQUENCE)
token_ids = st.one_of(
    st.integers(0, MAX_TOKEN_ID),
    st.sampled_from([0, 1, MAX_SEQUENCE, MAX_SEQUENCE + 1, MAX_TOKEN_ID, MAX_TOKEN_ID - MAX_SEQUENCE]),
)
# Calls to the embedded chain: a few dozen examples each (the suite's profile, tests/conftest.py, sets no deadline).
ON_CHAIN = settings(max_examples=40)


# ---------------------------------------------------------------------------------------------- Python alone


@given(slots, sequences)
def test_an_id_gives_back_the_slot_and_sequence_it_was_made_of(slot: int, sequence: int) -> None:
    token_id = token_id_of(slot, sequence)
    assert 0 <= token_id <= MAX_TOKEN_ID
    assert (slot_of(token_id), sequence_of(token_id)) == (slot, sequence)


@given(token_ids)
def test_any_256_bit_number_is_exactly_one_slot_and_sequence(token_id: int) -> None:
    assert token_id_of(slot_of(token_id), sequence_of(token_id)) == token_id
    assert slot_of(token_id) <= MAX_SLOT
    assert sequence_of(token_id) <= MAX_SEQUENCE


@given(slots, sequences, sequences)
def test_fragments_of_one_receivable_sort_by_sequence_and_never_collide(slot: int, a: int, b: int) -> None:
    assert (token_id_of(slot, a) < token_id_of(slot, b)) == (a < b)
    assert (token_id_of(slot, a) == token_id_of(slot, b)) == (a == b)


@pytest.mark.parametrize(
    ("slot", "sequence"),
    [(0, MAX_SEQUENCE + 1), (1, 1 << 40), (MAX_SLOT + 1, 1), (1 << 255, 0), (-1, 1), (1, -1)],
)
def test_token_id_of_refuses_parts_too_wide_for_their_bits_instead_of_naming_another_fragment(
    slot: int, sequence: int
) -> None:
    with pytest.raises(ValueError, match=r"^(slot|sequence) "):
        token_id_of(slot, sequence)


def test_the_first_fragment_of_a_slot_is_the_slot_shifted_past_the_sequence_bits() -> None:
    assert SEQUENCE_BITS == 32
    assert token_id_of(0x5D3A, 1) == 0x5D3A_0000_0001
    assert token_id_of(MAX_SLOT, MAX_SEQUENCE) == MAX_TOKEN_ID


# ---------------------------------------------------------------------------------------------- against Solidity


@pytest.fixture(scope="module")
def harness(w3: Web3, parties: Parties) -> Contract:
    """contracts/test/TokenIdHarness.sol: the Solidity codec's functions, callable (deployed once, all pure)."""
    return deploy_contract(w3, parties.operator, "TokenIdHarness")


@ON_CHAIN
@given(token_id=token_ids, sequence=sequences)
def test_the_solidity_codec_takes_any_id_apart_as_python_does(harness: Contract, token_id: int, sequence: int) -> None:
    f = harness.functions
    assert f.slotOf(token_id).call() == slot_of(token_id)
    assert f.sequenceOf(token_id).call() == sequence_of(token_id)
    assert f.withSequence(token_id, sequence).call() == token_id_of(slot_of(token_id), sequence)


@ON_CHAIN
@given(slot=slots, sequence=sequences, document=st.binary(min_size=32, max_size=32))
def test_the_solidity_codec_builds_ids_and_slots_as_python_does(
    harness: Contract, slot: int, sequence: int, document: bytes
) -> None:
    assert harness.functions.make(slot, sequence).call() == token_id_of(slot, sequence)
    assert harness.functions.slotOfHash(document).call() == int.from_bytes(document, "big") >> SEQUENCE_BITS


@ON_CHAIN
@given(debtor=st.binary(min_size=20, max_size=20), document=st.binary(min_size=32, max_size=32))
def test_a_documents_slot_is_the_one_the_token_derives(scf: ScfClient, debtor: bytes, document: bytes) -> None:
    address = Web3.to_checksum_address(debtor)
    assert scf.receivables.contract.functions.slotFor(address, document).call() == slot_of_document(address, document)


@settings(max_examples=5)
@given(values=st.lists(st.integers(1, 1_000_00), min_size=1, max_size=6), batch=st.booleans())
def test_minted_fragments_carry_the_ids_python_expects(
    scf: ScfClient, parties: Parties, values: list[int], batch: bool
) -> None:
    """Issue, then split (one by one or in one batch); every id the token mints, and every slot and parent it
    reports, is what chain_client.ids computes."""
    r = issue_active(scf, parties, sum(values) + 1)
    assert r.token_id == token_id_of(r.slot, 1)
    recipients = [parties.s2, parties.s3, parties.s4]
    holders = [recipients[i % 3].address for i in range(len(values))]
    if batch:
        new_ids = list(
            scf.receivables.split(parties.s1, r.token_id, list(zip(holders, values, strict=True))).new_token_ids
        )
    else:
        new_ids = [
            token_id
            for h, v in zip(holders, values, strict=True)
            for token_id in scf.receivables.transfer_value(parties.s1, r.token_id, h, v).new_token_ids
        ]
    assert new_ids == [token_id_of(r.slot, 2 + i) for i in range(len(values))]
    t = scf.receivables.contract.functions
    for token_id in [r.token_id, *new_ids]:
        assert t.slotOf(token_id).call() == slot_of(token_id) == r.slot
        parent = t.parentOf(token_id).call()
        assert parent == (0 if sequence_of(token_id) == 1 else r.token_id)
        info = scf.receivables.fragment(token_id)
        assert info.slot == r.slot
    listed = t.fragmentsOf(r.slot, 1, 100).call()[0]
    assert [row[2] for row in listed] == [r.slot] * (len(values) + 1)
