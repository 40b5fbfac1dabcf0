"""The API's value types: yuan amounts as decimal strings, rates, addresses, signatures, ids as decimal strings.

On the wire money is a decimal string of yuan ("50000.00"); inside it is an int of fen, converted only by
`_fen` (which accepts exactly the schema's pattern) and `yuan_text`. JSON numbers are refused for amounts: a
float cannot carry fen exactly, and refusing them is cheaper than explaining a rounding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from eth_utils.address import is_address, is_checksum_address, to_checksum_address
from pydantic import BeforeValidator, Field, GetCoreSchemaHandler, GetJsonSchemaHandler, PlainSerializer, WithJsonSchema
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from chain_client.ids import MAX_SLOT as MAX_SLOT  # a slot is 224 bits; api.openapi reads it from here
from chain_client.ids import token_id_of
from chain_client.rates import percent_to_fraction

# Fragment values and prices are 48-bit on chain (FinancingDesk keeps `uint48 value`): larger is never valid.
MAX_FEN = 2**48 - 1
MAX_UINT256 = 2**256 - 1
RATE_PLACES = Decimal("0.000001")
SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
# Bounds on paging and on times in queries: far beyond any real use, well inside SQLite's 64-bit integers.
MAX_OFFSET = 2**31 - 1
MAX_TIME = 2**40  # unix seconds: the year 36812


def yuan_text(fen: int) -> str:
    """12345678 -> '123456.78': exact, no currency sign, no thousands separators (machines read this)."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan}.{cents:02d}"


def rate_text(rate: Decimal) -> str:
    return str(rate.quantize(RATE_PLACES))


# Amounts on the wire are exactly this: ASCII digits, no sign, no exponent, no separators, at most two
# decimals and at most twelve digits before the point (under a trillion yuan: inside the chain's 48-bit
# values). The shape is checked before any arithmetic, so no input can make a conversion slow or overflow.
YUAN_PATTERN = r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$"
POSITIVE_YUAN_PATTERN = r"^(0\.(0[1-9]|[1-9][0-9]?)|[1-9][0-9]{0,11}(\.[0-9]{1,2})?)$"
_YUAN = re.compile(YUAN_PATTERN, re.ASCII)
# A rate is a fraction from 0 to 1 with at most 18 decimals, as text ("0.036").
RATE_PATTERN = r"^(0(\.[0-9]{1,18})?|1(\.0{1,18})?)$"
_RATE = re.compile(RATE_PATTERN, re.ASCII)


def _fen(value: Any) -> int:
    if not isinstance(value, str):
        # ValueError, not TypeError: pydantic turns only ValueError into a 422 with this message.
        raise ValueError('a yuan amount is a decimal string, e.g. "50000.00"')
    if _YUAN.fullmatch(value) is None:
        # The value is not echoed: it may be a megabyte long.
        raise ValueError('a yuan amount is ASCII digits, at most 12 before the point and 2 after, e.g. "50000.00"')
    whole, _, cents = value.partition(".")
    return int(whole) * 100 + int(cents.ljust(2, "0") or "0")


def _rate(value: Any) -> Decimal:
    if not isinstance(value, str) or _RATE.fullmatch(value) is None:
        # The platform's one rate notation is the fraction (chain_client.rates); scenario files also take "3.35%",
        # so a client may send that: tell it the fraction to send instead, the wire format stays as it is.
        fraction = percent_to_fraction(value) if isinstance(value, str) else None
        if fraction is not None:
            raise ValueError(f'an annual rate is a decimal fraction, not a percentage: send "{fraction}" for {value}')
        raise ValueError('an annual rate is a decimal string from 0 to 1, at most 18 decimals, e.g. "0.036"')
    return Decimal(value)


def _address(value: Any) -> str:
    if not isinstance(value, str) or len(value) != 42 or not is_address(value):
        raise ValueError("not an account address: 0x and 40 hex digits")
    if value != value.lower() and value[2:] != value[2:].upper() and not is_checksum_address(value):
        raise ValueError("the address's mixed-case checksum (EIP-55) is wrong")
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
    if int.from_bytes(raw[32:64], "big") > SECP256K1_HALF_N:
        # A high-s signature is the malleated twin of a valid one: OpenZeppelin's ECDSA (the desk) refuses it,
        # so a request carrying one could never be funded.
        raise ValueError("signature s is in the upper half of the curve order (high-s): use its low-s form")
    return raw


_YUAN_SCHEMA = WithJsonSchema({"type": "string", "pattern": YUAN_PATTERN, "maxLength": 15, "examples": ["50000.00"]})
_POSITIVE_YUAN_SCHEMA = WithJsonSchema(
    {"type": "string", "pattern": POSITIVE_YUAN_PATTERN, "maxLength": 15, "examples": ["50000.00"]}
)
_AS_TEXT = PlainSerializer(yuan_text, return_type=str)

YuanIn = Annotated[int, BeforeValidator(_fen), Field(ge=0, le=MAX_FEN), _AS_TEXT, _YUAN_SCHEMA]
"""An amount sent to the API: yuan text on the wire, fen inside."""
PositiveYuanIn = Annotated[int, BeforeValidator(_fen), Field(gt=0, le=MAX_FEN), _AS_TEXT, _POSITIVE_YUAN_SCHEMA]
Yuan = Annotated[int, _AS_TEXT, WithJsonSchema({"type": "string", "examples": ["50000.00"]})]
"""An amount the API sends: fen inside, yuan text on the wire (negative for a loss)."""

