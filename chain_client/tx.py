"""Sending transactions: local signing, nonces, a known gas limit, and one place that turns a revert into
the matching named exception."""

from __future__ import annotations

import ast
import threading
import time
from dataclasses import dataclass
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from eth_tester.exceptions import TransactionFailed as EthTesterTransactionFailed
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    ContractPanicError,
    TransactionIndexingInProgress,
    TransactionNotFound,
    Web3RPCError,
)
from web3.types import TxParams, TxReceipt

from chain_client.exceptions import ChainError, ContractError, TransactionFailed
from chain_client.reverts import decode_revert

_ONE_GWEI = 10**9
# What a node says when a nonce was already used (by this transaction after a lost response, or by another).
# ("nonce too high" is hardhat's refusal to queue a transaction while automining.)
_NONCE_MESSAGES = (
    "nonce too low",
    "nonce too high",
    "already known",
    "known transaction",
    "replacement transaction underpriced",
)


@dataclass(frozen=True)
class TxResult:
    """What every state-changing call returns (operations add their own fields)."""

    tx_hash: str
    block_number: int
    gas_used: int


class ReceiptTimeout(TransactionFailed):
    """A sent transaction got no receipt within the timeout. It may still be mined: look it up by `tx_hash`."""

    def __init__(self, tx_hash: str, timeout: float) -> None:
        self.tx_hash = tx_hash
        self.timeout = timeout
        super().__init__(f"no receipt for transaction {tx_hash} within {timeout:g} s; it may still be mined")


class _StaleNonce(ChainError):
    """The node refused the nonce and does not have our transaction: sign again with a fresh nonce."""


class _Nonces:
    """Next nonce per sender, kept locally so sends need no round trip; safe across threads.

    `sending(address)` is held from taking a nonce until the node has the transaction, so one account's
    transactions reach the node in nonce order (hardhat refuses a gap while automining; any node would stall
    on one). Waiting for receipts happens outside it, in parallel."""

    def __init__(self, w3: Web3) -> None:
        self._w3 = w3
        self._next: dict[str, int] = {}
        self._lock = threading.Lock()
        self._sending: dict[str, threading.Lock] = {}

    def sending(self, address: str) -> threading.Lock:
        with self._lock:
            return self._sending.setdefault(address, threading.Lock())

    def take(self, address: str) -> int:
        with self._lock:
            if address not in self._next:
                self._next[address] = self._w3.eth.get_transaction_count(cast(Any, address), "pending")
            nonce = self._next[address]
            self._next[address] = nonce + 1
            return nonce

    def forget(self, address: str | None = None) -> None:
        """Re-read from the chain next time (after a failed send, or after a snapshot revert)."""
        with self._lock:
            if address is None:
                self._next.clear()
            else:
                self._next.pop(address, None)


