"""One rate notation for the platform: the decimal fraction as text ("0.0335"), exact. Scenario files also take
"3.35%" (exactly the same rate); a YAML float is refused with how to write it; the API's wire format stays the
fraction and a percentage sent to it is answered with the fraction to send instead."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from api import fields as api_fields
from chain_client.apps.scenario.loader import ScenarioError, load
from chain_client.rates import RateError, fraction_text, parse_rate, percent_to_fraction

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("written", "rate"),
    [
        ("0.0335", "0.0335"),
        ("3.35%", "0.0335"),
        (" 3.35 % ", "0.0335"),
        ("3.50%", "0.035"),
        ("0", "0"),
        (0, "0"),
        ("0.000000000000000001", "1E-18"),
        ("99.99%", "0.9999"),
    ],
)
def test_both_spellings_give_the_exact_fraction(written: object, rate: str) -> None:
    assert parse_rate(written) == Decimal(rate)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (3.35, "write the rate as quoted text, '3.35%' or '0.0335': an unquoted 3.35 is a binary float, not exact"),
        (0.036, "write the rate as quoted text, '0.036' or '3.6%': an unquoted 0.036 is a binary float, not exact"),
        ("3.35", "'3.35' as a fraction is 335% a year; write '3.35%' or '0.0335'"),
        (4, "4 as a fraction is 400% a year; write '4%' or '0.04'"),
        ("100%", "an annual rate is below 100%, got '100%'"),
        ("1e-3", "not an annual rate: '1e-3'; write it as quoted text, e.g. '3.35%' or '0.0335'"),
        ("-0.01", "not an annual rate: '-0.01'; write it as quoted text, e.g. '3.35%' or '0.0335'"),
        (True, "not an annual rate: True; write it as quoted text, e.g. '3.35%' or '0.0335'"),
        ("0." + "1" * 19, "an annual rate has at most 18 decimals as a fraction, got '0.1111111111111111111'"),
    ],
)
def test_what_cannot_be_read_exactly_is_refused_with_how_to_write_it(written: object, message: str) -> None:
    with pytest.raises(RateError) as err:
        parse_rate(written)
    assert str(err.value) == message


def test_the_canonical_text_is_plain_decimal() -> None:
    assert fraction_text(Decimal("0.03500")) == "0.035"
    assert fraction_text(Decimal("1E-18")) == "0.000000000000000001"
    assert fraction_text(Decimal(0)) == "0"


def test_a_scenario_reads_both_spellings_as_the_same_rate(tmp_path: Path) -> None:
    text = (ROOT / "scripts" / "scenarios" / "late_payment.yaml").read_text()
    assert 'rate: "4.20%"' in text
    fraction = tmp_path / "fraction.yaml"
    fraction.write_text(text.replace('rate: "4.20%"', 'rate: "0.042"'))
    rates = [s.finance.rate for s in load(fraction).scenario.steps if hasattr(s, "finance")]
    assert rates == [Decimal("0.042"), Decimal("0.039"), Decimal("0.055")]


def test_a_yaml_float_rate_is_refused_at_its_place(tmp_path: Path) -> None:
    path = tmp_path / "float.yaml"
    path.write_text(
        (ROOT / "scripts" / "scenarios" / "late_payment.yaml").read_text().replace('rate: "4.20%"', "rate: 4.2")
    )
    with pytest.raises(ScenarioError) as err:
        load(path)
    assert err.value.problems == [
        "float.yaml:54: step 6 (finance): rate: write the rate as quoted text, '4.2%' or '0.042': an unquoted 4.2 is "
        "a binary float, not exact"
    ]


# ---------------------------------------------------------------------------------------------- the API


def test_the_api_keeps_its_fraction_and_says_what_to_send_for_a_percentage() -> None:
    adapter = TypeAdapter(api_fields.Rate)
    assert adapter.validate_python("0.0335") == Decimal("0.0335")
    with pytest.raises(ValidationError) as err:
        adapter.validate_python("3.35%")
    assert err.value.errors()[0]["msg"] == (
        'Value error, an annual rate is a decimal fraction, not a percentage: send "0.0335" for 3.35%'
    )
    for other in ("3.35", 0.0335, "9" * 100 + "%"):
        with pytest.raises(ValidationError) as err:
            adapter.validate_python(other)
        assert 'e.g. "0.036"' in err.value.errors()[0]["msg"]


def test_a_long_percentage_is_not_echoed() -> None:
    assert percent_to_fraction("1" * 30 + "%") is None
    assert percent_to_fraction("0.0335") is None
    assert percent_to_fraction("3.35%") == "0.0335"


def test_a_huge_text_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(RateError, match=r"^not an annual rate: '0\.0{18}\.\.\.; write it as quoted text"):
        parse_rate("0." + "0" * 1_000_000 + "1")
