"""Logs into `Event`s: each log decoded with its contract's ABI into JSON-ready arguments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3.types import LogReceipt

from chain_client.artifacts import load_artifact


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
        address = to_checksum_address(log["address"])
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


class EventAbi:
    """One event of an ABI: its topic, and its logs decoded into JSON-ready arguments (several times faster than
    web3's `process_log`, which a large run's hundreds of thousands of logs feel)."""

    def __init__(self, abi: dict[str, Any]) -> None:
        self.name = str(abi["name"])
        inputs = abi["inputs"]
        self.signature = f"{self.name}({','.join(_abi_type(i) for i in inputs)})"
        self.topic = HexBytes(keccak(text=self.signature))
        self.indexed = [(str(i["name"]), _abi_type(i)) for i in inputs if i.get("indexed")]
        self.plain = [(str(i["name"]), _abi_type(i)) for i in inputs if not i.get("indexed")]

    def decode(self, log: LogReceipt) -> dict[str, Any]:
        topics = log["topics"][1:]
        if len(topics) != len(self.indexed):
            raise ValueError(f"{self.signature}: {len(topics)} indexed topics, ABI says {len(self.indexed)}")
        args: dict[str, Any] = {}
        for (name, typ), topic in zip(self.indexed, topics, strict=True):
            if typ in ("string", "bytes") or typ.endswith("]") or typ.startswith("("):
                args[name] = HexBytes(topic).to_0x_hex()  # indexed dynamic values are only their hash
            else:
                args[name] = _jsonable(typ, decode([typ], bytes(HexBytes(topic)))[0])
        values = decode([t for _, t in self.plain], bytes(HexBytes(log["data"]))) if self.plain else ()
        for (name, typ), value in zip(self.plain, values, strict=True):
            args[name] = _jsonable(typ, value)
        return args


def _abi_type(item: Mapping[str, Any]) -> str:
    typ = str(item["type"])
    if typ.startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in item["components"])
        return f"({inner}){typ[5:]}"
    return typ


def _jsonable(typ: str, value: Any) -> Any:
    if typ == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(typ.split("[")[0], v) for v in value]
    return value
