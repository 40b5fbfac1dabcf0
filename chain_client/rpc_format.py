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
        # Data of one 32-byte word per argument is read word by word; anything else goes through eth_abi.
        self._words = all(_one_word(t) for _, t in self.plain)

    def decode(self, log: LogReceipt) -> dict[str, Any]:
        topics = log["topics"][1:]
        if len(topics) != len(self.indexed):
            raise ValueError(f"{self.signature}: {len(topics)} indexed topics, ABI says {len(self.indexed)}")
        args: dict[str, Any] = {}
        for (name, typ), topic in zip(self.indexed, topics, strict=True):
            if _one_word(typ):
                args[name] = _word(typ, bytes(topic))
            else:
                args[name] = HexBytes(topic).to_0x_hex()  # indexed dynamic values are only their hash
        data = bytes(log["data"]) if isinstance(log["data"], bytes) else bytes(HexBytes(log["data"]))
        if self._words and len(data) == 32 * len(self.plain):
            for i, (name, typ) in enumerate(self.plain):
                args[name] = _word(typ, data[32 * i : 32 * i + 32])
            return args
        values = decode([t for _, t in self.plain], data) if self.plain else ()
        for (name, typ), value in zip(self.plain, values, strict=True):
            args[name] = _jsonable(typ, value)
        return args


def _one_word(typ: str) -> bool:
    """An elementary type encoded in one 32-byte word (what a word-by-word reading handles)."""
    if "[" in typ or typ == "bytes":
        return False
    return typ in ("address", "bool") or typ.startswith(("uint", "int", "bytes"))


def _word(typ: str, word: bytes) -> Any:
    """One ABI word as `_jsonable` gives the value eth_abi decodes, refused as eth_abi refuses a malformed one."""
    if len(word) != 32:
        raise ValueError(f"{typ}: {len(word)} bytes, a word is 32")
    if typ == "address":
        if any(word[:12]):
            raise ValueError(f"address with nonzero padding: 0x{word.hex()}")
        return checksum("0x" + word[12:].hex())
    if typ == "bool":
        if word[-1] > 1 or any(word[:31]):
            raise ValueError(f"bool that is neither 0 nor 1: 0x{word.hex()}")
        return bool(word[-1])
    if typ.startswith("bytes"):
        size = int(typ[5:])
        if any(word[size:]):
            raise ValueError(f"{typ} with nonzero padding: 0x{word.hex()}")
        return "0x" + word[:size].hex()
    signed = typ.startswith("int")
    bits = int(typ[3 if signed else 4 :] or 256)
    value = int.from_bytes(word, "big", signed=signed)
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1)) if signed else (0, 2**bits)
    if not low <= value < high:
        raise ValueError(f"{typ} out of range: {value}")
    return value


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
