"""Every change of a fragment's owner goes through one path (ReceivableStorage._update): whichever way a fragment
ends — rejected, cancelled, redeemed or settled in full — it leaves the same state behind: only its parent link,
no approval, no record of partial payment, and one fragment fewer in its holder's count."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from chain_client import ScfClient
from chain_client.devchain import advance_time
from tests.conftest import DAY, Parties, doc_hash, issue_active

FRAGMENTS_SLOT, TOKEN_APPROVALS_SLOT, PAID_SLOT = 3, 5, 8  # ReceivableStorage's layout (the artifact's storageLayout)


def _word(scf: ScfClient, mapping_slot: int, key: int) -> int:
    slot = keccak(key.to_bytes(32, "big") + mapping_slot.to_bytes(32, "big"))
    word = scf.w3.eth.get_storage_at(to_checksum_address(scf.receivables.address), int.from_bytes(slot, "big"))
    return int.from_bytes(word, "big")


def _with_approvals(scf: ScfClient, p: Parties, token_id: int) -> None:
    scf.receivables.approve(p.s1, p.s2.address, token_id)
    scf.receivables.approve_value(p.s1, token_id, p.s3.address, 1_00)
    assert _word(scf, TOKEN_APPROVALS_SLOT, token_id) != 0


def _rejected(scf: ScfClient, p: Parties) -> int:
    r = scf.receivables.issue(
        p.core, p.s1.address, 1_000_00, scf.w3.eth.get_block("latest")["timestamp"] + DAY, doc_hash()
    )
    _with_approvals(scf, p, r.token_id)
    scf.receivables.reject(p.s1, r.token_id)
    return r.token_id


def _cancelled(scf: ScfClient, p: Parties) -> int:
    r = scf.receivables.issue(
        p.core, p.s1.address, 1_000_00, scf.w3.eth.get_block("latest")["timestamp"] + DAY, doc_hash()
    )
    _with_approvals(scf, p, r.token_id)
    scf.receivables.cancel(p.core, r.slot)
    return r.token_id


def _paid_in_full(pay: Callable[[ScfClient, Parties, int, int], object]) -> Callable[[ScfClient, Parties], int]:
    """A fragment paid in part (so it records what it got), approved, then paid the rest and burned."""

    def run(scf: ScfClient, p: Parties) -> int:
        r = issue_active(scf, p, 1_000_00, tenor=DAY)
        scf.cash.mint(p.operator, p.core.address, r.face_value)
        scf.cash.approve(p.core, scf.receivables.address, r.face_value)
        scf.receivables.repay(p.core, r.slot, 400_00)
        advance_time(scf.w3, DAY + 1)
        pay(scf, p, r.slot, r.token_id)
        assert _word(scf, PAID_SLOT, r.token_id) == 400_00
        _with_approvals(scf, p, r.token_id)
        scf.receivables.repay(p.core, r.slot, 600_00)
        pay(scf, p, r.slot, r.token_id)
        return r.token_id

    return run


def _redeem(scf: ScfClient, p: Parties, slot: int, token_id: int) -> object:
    return scf.receivables.redeem(p.s1, token_id)


def _settle(scf: ScfClient, p: Parties, slot: int, token_id: int) -> object:
    return scf.receivables.settle(p.s4, slot, [token_id])


@pytest.mark.parametrize(
    "burn",
    [_rejected, _cancelled, _paid_in_full(_redeem), _paid_in_full(_settle)],
    ids=["reject", "cancel", "redeem", "settle"],
)
def test_every_burn_leaves_only_the_parent_link(
    scf: ScfClient, parties: Parties, burn: Callable[[ScfClient, Parties], int]
) -> None:
    count = scf.receivables.fragment_count(parties.s1.address)
    token_id = burn(scf, parties)
    assert _word(scf, FRAGMENTS_SLOT, token_id) == 0  # sequence 1: no parent, and owner, value, flags all zero
    assert _word(scf, TOKEN_APPROVALS_SLOT, token_id) == 0
    assert _word(scf, PAID_SLOT, token_id) == 0
    assert scf.receivables.fragment_count(parties.s1.address) == count
