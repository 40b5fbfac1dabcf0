"""Discount pricing for financing (贴现): pure arithmetic, no chain.

    discount = value × annual_rate × days / basis      (ACT/360 by default, as Chinese bill discounting)
    price    = value − discount

Money is integers in fen; rates are `Decimal`; no float is ever involved. The discount is rounded to the
fen half-up by default (ROUND_HALF_UP, the usual bank convention); `rounding` takes any `decimal` mode, e.g.
ROUND_UP (the financier never under-charges) or ROUND_DOWN (the seller never over-pays).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from chain_client.constants import DAY

SECONDS_PER_DAY = DAY


class DayCount(StrEnum):
    ACT_360 = "ACT/360"
    ACT_365 = "ACT/365"

    @property
    def basis(self) -> int:
        return 360 if self is DayCount.ACT_360 else 365


@dataclass(frozen=True)
class Quote:
    value: int  # fen of receivable sold
    price: int  # fen of cash paid for it
    discount: int  # fen: value - price
    days: int
    day_count: DayCount
    annual_rate: Decimal


def days_between(start: int, end: int) -> int:
    """Whole days from unix time `start` to `end`, counting a started day (ACT: actual days)."""
    if end <= start:
        return 0
    return -(-(end - start) // SECONDS_PER_DAY)


def _check(value: int, days: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"value must be a positive number of fen, got {value!r}")
    if not isinstance(days, int) or days <= 0:
        raise ValueError(f"days must be a positive whole number, got {days!r}")


def quote(
    value: int,
    annual_rate: Decimal,
    days: int,
    day_count: DayCount = DayCount.ACT_360,
    rounding: str = ROUND_HALF_UP,
) -> Quote:
    """Price `value` fen due in `days` days at `annual_rate` (e.g. Decimal("0.035") for 3.5%)."""
    _check(value, days)
    if not isinstance(annual_rate, Decimal) or not annual_rate.is_finite() or annual_rate < 0:
        raise ValueError(f"annual_rate must be a non-negative Decimal, got {annual_rate!r}")
    exact = Decimal(value) * annual_rate * days / day_count.basis
    discount = int(exact.quantize(Decimal(1), rounding=rounding))
    if discount >= value:
        raise ValueError(f"a rate of {annual_rate} over {days} days discounts away the whole value")
    return Quote(value, value - discount, discount, days, day_count, annual_rate)


def implied_rate(value: int, price: int, days: int, day_count: DayCount = DayCount.ACT_360) -> Decimal:
    """The annual discount rate at which `value` due in `days` is worth `price` (the inverse of `quote`)."""
    _check(value, days)
    if not 0 < price <= value:
        raise ValueError(f"price must be between 1 fen and the value, got {price}")
    return Decimal(value - price) * day_count.basis / (Decimal(value) * days)


def annualised_yield(price: int, payoff: int, days: int, day_count: DayCount = DayCount.ACT_365) -> Decimal:
    """The simple annual yield of paying `price` now and receiving `payoff` after `days` (ACT/365 default)."""
    if price <= 0:
        raise ValueError(f"price must be positive, got {price}")
    if days <= 0:
        raise ValueError(f"days must be positive, got {days}")
    return Decimal(payoff - price) / Decimal(price) * day_count.basis / days
