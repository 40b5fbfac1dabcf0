"""The embedded chain: eth-tester on py-evm, in this process (`connect()` with no URL makes one).

One change to eth-tester (0.14): it finds a transaction's receipt by walking back block by block from the head,
and its eth_getLogs asks for the receipt of every transaction in the range, so reading the logs of the last 1,600
blocks of a 3,700-block chain took five minutes. `Backend` finds receipts through a hash -> (block, index) map
filled in one pass instead: the same eth_getLogs (a scenario's ledger, the event index's sync and reconciliation)
takes seconds. The chain and its answers are unchanged. It overrides eth-tester methods that are not a published
interface; tests/test_chain_embedded.py checks their signatures and that every receipt equals eth-tester's own.
"""

from __future__ import annotations

import threading
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.backends.pyevm.serializers import serialize_transaction_receipt
from web3.middleware import Web3Middleware
from web3.types import RPCEndpoint, RPCResponse

# Keys of the embedded chain's genesis accounts, each funded with 1,000,000 ETH for gas.
EMBEDDED_ACCOUNTS = 10
# The embedded chain's block gas limit: a permissioned chain typically sets its own; 30M is Ethereum's.
EMBEDDED_BLOCK_GAS_LIMIT = 30_000_000


class Backend(PyEVMBackend):  # type: ignore[misc]  # eth-tester has no type information
    """py-evm, with receipts found by hash in one step."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._where: dict[bytes, tuple[int, int]] = {}  # transaction hash -> (block number, index in the block)
        self._scanned = -1  # the last block whose transactions are in `_where`
        super().__init__(*args, **kwargs)

    def get_transaction_receipt(self, transaction_hash: bytes) -> Any:
        found = self._locate(transaction_hash)
        if found is None:  # pending (automining off), or unknown: eth-tester's own answer, or its error
            return super().get_transaction_receipt(transaction_hash)
        block, index = found
        pending = block.number == self.chain.get_block().number
        receipts = block.get_receipts(self.chain.chaindb)
        return serialize_transaction_receipt(
            block, receipts, block.transactions[index], index, pending, self.chain.get_vm()
        )

    def _locate(self, transaction_hash: bytes) -> tuple[Any, int] | None:
        chain = self.chain
        if transaction_hash not in self._where:
            head = chain.get_canonical_head().block_number
            for number in range(self._scanned + 1, head + 1):
                for index, tx in enumerate(chain.get_canonical_block_by_number(number).transactions):
                    self._where[tx.hash] = (number, index)
            self._scanned = max(self._scanned, head)
        if transaction_hash not in self._where:
            return None
        number, index = self._where[transaction_hash]
        if number > chain.get_canonical_head().block_number:
            return None
        block = chain.get_canonical_block_by_number(number)
        transactions = block.transactions
        # A block the map no longer describes (the chain was reverted under it some other way): ask eth-tester.
        if index >= len(transactions) or transactions[index].hash != transaction_hash:
            return None
        return block, index

    def _forget_after(self, number: int) -> None:
        """Blocks above `number` are gone: drop what the map knew of them; they are scanned again when mined."""
        self._where = {h: at for h, at in self._where.items() if at[0] <= number}
        self._scanned = min(self._scanned, number)

    def revert_to_snapshot(self, snapshot: Any) -> None:
        super().revert_to_snapshot(snapshot)
        self._forget_after(self.chain.get_canonical_head().block_number)

    def reset_to_genesis(self, *args: Any, **kwargs: Any) -> None:
        super().reset_to_genesis(*args, **kwargs)
        self._forget_after(0)


def new_tester() -> tuple[EthereumTester, list[LocalAccount]]:
    """A new embedded chain and the keys of its funded genesis accounts."""
    backend = Backend(
        genesis_parameters=PyEVMBackend.generate_genesis_params(overrides={"gas_limit": EMBEDDED_BLOCK_GAS_LIMIT})
    )
    return EthereumTester(backend), [Account.from_key(k) for k in backend.account_keys[:EMBEDDED_ACCOUNTS]]


def serialised(lock: threading.RLock) -> type[Web3Middleware]:
    """A middleware that makes every request to the embedded chain hold `lock`.

    eth-tester (py-evm in this process) is not made for concurrent callers: two threads mining at once can corrupt
    its state, and the lender API runs its routes in a thread pool. A node serialises on its own, so only the
    embedded chain has it."""

    class Serialised(Web3Middleware):
        def wrap_make_request(self, make_request: Any) -> Any:
            def locked(method: RPCEndpoint, params: Any) -> RPCResponse:
                with lock:
                    return make_request(method, params)  # type: ignore[no-any-return]

            return locked

    return Serialised
