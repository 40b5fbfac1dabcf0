"""A stopgap for reading events on a long embedded chain.

eth-tester (0.14) finds a transaction's receipt by walking back block by block from the head, and its
eth_getLogs asks for the receipt of every transaction in the range: reading the logs of the last 1,600 blocks of
a 3,700-block chain took five minutes. Inside `quick_receipts(w3)`, receipts are found through a hash -> block
map built in one pass instead, so the same eth_getLogs (the run's ledger, the event index's sync and its
reconciliation alike) takes seconds. The chain and its answers are unchanged; on a node it does nothing.

Its proper home is the embedded backend made in `chain_client/chain.py`; until then it is scoped to the
scenario's reading of its own events and undone on exit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from web3 import Web3

from chain_client.chain import is_embedded, tester_of


@contextmanager
def quick_receipts(w3: Web3) -> Iterator[None]:
    if not is_embedded(w3):
        yield
        return
    try:
        from eth_tester.backends.pyevm.serializers import serialize_transaction_receipt
    except ImportError:  # another eth-tester: read slowly rather than not at all
        yield
        return
    backend: Any = tester_of(w3).backend
    if "get_transaction_receipt" in vars(backend):  # someone else's override: leave it alone
        yield
        return
    chain = backend.chain
    where: dict[bytes, tuple[int, int]] = {}
    scanned = -1

    def locate(transaction_hash: bytes) -> tuple[int, int] | None:
        nonlocal scanned
        if transaction_hash not in where:
            head = chain.get_canonical_head().block_number
            for number in range(scanned + 1, head + 1):
                for index, tx in enumerate(chain.get_canonical_block_by_number(number).transactions):
                    where[tx.hash] = (number, index)
            scanned = head
        return where.get(transaction_hash)

    original = backend.get_transaction_receipt

    def get_transaction_receipt(transaction_hash: bytes) -> Any:
        found = locate(transaction_hash)
        if found is None:
            return original(transaction_hash)  # pending, or unknown: eth-tester's own answer
        number, index = found
        block = chain.get_canonical_block_by_number(number)
        receipts = block.get_receipts(chain.chaindb)
        pending = block.number == chain.get_block().number
        return serialize_transaction_receipt(block, receipts, block.transactions[index], index, pending, chain.get_vm())

    backend.get_transaction_receipt = get_transaction_receipt
    try:
        yield
    finally:
        del backend.get_transaction_receipt
