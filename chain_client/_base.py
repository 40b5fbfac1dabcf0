"""Shared plumbing of the per-contract clients."""

from __future__ import annotations

from typing import Any, cast

from eth_abi.abi import decode, encode
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from hexbytes import HexBytes
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import EventData, TxReceipt

from chain_client.chain import chain_of
from chain_client.rpc_format import EventAbi, function_abi, returned
from chain_client.tx import Call, Transactor, TxResult, named_reverts


class ContractClient:
    """Wraps one deployed contract: typed reads, and writes signed by the account passed to each call."""

    def __init__(self, contract: Contract, transactor: Transactor | None = None) -> None:
        self.contract = contract
        self.tx = transactor or chain_of(contract.w3).sender
        self._event_abis: dict[str, EventAbi] = {}
        self._functions: dict[str, tuple[bytes, list[str], list[str]]] = {}

    @property
    def address(self) -> str:
        return str(self.contract.address)

    def _send(self, sender: LocalAccount, fn: ContractFunction, gas: int) -> TxReceipt:
        return self.tx.transact(sender, fn, gas)

    def _call_of(self, sender: LocalAccount, function: str, args: tuple[Any, ...], gas: int) -> Call:
        """`function` (its name, or its signature where the name is overloaded) with `args` as a `Call`, encoded
        with eth_abi from the contract's ABI directly: building a web3 contract function checks and normalises
        every argument first, a millisecond or more each, which a large run's hundred thousand sends feel."""
        return Call(sender, self.address, self._data(function, args), min(gas, self.tx.block_gas_limit))

    def _read(self, function: str, args: tuple[Any, ...]) -> Any:
        """`function(*args)` read now, encoded and decoded with eth_abi (as `_call_of`); the answer as web3 gives
        it; a revert raises the contract's named error."""
        with named_reverts():
            raw = self.contract.w3.eth.call({"to": self.contract.address, "data": HexStr(self._data(function, args))})
        outputs = self._abi_of(function)[2]
        return returned(outputs, decode(outputs, bytes(raw)))

    def _data(self, function: str, args: tuple[Any, ...]) -> str:
        selector, inputs, _ = self._abi_of(function)
        return "0x" + (selector + encode(inputs, args)).hex()

    def _abi_of(self, function: str) -> tuple[bytes, list[str], list[str]]:
        found = self._functions.get(function)
        if found is None:
            found = self._functions[function] = function_abi(self.contract.abi, function)
        return found

    def _call(self, fn: ContractFunction) -> Any:
        return self.tx.call(fn)

    def _event_args(self, receipt: TxReceipt, name: str) -> list[dict[str, Any]]:
        """The arguments of each event `name` this contract emitted in `receipt`, JSON-ready (`EventAbi`: ints,
        checksummed addresses, 0x-hex bytes): several times faster than `_events` on a receipt of hundreds."""
        abi = self._event_abis.get(name)
        if abi is None:
            abi = self._event_abis[name] = EventAbi(cast(dict[str, Any], self.contract.events[name]().abi))
        topic = bytes(abi.topic)
        return [
            abi.decode(log)
            for log in receipt["logs"]
            if log["address"] == self.contract.address and log["topics"] and bytes(log["topics"][0]) == topic
        ]

    def _events(self, receipt: TxReceipt, name: str) -> list[EventData]:
        """Decoded events `name` emitted by this contract in `receipt`."""
        event = self.contract.events[name]()
        topic = HexBytes(event.topic)
        out: list[EventData] = []
        for log in receipt["logs"]:
            if log["address"] == self.contract.address and log["topics"] and HexBytes(log["topics"][0]) == topic:
                out.append(event.process_log(log))
        return out


def result(receipt: TxReceipt) -> TxResult:
    return TxResult(
        tx_hash=HexBytes(receipt["transactionHash"]).to_0x_hex(),
        block_number=int(receipt["blockNumber"]),
        gas_used=int(receipt["gasUsed"]),
    )
