"""Sending transactions: local signing, nonces, fees as the node reports them, a known gas limit, and one place
that turns a revert into the matching named exception.

Two ways to send: `transact` (one transaction, wait for its receipt) and `transact_many` (pipelined: one account's
transactions signed with consecutive nonces and sent without waiting for each receipt, the receipts collected in
JSON-RPC batches). Both keep the same guarantees: nonce order per account; a send retried after a connection
error re-sends the same signed bytes, so it can never execute twice; a refused transaction raises its decoded
custom error."""

from __future__ import annotations

import ast
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
from web3.types import RPCEndpoint, TxParams, TxReceipt

from chain_client.exceptions import ChainError, ContractError, TransactionFailed
from chain_client.reverts import decode_revert
from chain_client.rpc_format import receipt_of

_ONE_GWEI = 10**9
# Receipt polling: a local node mines within milliseconds, a network within seconds. Polls start at 2 ms and
# grow by half each time up to `Transactor.poll_interval`: a quick answer is not slept past by much.
_FIRST_POLL = 0.002
_POLL_GROWTH = 1.5
# Fees are read again from the node after this many seconds of sending (a base fee moves with block fullness).
FEE_REFRESH_SECONDS = 10.0
# What funding a member for gas assumes one of its transactions may use at most (a split to many holders, a
# settlement page), priced at the node's fee cap: see `Transactor.funding_for`.
FUNDED_GAS_PER_TRANSACTION = 1_000_000
# The fee cap is twice the base fee plus the tip (as wallets do): it survives six full blocks in a row.
_BASE_FEE_HEADROOM = 2
# Where the client mines the blocks, the i-th of a block's n transactions offers (n - i) wei more per gas, in its tip
# and its fee cap, so the miner, which takes the highest bid first among each sender's next nonce (anvil by fee
# cap, geth by tip), keeps the list's order (`Transactor.keeps_order`). Funding leaves this much per unit of gas
# for it (a thousandth of a gwei: far below any fee).
ORDER_TIP_HEADROOM = 1_000_000
# What a node says when a nonce was already used (by this transaction after a lost response, or by another).
# ("nonce too high" is hardhat's refusal to queue a transaction while automining.)
_NONCE_MESSAGES = (
    "nonce too low",
    "nonce too high",
    "already known",
    "known transaction",
    "replacement transaction underpriced",
)
# What a node says when the fee cap is below the current base fee (or below its own floor).
_FEE_MESSAGES = ("less than block base fee", "fee cap less than", "transaction underpriced", "max fee per gas less")


@dataclass(frozen=True)
class TxResult:
    """What every state-changing call returns (operations add their own fields)."""

    tx_hash: str
    block_number: int
    gas_used: int


@dataclass(frozen=True)
class Call:
    """One transaction to send: who signs it, to which contract (None: a deployment), its data, gas and value."""

    sender: LocalAccount
    to: str | None
    data: str
    gas: int
    value: int = 0


class ReceiptTimeout(TransactionFailed):
    """A sent transaction got no receipt within the timeout. It may still be mined: look it up by `tx_hash`."""

    def __init__(self, tx_hash: str, timeout: float) -> None:
        self.tx_hash = tx_hash
        self.timeout = timeout
        super().__init__(f"no receipt for transaction {tx_hash} within {timeout:g} s; it may still be mined")


class _StaleNonce(ChainError):
    """The node refused the nonce and does not have our transaction: sign again with a fresh nonce."""


