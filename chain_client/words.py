"""How counts read in everything the project prints (a leaf: imports nothing of the project)."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`1 receivable`, `3 receivables`, `1,200 transactions`: a count with its noun in the right number."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
