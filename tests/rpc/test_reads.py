"""Reads in JSON-RPC batches (`call_many`, and `read_many`, what `reconcile` reads with) give what reads one at
a time give, a revert included (a fragment that does not exist: its decoded error, returned), on hardhat and on
anvil; batches of `BATCH` and a last short one."""

from __future__ import annotations

import os

import pytest

from chain_client import reads
from chain_client.chain import chain_of
from chain_client.contract_errors import NonexistentToken
from chain_client.devchain import now
from chain_client.ids import token_id_of
from chain_client.membership import Role
from tests.rpc.conftest import World

pytestmark = pytest.mark.rpc


def test_reads_in_batches_equal_reads_one_at_a_time_a_revert_included(
    node_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = World(node_url)
    rt = w.scf.receivables
    issued = rt.issue(w.core, w.s1.address, 800_00, now(w.w3) + 20 * 86400, os.urandom(32))
    rt.accept(w.s1, issued.token_id)
    rt.transfer_value(w.s1, issued.token_id, w.s2.address, 300_00)
    block = w.w3.eth.block_number
    rt.transfer_value(w.s1, issued.token_id, w.s3.address, 100_00)  # after `block`: not seen there
    token, membership = rt.contract, w.scf.membership.contract
    fragments = [token.functions.fragment(token_id_of(issued.slot, s)) for s in (1, 2, 3)]
    others = [token.functions.balanceOf(a.address) for a in (w.s1, w.s2, w.s3)]
    others += [membership.functions.roleOf(w.s1.address), membership.functions.isActive(w.financier.address)]
    assert chain_of(w.w3).sender.pipelines  # a node over HTTP: the reads go in batches

    monkeypatch.setattr(reads, "BATCH", 3)  # three batches
    monkeypatch.setattr(reads, "_one", lambda fn, block: pytest.fail(f"{fn.fn_name} read on its own"))
    answers = reads.call_many(w.w3, [*fragments, *others], block=block)

    one_by_one = [fn.call(block_identifier=block) for fn in [*fragments[:2], *others]]
    assert answers[:2] + answers[3:] == one_by_one
    assert answers[1] == one_by_one[1]
    assert list(one_by_one[1]) == [w.s2.address, 300_00, issued.slot, issued.token_id, False]
    assert isinstance(answers[2], NonexistentToken)
    assert answers[2].token_id == token_id_of(issued.slot, 3)
    assert answers[3:] == [1, 1, 0, Role.SUPPLIER, True]

    # The same reads without web3 contract functions (eth_abi directly): the same answers, the revert included.
    ids = [(token_id_of(issued.slot, s),) for s in (1, 2, 3)]
    holders = [(a.address,) for a in (w.s1, w.s2, w.s3)]
    fast = reads.read_many(w.w3, reads.Reader(token, "fragment"), ids, block=block)
    fast += reads.read_many(w.w3, reads.Reader(token, "balanceOf(address)"), holders, block=block)
    fast += reads.read_many(w.w3, reads.Reader(membership, "roleOf"), [(w.s1.address,)], block=block)
    fast += reads.read_many(w.w3, reads.Reader(membership, "isActive"), [(w.financier.address,)], block=block)
    assert fast[:2] + fast[3:] == answers[:2] + answers[3:]
    second = fast[1]
    assert isinstance(second, tuple)  # one struct, as web3 gives it
    assert second[0] == w.s2.address  # checksummed, as web3 gives it
    assert isinstance(fast[2], NonexistentToken)
    assert fast[2].token_id == token_id_of(issued.slot, 3)
    with pytest.raises(ValueError, match="balanceOf: 2 functions of the ABI match; give its signature"):
        reads.Reader(token, "balanceOf")


def test_block_times_in_batches_are_the_blocks_timestamps(node_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    w = World(node_url)  # its set-up mines a few blocks
    head = w.w3.eth.block_number
    numbers = [head, 1, head - 1, 1]  # in any order, repeated
    monkeypatch.setattr(reads, "BATCH", 2)
    monkeypatch.setattr(w.w3.eth, "get_block", lambda n: pytest.fail(f"block {n} asked for on its own"))
    times = reads.block_times(w.w3, numbers)
    monkeypatch.undo()
    assert times == {n: w.w3.eth.get_block(n)["timestamp"] for n in (1, head - 1, head)}
