"""Money is integers in fen everywhere; these are the only conversions to and from yuan text, and `format_fen` is
the one way an amount is shown to a person (terminal, report): ¥ sign, thousands separators, always two decimals."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def format_fen(fen: int) -> str:
    """12345678 -> '¥123,456.78' (exact: integer arithmetic only)."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


def parse_yuan(text: str) -> int:
    """'123,456.78' or '¥1000' -> fen. Refuses more than two decimals rather than rounding them away."""
    cleaned = text.strip().removeprefix("¥").replace(",", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"not an amount of yuan: {text!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not an amount of yuan: {text!r}")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"{text!r} has more than two decimals (fen is the smallest unit)")
    return int(fen)


def format_yuan(text: str) -> str:
    """A yuan string as the API sends it ('45678.9', '120000.00') -> '¥45,678.90': the same text as `format_fen`,
    for terminal output that starts from the wire format."""
    return format_fen(parse_yuan(text))
