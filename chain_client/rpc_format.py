"""Logs and receipts as a node sends them (hex strings), turned into the shapes web3 gives (`LogReceipt`,
`TxReceipt`: ints, `HexBytes`, checksummed addresses) without web3's general formatters; and events decoded
from logs (`EventAbi`) without web3's `process_log`.

web3 formats every field of every log through layers of generic formatters and checksums each address afresh
(a keccak each): after a 10,000-supplier run, reading its 400,000 logs and 24,000 receipts that way took about
a third of the run (profiled). Here each field is converted once, and an address seen before is not hashed
again (a run has a few thousand members, met again and again).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, cast

from eth_abi.abi import decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3.datastructures import AttributeDict
from web3.types import LogReceipt, TxReceipt

_INTS = ("blockNumber", "transactionIndex", "logIndex")
_RECEIPT_INTS = (
    "blockNumber",
    "transactionIndex",
    "status",
    "gasUsed",
    "cumulativeGasUsed",
    "effectiveGasPrice",
    "type",
)
_RECEIPT_HASHES = ("transactionHash", "blockHash", "logsBloom", "root")


@lru_cache(maxsize=1 << 16)
def checksum(address: str | bytes) -> str:
    """`to_checksum_address`, remembered: the same few thousand members' addresses recur in every log."""
    return str(to_checksum_address(address))


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def log_of(raw: dict[str, Any]) -> LogReceipt:
    """One log of `eth_getLogs` or of a receipt, as web3 formats it."""
    log = dict(raw)
    for key in _INTS:
        if log.get(key) is not None:
            log[key] = _int(log[key])
    log["address"] = checksum(log["address"])
    log["topics"] = [HexBytes(t) for t in log["topics"]]
    log["data"] = HexBytes(log["data"])
    for key in ("transactionHash", "blockHash"):
        if log.get(key) is not None:
            log[key] = HexBytes(log[key])
    return cast(LogReceipt, AttributeDict(log))


def receipt_of(raw: dict[str, Any]) -> TxReceipt:
    """A receipt of `eth_getTransactionReceipt`, as web3 formats it (its logs as `log_of`)."""
    receipt = dict(raw)
    for key in _RECEIPT_INTS:
        if receipt.get(key) is not None:
            receipt[key] = _int(receipt[key])
    for key in _RECEIPT_HASHES:
        if receipt.get(key) is not None:
            receipt[key] = HexBytes(receipt[key])
    for key in ("from", "to", "contractAddress"):
        if receipt.get(key) is not None:
            receipt[key] = checksum(receipt[key])
    receipt["logs"] = [log_of(log) for log in receipt.get("logs", [])]
    return cast(TxReceipt, AttributeDict(receipt))


class EventAbi:
    """One event of an ABI: its topic, and its logs decoded into JSON-ready arguments (several times faster than
    web3's `process_log`, which a large run's hundreds of thousands of logs feel)."""

    def __init__(self, abi: dict[str, Any]) -> None:
        self.name = str(abi["name"])
        inputs = abi["inputs"]
        self.signature = f"{self.name}({','.join(abi_type(i) for i in inputs)})"
        self.topic = HexBytes(keccak(text=self.signature))
        self.indexed = [(str(i["name"]), abi_type(i)) for i in inputs if i.get("indexed")]
        self.plain = [(str(i["name"]), abi_type(i)) for i in inputs if not i.get("indexed")]

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


def abi_type(item: Mapping[str, Any]) -> str:
    typ = str(item["type"])
    if typ.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in item["components"])
        return f"({inner}){typ[5:]}"
    return typ


def _jsonable(typ: str, value: Any) -> Any:
    if typ == "address":
        return checksum(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(typ.split("[")[0], v) for v in value]
    return value


def function_abi(abi: Any, function: str) -> tuple[bytes, list[str], list[str]]:
    """(selector, input types, output types) of the one function of `abi` named or signed `function`."""
    found: list[tuple[bytes, list[str], list[str]]] = []
    for item in abi:
        if item.get("type") != "function":
            continue
        types = [abi_type(i) for i in item["inputs"]]
        signature = f"{item['name']}({','.join(types)})"
        if function in (item["name"], signature):
            found.append((keccak(text=signature)[:4], types, [abi_type(o) for o in item.get("outputs", [])]))
    if len(found) != 1:
        raise ValueError(f"{function}: {len(found)} functions of the ABI match; give its signature")
    return found[0]


def returned(types: list[str], values: tuple[Any, ...]) -> Any:
    """Values eth_abi decoded, as web3 returns them from a call: addresses checksummed (in tuples and arrays
    too), one value alone, several as a list."""
    out = [_returned(t, v) for t, v in zip(types, values, strict=True)]
    return out[0] if len(out) == 1 else out


def _returned(typ: str, value: Any) -> Any:
    if typ == "address":
        return checksum(value)
    if typ.endswith("]"):
        inner = typ[: typ.rindex("[")]
        return [_returned(inner, v) for v in value]
    if typ.startswith("("):
        return tuple(_returned(t, v) for t, v in zip(_tuple_types(typ), value, strict=True))
    return value


def _tuple_types(typ: str) -> list[str]:
    """The component types of a tuple type `(a,b,(c,d))`."""
    parts, depth, current = [], 0, ""
    for ch in typ[1:-1]:
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        current += ch
    return [*parts, current] if current else parts
