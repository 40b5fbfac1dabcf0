"""The API's value types: yuan amounts as decimal strings, rates, addresses, signatures, ids.

On the wire money is a decimal string of yuan ("50000.00"); inside it is an int of fen, converted only by
`chain_client.money.parse_yuan` and `yuan_text`. JSON numbers are refused for amounts: a float cannot carry
fen exactly, and refusing them is cheaper than explaining a rounding.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from eth_utils.address import is_address, to_checksum_address
from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, WithJsonSchema

from chain_client.money import parse_yuan

# Fragment values and prices are 48-bit on chain (FinancingDesk keeps `uint48 value`): larger is never valid.
MAX_FEN = 2**48 - 1
MAX_UINT256 = 2**256 - 1
# A slot is the top 224 bits of a document hash; a token id is `slot << 32 | sequence`.
MAX_SLOT = 2**224 - 1
RATE_PLACES = Decimal("0.000001")


def yuan_text(fen: int) -> str:
    """12345678 -> '123456.78': exact, no currency sign, no thousands separators (machines read this)."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan}.{cents:02d}"


def rate_text(rate: Decimal) -> str:
    return str(rate.quantize(RATE_PLACES))


def _fen(value: Any) -> int:
    if not isinstance(value, str):
        # ValueError, not TypeError: pydantic turns only ValueError into a 422 with this message.
        raise ValueError('a yuan amount is a decimal string, e.g. "50000.00"')
    return parse_yuan(value)


def _address(value: str) -> str:
    if not is_address(value):
        raise ValueError(f"not an account address: {value!r}")
    return to_checksum_address(value)


def _signature(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValueError("a signature is 0x-prefixed hex text")
    text = value.removeprefix("0x")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ValueError("a signature is 0x-prefixed hex text") from None
    if len(raw) != 65:
        raise ValueError(f"a signature is 65 bytes (r, s, v), got {len(raw)}")
    if raw[64] not in (27, 28):
        # The desk (OpenZeppelin ECDSA) accepts only v = 27 or 28; refuse here what the chain would refuse.
        raise ValueError(f"signature v must be 27 or 28, got {raw[64]}")
    return raw


_YUAN_SCHEMA = WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "examples": ["50000.00"]})
_AS_TEXT = PlainSerializer(yuan_text, return_type=str)

YuanIn = Annotated[int, BeforeValidator(_fen), Field(ge=0, le=MAX_FEN), _AS_TEXT, _YUAN_SCHEMA]
"""An amount sent to the API: yuan text on the wire, fen inside."""
PositiveYuanIn = Annotated[int, BeforeValidator(_fen), Field(gt=0, le=MAX_FEN), _AS_TEXT, _YUAN_SCHEMA]
Yuan = Annotated[int, _AS_TEXT, WithJsonSchema({"type": "string", "examples": ["50000.00"]})]
"""An amount the API sends: fen inside, yuan text on the wire (negative for a loss)."""

Rate = Annotated[
    Decimal,
    Field(ge=0, le=1, allow_inf_nan=False),
    WithJsonSchema({"type": "string", "examples": ["0.036"], "description": "annual rate as a fraction"}),
]
"""An annual rate as a fraction: "0.036" is 3.6% a year."""
RateOut = Annotated[Decimal, PlainSerializer(rate_text, return_type=str), WithJsonSchema({"type": "string"})]

Address = Annotated[str, AfterValidator(_address), WithJsonSchema({"type": "string", "examples": ["0x52908400…"]})]
Signature = Annotated[
    bytes,
    BeforeValidator(_signature),
    PlainSerializer(lambda b: "0x" + b.hex(), return_type=str),
    WithJsonSchema({"type": "string", "description": "65-byte EIP-712 signature, 0x-hex"}),
]

TokenId = Annotated[int, Field(ge=1, le=MAX_UINT256, description="fragment id: slot << 32 | sequence")]
Slot = Annotated[int, Field(ge=1, le=MAX_SLOT, description="receivable id: the top 224 bits of its document hash")]
Uint256 = Annotated[int, Field(ge=0, le=MAX_UINT256)]
