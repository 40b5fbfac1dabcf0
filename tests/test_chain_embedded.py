"""The embedded chain's fast receipt lookup (chain_client/embedded.py) against eth-tester's own.

`Backend` overrides eth-tester methods that are not a published interface: these tests fail when an eth-tester
upgrade changes them under it, before a wrong or missing receipt could."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from eth_tester import PyEVMBackend
from eth_tester.backends.pyevm import serializers
from eth_tester.exceptions import TransactionNotFound
from web3 import Web3

from chain_client.chain import Chain, accounts_of, chain_of, connect, is_embedded, revert_to, snapshot
from chain_client.chain import tester_of as embedded_tester
from chain_client.embedded import Backend


def parameters(fn: Any) -> list[str]:
    return list(inspect.signature(fn).parameters)


def test_the_eth_tester_internals_the_backend_relies_on_are_still_there() -> None:
    assert parameters(PyEVMBackend.get_transaction_receipt) == ["self", "transaction_hash"]
    assert parameters(PyEVMBackend.revert_to_snapshot) == ["self", "snapshot"]
    assert parameters(serializers.serialize_transaction_receipt) == [
        "block",
        "receipts",
        "transaction",
        "transaction_index",
        "is_pending",
        "vm",
    ]
    chain = Backend().chain
    for method in ("get_canonical_head", "get_canonical_block_by_number", "get_block", "get_vm"):
        assert callable(getattr(chain, method)), method
    assert hasattr(chain, "chaindb")


def send_some(w3: Any, wei: list[int]) -> list[bytes]:
    """One transfer per amount; the amounts make the transactions' hashes differ where the nonces do not."""
    sender, payee = accounts_of(w3)[:2]
    return [bytes(chain_of(w3).sender.send_value(sender, payee.address, v)["transactionHash"]) for v in wei]


def eth_testers_own(backend: Backend, transaction_hash: bytes) -> Any:
    return PyEVMBackend.get_transaction_receipt(backend, transaction_hash)


def found_fast(backend: Backend, hashes: list[bytes], monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The receipts of `hashes` through the map alone: falling back on eth-tester's search is an error."""
    expected = [eth_testers_own(backend, h) for h in hashes]
    with monkeypatch.context() as patch:
        patch.setattr(PyEVMBackend, "get_transaction_receipt", lambda *_: pytest.fail("not found through the map"))
        fast = [backend.get_transaction_receipt(h) for h in hashes]
    assert fast == expected
    return fast


def test_every_receipt_found_fast_equals_eth_testers_own_also_after_a_revert(monkeypatch: pytest.MonkeyPatch) -> None:
    w3 = connect()
    backend: Backend = embedded_tester(w3).backend
    assert isinstance(backend, Backend)
    kept = send_some(w3, [1, 2, 3])
    fork = snapshot(w3)
    lost = send_some(w3, [4, 5, 6])
    lost_blocks = {r["block_number"] for r in found_fast(backend, kept + lost, monkeypatch)[3:]}

    revert_to(w3, fork)
    for tx_hash in lost:  # gone with the reverted blocks: the same error as eth-tester's
        with pytest.raises(TransactionNotFound):
            eth_testers_own(backend, tx_hash)
        with pytest.raises(TransactionNotFound):
            backend.get_transaction_receipt(tx_hash)
    # The reverted blocks' numbers are mined again, with other transactions (same nonces, other
    # amounts): the map forgot the old ones.
    again = found_fast(backend, kept + send_some(w3, [7, 8, 9, 10]), monkeypatch)[3:]
    assert {r["block_number"] for r in again} >= lost_blocks


def test_a_web3_made_elsewhere_has_no_chain_and_is_not_embedded() -> None:
    w3 = Web3(Web3.HTTPProvider("http://127.0.0.1:9"))
    assert not is_embedded(w3)
    with pytest.raises(TypeError, match=r"not made by chain_client\.connect"):
        chain_of(w3)
    wrapped = Chain(Web3.HTTPProvider("http://127.0.0.1:9")).w3
    assert chain_of(wrapped).accounts == {}
    assert not is_embedded(wrapped)
