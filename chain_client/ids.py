"""Token ids and slots: the one place in Python that builds or takes apart an id.

A receivable is a slot, the top 224 bits of keccak256(abi.encode(debtor, documentHash)); a fragment of it is a
token id, `slot << 32 | sequence`, sequence 1 being the fragment issued to the supplier. This mirrors
contracts/types/TokenId.sol (`TokenIdLib.make`, `.slot()`, `.sequence()`, `slotOfHash`); tests/test_ids.py
checks that the two agree.
"""

from __future__ import annotations

from eth_utils.crypto import keccak

SEQUENCE_BITS = 32
MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1  # a receivable has at most this many fragments
MAX_SLOT = (1 << (256 - SEQUENCE_BITS)) - 1
MAX_TOKEN_ID = (1 << 256) - 1

__all__ = [
    "MAX_SEQUENCE",
    "MAX_SLOT",
    "MAX_TOKEN_ID",
    "SEQUENCE_BITS",
    "sequence_of",
    "slot_of",
    "slot_of_document",
    "token_id_of",
]


def token_id_of(slot: int, sequence: int) -> int:
    """The id of fragment `sequence` of receivable `slot`: `slot << 32 | sequence`.

    Raises ValueError, instead of building another fragment's id, when either part does not fit in its bits."""
    if not 0 <= slot <= MAX_SLOT:
        raise ValueError(f"slot {slot} is not a 224-bit number")
    if not 0 <= sequence <= MAX_SEQUENCE:
        raise ValueError(f"sequence {sequence} is not a 32-bit number")
    return (slot << SEQUENCE_BITS) | sequence


def slot_of(token_id: int) -> int:
    """The receivable (slot) fragment `token_id` belongs to: the id's top 224 bits."""
    return token_id >> SEQUENCE_BITS


def sequence_of(token_id: int) -> int:
    """Fragment `token_id`'s number within its receivable: the id's low 32 bits."""
    return token_id & MAX_SEQUENCE


def slot_of_document(debtor: str, document_hash: bytes) -> int:
    """The slot of `debtor`'s receivable backed by `document_hash` (mirrors `ReceivableToken.slotFor`): the top
    224 bits of keccak256(abi.encode(debtor, documentHash)). Bound to the debtor, so nobody else can take it."""
    encoded = bytes(12) + bytes.fromhex(debtor.removeprefix("0x")) + document_hash.rjust(32, b"\0")
    return int.from_bytes(keccak(encoded), "big") >> SEQUENCE_BITS