class _FeeTooLow(ChainError):
    """The node refused the fee cap (the base fee rose): read the fees again and sign again."""


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

    def known(self, address: str) -> bool:
        with self._lock:
            return address in self._next

    def learn(self, counts: dict[str, int]) -> None:
        """Transaction counts read from the node for senders not yet known (one batch for a window's new ones)."""
        with self._lock:
            for address, count in counts.items():
                self._next.setdefault(address, count)

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
        self.block_gas_limit = int(w3.eth.get_block("latest")["gasLimit"])
        self.tip = 0
        self.max_fee = 0
        self._fees_read = 0.0
        self._fees_lock = threading.Lock()
        self.refresh_fees()
        self._batches: bool | None = None  # whether the node answers JSON-RPC batch requests (found on first use)
        self._batch_sends = True  # whether sends may go in a batch (not where the node reorders them)
        self._mines: bool | None = None  # whether this client mines the node's blocks (found on first use)

    # ------------------------------------------------------------------ fees

    def refresh_fees(self) -> None:
        """Read the fees from the node: its base fee (latest block) and its suggested tip
        (`eth_maxPriorityFeePerGas`). A chain without a base fee is a free-gas chain here: fee cap and tip 0."""
        with self._fees_lock:
            base_fee = int(self.w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
            tip = 0
            if base_fee:
                try:
                    tip = int(self.w3.eth.max_priority_fee)
                except Exception as exc:  # a node without eth_maxPriorityFeePerGas (web3 then tries fee history)
                    if is_connection_error(exc):
                        raise
                    tip = _ONE_GWEI
            self.tip = tip
            self.max_fee = _BASE_FEE_HEADROOM * base_fee + tip
            self._fees_read = time.monotonic()

    def _fresh_fees(self) -> tuple[int, int]:
        if time.monotonic() - self._fees_read > FEE_REFRESH_SECONDS:
            self.refresh_fees()
        return self.max_fee, self.tip

    def funding_for(self, transactions: int) -> int:
        """Wei an account needs for `transactions` transactions at the node's current fee cap (0 on a free-gas
        chain): what the scenario runner, `scf demo` and the API's seed give a member that sends."""
        max_fee, _ = self._fresh_fees()
        if not max_fee:
            return 0
        return max(transactions, 1) * FUNDED_GAS_PER_TRANSACTION * (max_fee + ORDER_TIP_HEADROOM)

    # ------------------------------------------------------------------ sending

    def transact(self, sender: LocalAccount, fn: ContractFunction | ContractConstructor, gas: int) -> TxReceipt:
        """Send `fn` from `sender` with gas limit `gas`; raise the contract's named error if it reverts."""
        gas = min(gas, self.block_gas_limit)
        if isinstance(fn, ContractConstructor):
            tx: dict[str, Any] = {"data": fn.data_in_transaction}
        else:
            tx = {"to": fn.address, "data": fn._encode_transaction_data()}
        return self._send(sender, tx, gas)

    def send_call(self, call: Call) -> TxReceipt:
        """Send one `Call` and wait for its receipt (as `transact`)."""
        return self._send(call.sender, self._call_tx(call), call.gas)

    def value_call(self, sender: LocalAccount, to: str, wei: int) -> Call:
        """Ether to `to`, as a `Call`."""
        return Call(sender, to, "0x", 21_000, wei)

    def send_value(self, sender: LocalAccount, to: str, wei: int) -> TxReceipt:
        return self._send(sender, {"to": to, "value": wei}, 21_000)

    def call_of(self, sender: LocalAccount, fn: ContractFunction | ContractConstructor, gas: int) -> Call:
        """`fn` from `sender` as a `Call`, for `transact_many`."""
        gas = min(gas, self.block_gas_limit)
        if isinstance(fn, ContractConstructor):
            return Call(sender, None, fn.data_in_transaction, gas)
        return Call(sender, str(fn.address), fn._encode_transaction_data(), gas)

    def _tx_of(self, sender: LocalAccount, tx: dict[str, Any], gas: int) -> dict[str, Any]:
        max_fee, tip = self._fresh_fees()
        tx = {
            **tx,
            "from": sender.address,
            "gas": gas,
            "chainId": self.chain_id,
            "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": tip,
        }
        tx.setdefault("value", 0)
        return tx

    def _send(self, sender: LocalAccount, tx: dict[str, Any], gas: int) -> TxReceipt:
        tx = self._tx_of(sender, tx, gas)
        with self.nonces.sending(sender.address):
            tx_hash = self._sign_and_submit(sender, tx)
        self._mine()
        receipt = self._wait_for_receipt(tx_hash)
        if receipt["status"] != 1:
            raise self._explain_failure(tx, receipt)
        return receipt

    # ------------------------------------------------------------------ pipelined sending

    def transact_many(self, calls: Sequence[Call], *, window: int = 256) -> list[TxReceipt]:
        """Send `calls` in order without waiting for each receipt; return their receipts, in the same order.

        Each window of `window` calls is signed with consecutive nonces per sender and handed to the node in one
        JSON-RPC batch (one request at a time where the node has no batches, and on the embedded chain, where
        nothing is gained); then the receipts are collected in batches. A connection error while sending makes
        every transaction of the window be asked for by hash and, where the node lacks it, sent again as the
        same signed bytes. The first refused call, in list order, raises its decoded custom error; calls after
        it are not sent when the node refuses at submission, but may have been mined when it refuses only in the
        receipt (a resumable caller asks the chain what happened, as the scenario journal does)."""
        receipts: list[TxReceipt] = []
        if not self.pipelines:
            for c in calls:
                receipts.append(self._send(c.sender, self._call_tx(c), c.gas))
            return receipts
        for chunk in self._windows(calls, window):
            txs = [self._tx_of(c.sender, self._call_tx(c), c.gas) for c in chunk]
            if self.keeps_order:
                for i, tx in enumerate(txs):  # one wei a gas above the next: the block keeps the list's order
                    tx["maxPriorityFeePerGas"] += len(txs) - i
                    tx["maxFeePerGas"] += len(txs) - i
            hashes, refusal = self._send_window(chunk, txs)
            if hashes:
                self._mine()
            got = self._collect_receipts(hashes)
            for tx, receipt in zip(txs, got, strict=True):
                if receipt["status"] != 1:
                    raise self._explain_failure(tx, receipt)
            if refusal is not None:
                raise refusal
            receipts.extend(got)
        return receipts

    def _windows(self, calls: Sequence[Call], most: int) -> Iterator[Sequence[Call]]:
        """`calls` in windows of at most `most` calls whose gas limits sum to at most half a block: a node that
        mines what it has when a transaction arrives (anvil, hardhat automining) then mines a window in one
        block, none waits for a next transaction that never comes, and no block is above the base-fee target (a
        run of full blocks would raise the base fee by 12.5 % each)."""
        budget = self.block_gas_limit // 2
        start = 0
        while start < len(calls):
            end, gas = start, 0
            while end < len(calls) and end - start < most and (end == start or gas + calls[end].gas <= budget):
                gas += calls[end].gas
                end += 1
            yield calls[start:end]
            start = end

    @property
    def mines_on_demand(self) -> bool:
        """Whether the node waits to be told to mine: an anvil started with `--no-mining` (neither automine nor
        an interval). Its cost per block grows with its state, so a large run goes fastest with one block per
        window of `transact_many` (and one per single send), which this client then mines with `evm_mine`
        once the node has the transactions. Other nodes mine by themselves: nothing is asked of them."""
        if self._mines is None:
            self._mines = self._probe_manual_mining()
        return self._mines

    @property
    def keeps_order(self) -> bool:
        """Whether a window of `transact_many` is mined in the list's order whoever sends each transaction, so a
        transaction may depend on an earlier one by another sender (pay a fragment made in the same window, sell
        value to a bank right after receiving it). True where this client mines the blocks (`mines_on_demand`) and
        the node charges fees: each window is one block, and its bids (tip and fee cap) fall by one wei per
        transaction, so the miner, which orders by fee among each sender's next nonce, follows the list.
        Elsewhere a node may order a block's senders as it likes (or mine part of a window), and only one
        sender's nonce order is sure."""
        return self.mines_on_demand and self.max_fee > 0

    def _probe_manual_mining(self) -> bool:
        if not hasattr(self.w3.provider, "endpoint_uri"):  # the embedded chain mines every transaction itself
            return False
        try:
            automine = self.w3.provider.make_request(RPCEndpoint("anvil_getAutomine"), [])
            interval = self.w3.provider.make_request(RPCEndpoint("anvil_getIntervalMining"), [])
        except Exception as exc:
            if is_connection_error(exc):
                raise
            return False  # not anvil
        if not (isinstance(automine, dict) and isinstance(interval, dict)):
            return False
        if "error" in automine or "error" in interval:
            return False
        return automine.get("result") is False and not interval.get("result")

    def _mine(self) -> None:
        """Have a node that mines on demand mine what it holds (see `mines_on_demand`)."""
        if not self.mines_on_demand:
            return
        for attempt in range(self.send_retries + 1):
            try:
                self.w3.provider.make_request(RPCEndpoint("evm_mine"), [])
                return
            except Exception as exc:  # a lost answer: mining again only adds an empty block
                if not is_connection_error(exc) or attempt == self.send_retries:
                    raise
                time.sleep(self.retry_backoff * 2**attempt)

    @property
    def pipelines(self) -> bool:
        """Whether `transact_many` pipelines here: a node that answers JSON-RPC batches (not the embedded chain)."""
        if self._batches is None:
            self._batches = self._probe_batches()
        return self._batches

    @staticmethod
    def _call_tx(c: Call) -> dict[str, Any]:
        tx: dict[str, Any] = {"data": c.data, "value": c.value}
        if c.to is not None:
            tx["to"] = c.to
        return tx

    def _batch(self, requests: list[tuple[RPCEndpoint, list[Any]]]) -> Any:
        """One JSON-RPC batch request; the node's answers (a list of responses in request order, as web3 sorts)."""
        return cast(Any, self.w3.provider).make_batch_request(requests)

    def _probe_batches(self) -> bool:
        if not hasattr(self.w3.provider, "endpoint_uri"):  # the embedded chain, or a custom provider
            return False
        try:
            answer = self._batch([(RPCEndpoint("eth_chainId"), [])])
        except Exception as exc:
            if is_connection_error(exc):
                raise
            return False
        return isinstance(answer, list) and bool(answer) and "result" in answer[0]

    def _send_window(self, chunk: Sequence[Call], txs: list[dict[str, Any]]) -> tuple[list[HexBytes], Exception | None]:
        """Sign `txs` with consecutive nonces and send them in one batch. Returns the hashes of those the node
        took and the refusal that stopped the window (None if none did)."""
        senders = sorted({c.sender.address for c in chunk})
        locks = [self.nonces.sending(a) for a in senders]
        for lock in locks:
            lock.acquire()
        try:
            self._read_nonces([a for a in senders if not self.nonces.known(a)])
            signed: list[tuple[bytes, HexBytes]] = []
            for c, tx in zip(chunk, txs, strict=True):
                tx["nonce"] = self.nonces.take(c.sender.address)
                s = c.sender.sign_transaction(tx)
                signed.append((bytes(s.raw_transaction), HexBytes(s.hash)))
            answers: Any = None
            if self._batch_sends:
                try:
                    answers = self._batch(
                        [(RPCEndpoint("eth_sendRawTransaction"), [HexBytes(raw).to_0x_hex()]) for raw, _ in signed]
                    )
                except Exception as exc:
                    if not is_connection_error(exc):
                        raise
                    # The node may have some, all or none of them: below, each is asked for by hash, in order.
            taken: list[HexBytes] = []
            for i, (raw, tx_hash) in enumerate(signed):
                reply = answers[i] if isinstance(answers, list) and i < len(answers) else None
                error: Exception | None = None
                if isinstance(reply, dict) and "error" not in reply:
                    taken.append(tx_hash)
                    continue
                if isinstance(reply, dict):
                    error = Web3RPCError(str(reply["error"]), rpc_response=cast(Any, reply))
                if error is None or _is_nonce_refusal(error):
                    # Not sent, lost, or refused for its nonce: a node that takes a batch's requests in parallel
                    # (hardhat) sees later nonces first. Send it alone, in order; that is what this node gets now.
                    try:
                        self._submit(raw, tx_hash)
                        if error is not None:
                            self._batch_sends = False
                        error = None
                    except _StaleNonce:
                        error = TransactionFailed(f"the nonce of transaction {tx_hash.to_0x_hex()} was used by another")
                    except Exception as exc:
                        error = exc
                if error is None:
                    taken.append(tx_hash)
                    continue
                for a in senders:
                    self.nonces.forget(a)  # the rest were signed but not sent: re-read next time
                if _is_fee_refusal(error):
                    self.refresh_fees()
                data = _revert_data(error)
                refusal: Exception
                if data is not None:
                    refusal = decode_revert(data, tx_hash.to_0x_hex())
                    if self._node_has(tx_hash):  # hardhat mines a reverting transaction and also refuses it
                        taken.append(tx_hash)
                elif isinstance(error, TransactionFailed):
                    refusal = error
                else:
                    refusal = TransactionFailed(f"transaction {tx_hash.to_0x_hex()} was refused: {error}")
                txs[:] = txs[: len(taken)]
                return taken, refusal
            return taken, None
        finally:
            for lock in reversed(locks):
                lock.release()

    def _read_nonces(self, senders: list[str]) -> None:
        """The next nonces of `senders` in one batch (a large run's window meets hundreds of new members); any
        not answered are read one at a time when taken."""
        if not senders:
            return
        try:
            answers = self._batch([(RPCEndpoint("eth_getTransactionCount"), [a, "pending"]) for a in senders])
        except Exception as exc:
            if not is_connection_error(exc):
                raise
            return
        if isinstance(answers, list) and len(answers) == len(senders):
            counts = {
                a: int(r["result"], 16)
                for a, r in zip(senders, answers, strict=True)
                if isinstance(r, dict) and isinstance(r.get("result"), str)
            }
            self.nonces.learn(counts)

    def _collect_receipts(self, hashes: list[HexBytes]) -> list[TxReceipt]:
        """The receipts of `hashes`, asked for in batches until all are mined (or `receipt_timeout`)."""
        found: dict[HexBytes, TxReceipt] = {}
        deadline = time.monotonic() + self.receipt_timeout
        pause = _FIRST_POLL
        while len(found) < len(hashes):
            missing = [h for h in hashes if h not in found]
            try:
                answers = self._batch([(RPCEndpoint("eth_getTransactionReceipt"), [h.to_0x_hex()]) for h in missing])
            except Exception as exc:
                if not is_connection_error(exc):
                    raise
                answers = []
            if isinstance(answers, list):
                for h, reply in zip(missing, answers, strict=False):
                    raw = reply.get("result") if isinstance(reply, dict) else None
                    if raw:
                        found[h] = receipt_of(raw)
            if len(found) == len(hashes):
                break
            left = deadline - time.monotonic()
            if left <= 0:
                first = next(h for h in hashes if h not in found)
                raise ReceiptTimeout(first.to_0x_hex(), self.receipt_timeout)
            time.sleep(min(pause, left))
            pause = min(pause * _POLL_GROWTH, self.poll_interval)
        return [found[h] for h in hashes]

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
            except _FeeTooLow:
                self.nonces.forget(sender.address)  # not taken: sign again at the node's fees of now
                self.refresh_fees()
                tx["maxFeePerGas"], tx["maxPriorityFeePerGas"] = self.max_fee, self.tip
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
                if _is_fee_refusal(exc):
                    raise _FeeTooLow from exc
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
        pause = _FIRST_POLL
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
            pause = min(pause * _POLL_GROWTH, self.poll_interval)

    def _explain_failure(self, tx: dict[str, Any], receipt: TxReceipt) -> ChainErrorLike:
        """The revert data of a mined, reverted transaction: from the node's trace of it where the node traces
        (anvil, geth: exact, whatever else its block holds), else by replaying it on the state before its block
        (exact when it is alone in its block, as with automining one transaction at a time)."""
        call = {k: tx[k] for k in ("from", "to", "data", "value") if k in tx}
        tx_hash = HexBytes(receipt["transactionHash"]).to_0x_hex()
        if receipt.get("transactionIndex", 0):  # others before it in its block: the replay could miss them
            traced = self._traced_revert(tx_hash)
            if traced is not None:
                return decode_revert(traced, tx_hash)
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

    def _traced_revert(self, tx_hash: str) -> bytes | None:
        """The output of a reverted transaction from `debug_traceTransaction`'s call tracer, or None where the
        node has no such tracer."""
        try:
            answer = self.w3.provider.make_request(
                RPCEndpoint("debug_traceTransaction"), [tx_hash, {"tracer": "callTracer"}]
            )
        except Exception as exc:
            if is_connection_error(exc):
                raise
            return None
        result = answer.get("result") if isinstance(answer, dict) else None
        output = result.get("output") if isinstance(result, dict) else None
        if isinstance(output, str) and output.startswith("0x"):
            return bytes.fromhex(output[2:])
        return None

    # ------------------------------------------------------------------ reading

    def call(self, fn: ContractFunction) -> Any:
        """A read; a revert becomes the contract's named error."""
        with named_reverts():
            return fn.call()


@contextmanager
def named_reverts() -> Iterator[None]:
    """Inside, a read that reverts raises the contract's named error (`decode_revert`); anything else as it was."""
    try:
        yield
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


def _is_fee_refusal(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(m in text for m in _FEE_MESSAGES)


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
