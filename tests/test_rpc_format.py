"""`rpc_format`: events decoded word by word give what eth_abi decodes, for every one-word type and random values,
indexed or not, and refuse the malformed words eth_abi refuses; logs and receipts as a node sends them come out as
web3 formats them."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import decode, encode
from eth_utils.address import to_checksum_address
from hypothesis import given
from hypothesis import strategies as st
from web3._utils.method_formatters import receipt_formatter
from web3.datastructures import AttributeDict

from chain_client.rpc_format import EventAbi, receipt_of

TYPES = ("uint256", "uint8", "int256", "int64", "address", "bool", "bytes32", "bytes4")
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "uint256": st.integers(0, 2**256 - 1),
    "uint8": st.integers(0, 255),
    "int256": st.integers(-(2**255), 2**255 - 1),
    "int64": st.integers(-(2**63), 2**63 - 1),
    "address": st.binary(min_size=20, max_size=20).map(lambda b: to_checksum_address(b)),
    "bool": st.booleans(),
    "bytes32": st.binary(min_size=32, max_size=32),
    "bytes4": st.binary(min_size=4, max_size=4),
}
ABI = {
    "type": "event",
    "name": "Everything",
    "inputs": [
        {"name": "who", "type": "address", "indexed": True},
        {"name": "n", "type": "int64", "indexed": True},
        *({"name": f"v{i}", "type": t, "indexed": False} for i, t in enumerate(TYPES)),
    ],
}
EVENT = EventAbi(ABI)


def jsonable(typ: str, value: Any) -> Any:
    """What eth_abi's value becomes in the index: addresses checksummed, bytes as 0x-hex."""
    if typ == "address":
        return to_checksum_address(value)
    return "0x" + value.hex() if isinstance(value, bytes) else value


def log(topics: list[bytes], data: bytes) -> Any:
    return AttributeDict({"topics": [EVENT.topic, *topics], "data": data})


@given(st.tuples(*(VALUES[t] for t in TYPES)), VALUES["address"], VALUES["int64"])
def test_word_by_word_decoding_equals_eth_abi(values: tuple[Any, ...], who: str, n: int) -> None:
    data = encode(list(TYPES), list(values))
    decoded = EVENT.decode(log([encode(["address"], [who]), encode(["int64"], [n])], data))
    expected = {f"v{i}": jsonable(t, v) for i, (t, v) in enumerate(zip(TYPES, decode(list(TYPES), data), strict=True))}
    assert decoded == {"who": who, "n": n, **expected}


@pytest.mark.parametrize(
    ("position", "word", "message"),
    [
        (4, b"\x01" + bytes(31), "address with nonzero padding"),
        (5, bytes(31) + b"\x02", "bool that is neither 0 nor 1"),
        (7, b"\xaa" * 32, "bytes4 with nonzero padding"),
        (1, bytes(30) + b"\x01\x00", "uint8 out of range: 256"),
    ],
)
def test_a_malformed_word_is_refused_as_eth_abi_refuses_it(position: int, word: bytes, message: str) -> None:
    data = bytearray(encode(list(TYPES), [0, 0, 0, 0, "0x" + "00" * 20, False, bytes(32), bytes(4)]))
    data[32 * position : 32 * position + 32] = word
    topics = [encode(["address"], ["0x" + "00" * 20]), encode(["int64"], [0])]
    with pytest.raises(ValueError, match=message):
        EVENT.decode(log(topics, bytes(data)))


def test_a_receipt_comes_out_as_web3_formats_it() -> None:
    raw = {
        "transactionHash": "0x" + "ab" * 32,
        "blockHash": "0x" + "cd" * 32,
        "blockNumber": "0x1f",
        "transactionIndex": "0x2",
        "from": "0x" + "11" * 20,
        "to": "0x" + "22" * 20,
        "contractAddress": None,
        "cumulativeGasUsed": "0x5208",
        "gasUsed": "0x5208",
        "effectiveGasPrice": "0x3b9aca00",
        "status": "0x1",
        "type": "0x2",
        "logsBloom": "0x" + "00" * 256,
        "logs": [
            {
                "address": "0x" + "33" * 20,
                "topics": ["0x" + "44" * 32],
                "data": "0x" + "55" * 32,
                "blockNumber": "0x1f",
                "transactionHash": "0x" + "ab" * 32,
                "transactionIndex": "0x2",
                "blockHash": "0x" + "cd" * 32,
                "logIndex": "0x0",
                "removed": False,
            }
        ],
    }
    ours: Any = receipt_of(raw)
    web3s: Any = AttributeDict.recursive(receipt_formatter(raw))
    for key in ("transactionHash", "blockHash", "blockNumber", "from", "to", "gasUsed", "status", "transactionIndex"):
        assert ours[key] == web3s[key], key
    for key in ("address", "topics", "data", "blockNumber", "transactionHash", "logIndex", "transactionIndex"):
        assert ours["logs"][0][key] == web3s["logs"][0][key], key
