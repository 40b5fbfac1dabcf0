"""Field types of scenario files: money in yuan text to integer fen, percentages, annual rates, names.

Each converter refuses anything it cannot read exactly (a YAML float for money, a third decimal, a negative
amount) with a message that says what to write instead; pydantic puts the field's place in front of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, StringConstraints

from chain_client.money import format_fen, parse_yuan
from chain_client.rates import parse_rate

MAX_FEN = 2**48 - 1  # a fragment's value is a 48-bit number of fen on chain


def _yuan(value: Any) -> int:
    """'1,200,000.50' or '¥1000' or an integer number of yuan -> fen."""
    if isinstance(value, bool | float):
        raise ValueError(f"write amounts as quoted yuan text, e.g. '1,200,000.50' (got {value!r}: not exact)")
    if isinstance(value, int):
        fen = value * 100
    elif isinstance(value, str):
        fen = parse_yuan(value)
    else:
        raise ValueError(f"not an amount of yuan: {value!r}")
    if fen <= 0:
        raise ValueError(f"an amount must be more than zero, got {value!r}")
    if fen > MAX_FEN:
        raise ValueError(f"{value!r} is more than the chain can hold in one receivable ({format_fen(MAX_FEN)})")
    return fen


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"not {what}: {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"not {what}: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"not {what}: {value!r}")
    return number


def _percent(value: Any) -> Decimal:
    """25, '12.5' or '12.5%' -> Decimal('12.5'): more than 0, at most 100."""
    number = _decimal(value.strip().removesuffix("%") if isinstance(value, str) else value, "a percentage")
    if not 0 < number <= 100:
        raise ValueError(f"a percentage is more than 0 and at most 100, got {value!r}")
    return number


def _fraction(value: Any) -> Decimal:
    """A probability: 0.3 or '30%'."""
    if isinstance(value, str) and value.strip().endswith("%"):
        number = _decimal(value.strip().removesuffix("%"), "a probability") / 100
    else:
        number = _decimal(value, "a probability")
    if not 0 <= number <= 1:
        raise ValueError(f"a probability is between 0 and 1 (or 0% and 100%), got {value!r}")
    return number


@dataclass(frozen=True)
class Written:
    """How values of a field type are written in a file: the generated field reference (docs/scenarios.md, by
    scripts/scenario_reference.py) names the type and shows this; validation ignores it."""

    name: str
    how: str


Yuan = Annotated[
    int,
    BeforeValidator(_yuan),
    Written(
        "yuan",
        'quoted yuan text, at most two decimals (`"1,200,000.50"`, `"¥1000"`), or whole yuan as an integer; '
        "never an unquoted decimal (a float is not exact); more than 0",
    ),
]  # fen
Percent = Annotated[
    Decimal,
    BeforeValidator(_percent),
    Written("percent", '`25`, `"12.5"` or `"12.5%"`: more than 0, at most 100'),
]
Rate = Annotated[
    Decimal,
    BeforeValidator(parse_rate),
    Written(
        "rate",
        'an annual rate as quoted text: the fraction `"0.0335"` (as the API writes it) or the percentage `"3.35%"`, '
        "the same rate exactly; from 0 to below 100%; an unquoted number is refused (not exact)",
    ),
]
Probability = Annotated[
    Decimal,
    BeforeValidator(_fraction),
    Written("probability", '`0.3` or `"30%"`: from 0 to 1'),
]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=80),
    Written("name", "text, 1 to 80 characters; a member's, a receivable's or a fragment's name"),
]
Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    Written("text", "text, 1 to 500 characters"),
]


def percent_of(value: int, percent: Decimal) -> int:
    """`percent` % of `value` fen, rounded down to the fen (a payer never pays more than it said)."""
    return int(Decimal(value) * percent / 100)
