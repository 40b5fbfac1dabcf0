"""Sending transactions: local signing, nonces, a known gas limit, and one place that turns a revert into
the matching named exception."""

from __future__ import annotations

import ast
import threading
from dataclasses import dataclass
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError, ContractPanicError
from web3.types import TxParams, TxReceipt

from chain_client.exceptions import ContractError, TransactionFailed, decode_revert

_ONE_GWEI = 10**9


@dataclass(frozen=True)
class TxResult:
    """What every state-changing call returns (operations add their own fields)."""

    tx_hash: str
    block_number: int
    gas_used: int


class _Nonces:
    """Next nonce per sender, kept locally so sends need no round trip; safe across threads."""

    def __init__(self, w3: Web3) -> None:
        self._w3 = w3
        self._next: dict[str, int] = {}
        self._lock = threading.Lock()

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
    """Signs and sends transactions for local accounts. One per Web3 (see `for_web3`)."""

    def __init__(self, w3: Web3, *, receipt_timeout: float = 120.0) -> None:
        self.w3 = w3
        self.receipt_timeout = receipt_timeout
        self.nonces = _Nonces(w3)
        self.chain_id = w3.eth.chain_id
        latest = w3.eth.get_block("latest")
        base_fee = int(latest.get("baseFeePerGas", 0) or 0)
        # Fee cap fixed once: base fees on a quiet permissioned chain only fall; a free-gas chain has 0.
        self.tip = _ONE_GWEI if base_fee else 0
        self.max_fee = 4 * base_fee + self.tip
        self.block_gas_limit = int(latest["gasLimit"])

    @classmethod
    def for_web3(cls, w3: Web3) -> Transactor:
        existing = getattr(w3, "_scf_transactor", None)
        if existing is None:
            existing = cls(w3)
            w3._scf_transactor = existing  # type: ignore[attr-defined]
        return cast(Transactor, existing)

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
            "nonce": self.nonces.take(sender.address),
        }
        tx.setdefault("value", 0)
        signed = sender.sign_transaction(tx)
        try:
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        except Exception as exc:
            # Some nodes (eth-tester, hardhat) refuse a reverting transaction at submission; whether or not
            # the nonce was used, re-read it from the chain next time.
            self.nonces.forget(sender.address)
            data = _revert_data(exc)
            if data is not None:
                raise decode_revert(data) from None
            raise TransactionFailed(f"could not send transaction from {sender.address}: {exc}") from exc
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.receipt_timeout)
        if receipt["status"] != 1:
            raise self._explain_failure(tx, receipt)
        return receipt

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


def _revert_data(exc: BaseException) -> bytes | None:
    """The raw revert data inside whatever exception the provider raised, or None if it is not a revert."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ContractCustomError | ContractLogicError | ContractPanicError):
            data = seen.data
            if isinstance(data, dict):  # some nodes nest it
                data = data.get("data")
            if isinstance(data, str) and data.startswith("0x"):
                return bytes.fromhex(data[2:])
            return b""  # a revert without data (e.g. a bare `revert()`)
        if type(seen).__name__ == "TransactionFailed" and type(seen).__module__.startswith("eth_tester"):
            arg = seen.args[0] if seen.args else None
            if isinstance(arg, bytes):
                return arg
            if isinstance(arg, str) and arg.startswith("execution reverted: b"):
                value = ast.literal_eval(arg.removeprefix("execution reverted: "))
                return value if isinstance(value, bytes) else None
        seen = seen.__cause__ or seen.__context__
    return None
