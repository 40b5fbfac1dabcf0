"""Annual rates, exact: one notation for the whole platform.

The canonical form is the decimal fraction as text, `"0.0335"` for 3.35% a year: what the lender API sends and
takes (its wire format is a contract with the banks' code) and what the discount formula multiplies by. Scenario
files may also write the percentage, `"3.35%"`, which people read more easily; it is converted exactly (a shift
of the decimal point, never a float). A number that YAML or JSON has already turned into a binary float is
refused: `3.35` unquoted is not exactly 3.35, and a bare 3.35 would also be read as 335% a year.
"""

from __future__ import annotations

import re
from decimal import Decimal

from chain_client.exceptions import ChainError

MAX_PLACES = 18  # decimals of the fraction: the API's rate pattern allows 18
_SHAPE = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(%?)", re.ASCII)
MAX_TEXT = 64  # characters: 18 decimals and the rest, with room for spaces
_SHOWN = 24  # longer input is not echoed in a message (it may be anything up to a megabyte)


class RateError(ChainError, ValueError):
    """The text is not an annual rate that can be read exactly; the message says how to write it."""


def parse_rate(value: object) -> Decimal:
    """A scenario file's annual rate: `"0.0335"` or `"3.35%"` (or the integer 0) -> `Decimal("0.0335")`, from 0
    to below 1 (100%), at most `MAX_PLACES` decimals as a fraction. Raises `RateError`."""
    if isinstance(value, bool):
        raise RateError(f"not an annual rate: {value!r}; write it as quoted text, e.g. '3.35%' or '0.0335'")
    if isinstance(value, float):
        shown = _suggest(Decimal(repr(value)))
        raise RateError(f"write the rate as quoted text, {shown}: an unquoted {value!r} is a binary float, not exact")
    if isinstance(value, int):
        number, percent = Decimal(value), False
    elif isinstance(value, str):
        # Bounded before it is parsed: a rate is a few characters; a megabyte of digits is not one.
        match = _SHAPE.fullmatch(value.strip()) if len(value) <= MAX_TEXT else None
        if match is None:
            raise RateError(f"not an annual rate: {_show(value)}; write it as quoted text, e.g. '3.35%' or '0.0335'")
        number, percent = Decimal(match[1]), bool(match[2])
    else:
        raise RateError(f"not an annual rate: {_show(value)}; write it as quoted text, e.g. '3.35%' or '0.0335'")
    rate = number.scaleb(-2) if percent else number
    if rate >= 1:
        if percent:
            raise RateError(f"an annual rate is below 100%, got {_show(value)}")
        raise RateError(f"{_show(value)} as a fraction is {fraction_text(rate * 100)}% a year; write {_suggest(rate)}")
    if -rate.as_tuple().exponent > MAX_PLACES:  # type: ignore[operator]  # finite: the shape has no exponent
        raise RateError(f"an annual rate has at most {MAX_PLACES} decimals as a fraction, got {_show(value)}")
    return rate


def percent_to_fraction(text: str) -> str | None:
    """`"3.35%"` -> `"0.0335"` (for a message telling an API client what to send instead); None if `text` is
    not a short percentage."""
    match = _SHAPE.fullmatch(text.strip()) if len(text) <= _SHOWN else None
    if match is None or not match[2]:
        return None
    return fraction_text(Decimal(match[1]).scaleb(-2))


def fraction_text(rate: Decimal) -> str:
    """The canonical text of a rate: plain decimal notation, no exponent, no trailing zeros (`0.0335`)."""
    text = format(rate, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _suggest(number: Decimal) -> str:
    """How to write `number` (as the user probably meant it) in both accepted forms."""
    if number >= 1:  # a bare 3.35 is almost surely meant as 3.35%
        return f"'{fraction_text(number)}%' or '{fraction_text(number.scaleb(-2))}'"
    return f"'{fraction_text(number)}' or '{fraction_text(number.scaleb(2))}%'"


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."