Rate = Annotated[
    Decimal,
    BeforeValidator(_rate),
    Field(ge=0, le=1, allow_inf_nan=False),
    WithJsonSchema(
        {"type": "string", "pattern": RATE_PATTERN, "examples": ["0.036"], "description": "annual rate as a fraction"}
    ),
]
"""An annual rate as a fraction: "0.036" is 3.6% a year."""
RateOut = Annotated[Decimal, PlainSerializer(rate_text, return_type=str), WithJsonSchema({"type": "string"})]

Address = Annotated[
    str,
    BeforeValidator(_address),
    WithJsonSchema(
        {
            "type": "string",
            "format": "eth-address",
            "pattern": "^0x[0-9a-fA-F]{40}$",
            "examples": ["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"],
            "description": "an account address, 0x-hex (mixed case must be its EIP-55 checksum)",
        }
    ),
]
Signature = Annotated[
    bytes,
    BeforeValidator(_signature),
    PlainSerializer(lambda b: "0x" + b.hex(), return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            # r, s (low half of the curve order: its first hex digit at most 7), v = 27 or 28
            "pattern": "^0x[0-9a-fA-F]{64}[0-7][0-9a-fA-F]{63}1[bcBC]$",
            "description": "65-byte EIP-712 signature (r, s, v), 0x-hex, low-s, v = 27 or 28",
        }
    ),
]

# ---------------------------------------------------------------------------------------------- ids
# Token ids, slots and nonces reach 2**256 - 1; JavaScript's JSON.parse keeps integers exactly only up to
# 2**53 - 1 and silently rounds the rest, so two fragments of one receivable would come out as one id. On the
# wire these ids are therefore decimal strings, both ways; inside they are ints. A JSON integer is still
# accepted in a request body, for clients written before ids were strings.
MAX_SAFE_INTEGER = 2**53 - 1
ID_DESCRIPTION = "a decimal string, not a JSON number: ids exceed 2^53 - 1, beyond a JavaScript number's exact range"
# The names under which an id appears in error bodies (`api.errors`), sent as strings like the models' ids.
ID_FIELDS = frozenset({"token_id", "slot", "financed_token_id", "parent_id", "nonce", "from_token_id", "to_token_id"})


def decimal_pattern(maximum: int, minimum: int = 0) -> str:
    """The regular expression of the canonical decimals (no leading zeros) from `minimum` (0 or 1) to
    `maximum`: the schema's pattern is then exactly what the server accepts, no 422 for a schema-valid id."""
    top = str(maximum)
    options = ["0"] if minimum == 0 else []
    if len(top) > 1:
        options.append(f"[1-9][0-9]{{0,{len(top) - 2}}}")
    for i, digit in enumerate(top):  # same length as `maximum`: equal up to i, smaller at i, anything after
        low = 1 if i == 0 else 0
        if int(digit) > low:
            rest = len(top) - i - 1
            below = str(low) if int(digit) - 1 == low else f"[{low}-{int(digit) - 1}]"
            options.append(top[:i] + below + (f"[0-9]{{{rest}}}" if rest else ""))
    options.append(top)
    return "^(" + "|".join(options) + ")$"


@dataclass(frozen=True)
class DecimalId:
    """`Annotated[int, DecimalId(...)]`: an id from `minimum` to `maximum`, an int inside, a decimal string on
    the wire both ways (a JSON integer is still accepted in a request body, from clients written before ids
    were strings). The schema's pattern is exactly what is accepted: no 422 for a schema-valid id."""

    maximum: int
    minimum: int
    description: str

    def pattern(self) -> str:
        return decimal_pattern(self.maximum, self.minimum)

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        shape = re.compile(self.pattern(), re.ASCII)
        bits = self.maximum.bit_length()
        refusal = f'an id is a decimal string (e.g. "4294967297"), no leading zeros, {self.minimum} to 2^{bits} - 1'

        def parse(value: Any) -> Any:
            if isinstance(value, str):
                if shape.fullmatch(value) is None:  # the value is not echoed: it may be a megabyte long
                    raise ValueError(refusal)
                return int(value)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(refusal)
            return value  # a JSON integer: the bounds below still apply

        return core_schema.no_info_before_validator_function(
            parse,
            core_schema.int_schema(ge=self.minimum, le=self.maximum),
            serialization=core_schema.plain_serializer_function_ser_schema(str, return_schema=core_schema.str_schema()),
        )

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": self.pattern(),
            "maxLength": len(str(self.maximum)),
            "examples": [str(token_id_of(max(self.minimum, 1), 1))],
            "description": f"{self.description}; {ID_DESCRIPTION}",
        }


TokenId = Annotated[int, DecimalId(MAX_UINT256, 1, "fragment id: slot << 32 | sequence")]
Slot = Annotated[int, DecimalId(MAX_SLOT, 1, "receivable id: the top 224 bits of its document hash")]
ParentId = Annotated[int, DecimalId(MAX_UINT256, 0, 'the fragment it was split from, "0" for the first one')]
Nonce = Annotated[int, DecimalId(MAX_UINT256, 0, "the signer's financing-request nonce (uint256)")]
Uint256 = Annotated[int, Field(ge=0, le=MAX_UINT256)]