class Transactor:
    """Signs and sends transactions for local accounts. One per chain (`Chain.sender`), so nonces are shared."""

    def __init__(
        self,
        w3: Web3,
        *,
        receipt_timeout: float = 120.0,
        send_retries: int = 5,
        retry_backoff: float = 0.2,
        poll_interval: float = 0.5,
    ) -> None:
        self.w3 = w3
        self.receipt_timeout = receipt_timeout
        # A send that hits a connection error is retried this many times (same signed bytes, so never twice).
        self.send_retries = send_retries
        self.retry_backoff = retry_backoff
        # Longest pause between receipt polls (polling starts fast: local nodes mine at once).
        self.poll_interval = poll_interval
        self.nonces = _Nonces(w3)
        self.chain_id = w3.eth.chain_id
        latest = w3.eth.get_block("latest")
        base_fee = int(latest.get("baseFeePerGas", 0) or 0)
        # Fee cap fixed once: base fees on a quiet permissioned chain only fall; a free-gas chain has 0.
        self.tip = _ONE_GWEI if base_fee else 0
        self.max_fee = 4 * base_fee + self.tip
        self.block_gas_limit = int(latest["gasLimit"])

    # ------------------------------------------------------------------ sending

    def transact(self, sender: LocalAccount, fn: ContractFunction | ContractConstructor, gas: int) -> TxReceipt:
        """Send `fn` from `sender` with gas limit `gas`; raise the contract's named error if it reverts."""
        gas = min(gas, self.block_gas_limit)
        if isinstance(fn, ContractConstructor):
            tx: dict[str, Any] = {"data": fn.data_in_transaction}
        else:
            tx = {"to": fn.address, "data": fn._encode_transaction_data()}
        return self._send(sender, tx, gas)

    def send_value(self, sender: LocalAccount, to: str, wei: int) -> TxReceipt:
        return self._send(sender, {"to": to, "value": wei}, 21_000)

    def _send(self, sender: LocalAccount, tx: dict[str, Any], gas: int) -> TxReceipt:
        tx = {
            **tx,
            "from": sender.address,
            "gas": gas,
            "chainId": self.chain_id,
            "maxFeePerGas": self.max_fee,
            "maxPriorityFeePerGas": self.tip,
        }
        tx.setdefault("value", 0)
        with self.nonces.sending(sender.address):
            tx_hash = self._sign_and_submit(sender, tx)
        receipt = self._wait_for_receipt(tx_hash)
        if receipt["status"] != 1:
            raise self._explain_failure(tx, receipt)
        return receipt

    def _sign_and_submit(self, sender: LocalAccount, tx: dict[str, Any]) -> HexBytes:
        for _ in range(3):
            tx["nonce"] = self.nonces.take(sender.address)
            signed = sender.sign_transaction(tx)
            tx_hash = HexBytes(signed.hash)
            try:
                self._submit(bytes(signed.raw_transaction), tx_hash)
                return tx_hash
            except _StaleNonce:
                self.nonces.forget(sender.address)  # something else used it: re-read and sign again
            except Exception as exc:
                # Some nodes (eth-tester, hardhat) refuse a reverting transaction at submission; whether or not
                # the nonce was used, re-read it from the chain next time.
                self.nonces.forget(sender.address)
                data = _revert_data(exc)
                if data is not None:
                    raise decode_revert(data) from None
                if isinstance(exc, TransactionFailed):
                    raise
                raise TransactionFailed(f"could not send transaction from {sender.address}: {exc}") from exc
        raise TransactionFailed(f"the node kept refusing the nonces of {sender.address}")

    def _submit(self, raw: bytes, tx_hash: HexBytes) -> None:
        """Hand `raw` to the node. After a connection error the node may or may not have it: ask by hash, and
        if it does not, send the same signed bytes again (same nonce, so it can never execute twice)."""
        for attempt in range(self.send_retries + 1):
            try:
                self.w3.eth.send_raw_transaction(raw)
                return
            except Exception as exc:
                if is_connection_error(exc):
                    if self._node_has(tx_hash):
                        return
                    if attempt == self.send_retries:
                        raise TransactionFailed(
                            f"could not reach the node to send transaction {tx_hash.to_0x_hex()} "
                            f"({self.send_retries + 1} attempts): {exc}"
                        ) from exc
                    time.sleep(self.retry_backoff * 2**attempt)
                    continue
                if _is_nonce_refusal(exc):
                    if self._node_has(tx_hash):  # our own earlier attempt got through; its response was lost
                        return
                    raise _StaleNonce from exc
                raise

    def _node_has(self, tx_hash: HexBytes) -> bool:
        try:
            self.w3.eth.get_transaction(tx_hash)
        except TransactionNotFound:
            return False
        except Exception as exc:
            if is_connection_error(exc):
                return False  # unknown: the caller resends the same bytes, which is harmless
            raise
        return True

    def _wait_for_receipt(self, tx_hash: HexBytes) -> TxReceipt:
        """Poll for the receipt until `receipt_timeout`, riding out connection errors; `ReceiptTimeout` after."""
        deadline = time.monotonic() + self.receipt_timeout
        pause = 0.01
        while True:
            try:
                return self.w3.eth.get_transaction_receipt(tx_hash)
            except (TransactionNotFound, TransactionIndexingInProgress):
                pass
            except Exception as exc:
                if not is_connection_error(exc):
                    raise
            left = deadline - time.monotonic()
            if left <= 0:
                raise ReceiptTimeout(tx_hash.to_0x_hex(), self.receipt_timeout)
            time.sleep(min(pause, left))
            pause = min(pause * 2, self.poll_interval)

    def _explain_failure(self, tx: dict[str, Any], receipt: TxReceipt) -> ChainErrorLike:
        """Replay a mined, reverted transaction on the state before its block to recover the revert data."""
        call = {k: tx[k] for k in ("from", "to", "data", "value") if k in tx}
        tx_hash = HexBytes(receipt["transactionHash"]).to_0x_hex()
        try:
            self.w3.eth.call(cast(TxParams, call), block_identifier=receipt["blockNumber"] - 1)
        except Exception as exc:
            data = _revert_data(exc)
            if data is None:
                raise
            return decode_revert(data, tx_hash)
        if receipt["gasUsed"] >= tx["gas"]:
            return TransactionFailed(f"transaction {tx_hash} ran out of gas (limit {tx['gas']})")
        return TransactionFailed(f"transaction {tx_hash} reverted; replaying it did not reproduce the revert")

    # ------------------------------------------------------------------ reading

    def call(self, fn: ContractFunction) -> Any:
        """A read; a revert becomes the contract's named error."""
        try:
            return fn.call()
        except Exception as exc:
            data = _revert_data(exc)
            if data is None:
                raise
            raise decode_revert(data) from None


ChainErrorLike = ContractError | TransactionFailed


def is_connection_error(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) is a transport failure: refused, reset, timed out. requests' errors
    are OSErrors too."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _is_nonce_refusal(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(m in text for m in _NONCE_MESSAGES)


def _rpc_revert_data(exc: Web3RPCError) -> bytes | None:
    """Revert data in a JSON-RPC error, as hardhat returns it for a transaction that reverted when mined."""
    error = (exc.rpc_response or {}).get("error")
    if not isinstance(error, dict):
        return None
    data: Any = error.get("data")
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    return None


def _revert_data(exc: BaseException) -> bytes | None:
    """The raw revert data inside whatever exception the provider raised, or None if it is not a revert."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, Web3RPCError) and not isinstance(seen, TransactionNotFound):
            rpc_data = _rpc_revert_data(seen)
            if rpc_data is not None:
                return rpc_data
        if isinstance(seen, ContractCustomError | ContractLogicError | ContractPanicError):
            data = seen.data
            if isinstance(data, dict):  # some nodes nest it
                data = data.get("data")
            if isinstance(data, str) and data.startswith("0x"):
                return bytes.fromhex(data[2:])
            return b""  # a revert without data (e.g. a bare `revert()`)
        if isinstance(seen, EthTesterTransactionFailed):
            arg = seen.args[0] if seen.args else None
            if isinstance(arg, bytes):
                return arg
            if isinstance(arg, str) and arg.startswith("execution reverted: b"):
                value = ast.literal_eval(arg.removeprefix("execution reverted: "))
                return value if isinstance(value, bytes) else None
        seen = seen.__cause__ or seen.__context__
    return None
