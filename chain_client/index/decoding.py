"""Logs into `Event`s: each log decoded with its contract's ABI into JSON-ready arguments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hexbytes import HexBytes
from web3.types import LogReceipt

from chain_client.artifacts import load_artifact
from chain_client.rpc_format import EventAbi as EventAbi
from chain_client.rpc_format import checksum


@dataclass(frozen=True, slots=True)
class Event:
    """A decoded log, in chain order. `args` are JSON-ready: ints, checksummed addresses, 0x-hex bytes."""

    contract: str
    name: str
    args: dict[str, Any]
    block_number: int
    block_time: int
    tx_hash: str
    tx_index: int
    log_index: int


class LogDecoder:
    """Decodes the logs of a deployment's contracts (`{name: address}`). A log its contract's ABI does not know
    (or of a contract this program has no ABI for) becomes an event named "?" holding its raw topics and data."""

    def __init__(self, addresses: Mapping[str, str]) -> None:
        self._names: dict[str, str] = {}
        self._events: dict[str, dict[bytes, EventAbi]] = {}
        for name, address in addresses.items():
            try:
                abi = load_artifact(name)["abi"]
            except FileNotFoundError:
                abi = []
            events = [EventAbi(item) for item in abi if item.get("type") == "event" and not item.get("anonymous")]
            self._events[address] = {bytes(e.topic): e for e in events}
            self._names[address] = name

    def __call__(self, log: LogReceipt, block_time: int) -> Event:
        address = checksum(log["address"])
        contract = self._names.get(address, address)
        topics = log["topics"]
        abi = self._events.get(address, {}).get(bytes(HexBytes(topics[0]))) if topics else None
        args: dict[str, Any]
        if abi is None:
            name = "?"
            args = {"topics": [HexBytes(t).to_0x_hex() for t in topics], "data": HexBytes(log["data"]).to_0x_hex()}
        else:
            name = abi.name
            args = abi.decode(log)
        return Event(
            contract=contract,
            name=name,
            args=args,
            block_number=int(log["blockNumber"]),
            block_time=block_time,
            tx_hash=HexBytes(log["transactionHash"]).to_0x_hex(),
            tx_index=int(log["transactionIndex"]),
            log_index=int(log["logIndex"]),
        )
