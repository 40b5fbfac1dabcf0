"""Discount pricing: exact integer fen, Decimal rates, never floats."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain_client.pricing import DayCount, annualised_yield, days_between, implied_rate, quote

values = st.integers(min_value=100, max_value=10**14)
rates = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("0.30"), places=4)
days = st.integers(min_value=1, max_value=365)


def test_a_known_quote_act_360_and_act_365() -> None:
    q = quote(1_000_000_00, Decimal("0.036"), 90)
    assert (q.discount, q.price) == (900_000, 99_100_000)  # 1,000,000 × 3.6% × 90/360 = 9,000.00 yuan
    q365 = quote(1_000_000_00, Decimal("0.0365"), 100, DayCount.ACT_365)
    assert q365.discount == 1_000_000  # 10,000.00 yuan


def test_rounding_direction_is_stated_and_applied() -> None:
    assert quote(1, Decimal("0.5"), 1).discount == 0  # 0.00138… fen
    assert quote(333, Decimal("0.10"), 1, rounding=ROUND_UP).discount == 1
    assert quote(333, Decimal("0.10"), 1, rounding=ROUND_DOWN).discount == 0


@given(values, rates, days)
def test_price_plus_discount_is_the_value(value: int, rate: Decimal, n: int) -> None:
    q = quote(value, rate, n)
    assert q.price + q.discount == value
    assert isinstance(q.price, int)
    assert isinstance(q.discount, int)


@given(values, rates, days)
def test_price_falls_as_the_rate_or_the_days_rise(value: int, rate: Decimal, n: int) -> None:
    q = quote(value, rate, n)
    assert quote(value, rate + Decimal("0.01"), n).price <= q.price
    if n < 365:
        assert quote(value, rate, n + 1).price <= q.price


@given(values, rates, days)
def test_the_implied_rate_round_trips_within_a_fen(value: int, rate: Decimal, n: int) -> None:
    q = quote(value, rate, n)
    if q.discount == 0:
        return
    back = quote(value, implied_rate(value, q.price, n), n)
    assert abs(back.price - q.price) <= 1


def test_yield_and_days() -> None:
    assert annualised_yield(99_000_00, 100_000_00, 365) == Decimal(1_000_00) / Decimal(99_000_00)
    assert days_between(0, 86_400) == 1
    assert days_between(0, 86_401) == 2
    assert days_between(5, 5) == 0


@pytest.mark.parametrize(
    ("value", "rate", "n"), [(0, Decimal("0.03"), 30), (100, Decimal("-0.01"), 30), (100, Decimal("0.03"), 0)]
)
def test_bad_inputs_are_refused_with_a_message(value: int, rate: Decimal, n: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        quote(value, rate, n)


def test_a_rate_that_eats_the_whole_value_is_refused() -> None:
    with pytest.raises(ValueError, match="whole value"):
        quote(100, Decimal("5"), 360)
