"""docs/SECURITY.md stays true: its refusal table is the one the contracts and tests give today, and every test it
names exists."""

from __future__ import annotations

import re
from pathlib import Path

from scripts import refusal_table

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "SECURITY.md"


def test_the_refusal_table_matches_the_contracts_and_the_tests() -> None:
    assert refusal_table.main(["--check"]) == 0, "run: .venv/bin/python -m scripts.refusal_table --write"


def test_every_project_error_is_asserted_by_a_test_or_says_why_not() -> None:
    assert "**none**" not in refusal_table.table()


def test_every_test_the_page_names_exists() -> None:
    text = DOC.read_text()
    named = set(re.findall(r"`(?:tests/)?(test_\w+\.py)::(test_\w+)`", text))
    named |= {(f, t) for f, t in re.findall(r"(test_\w+\.py)::(test_\w+)", text)}
    assert named
    for file, test in sorted(named):
        paths = list((ROOT / "tests").rglob(file))
        assert paths, f"{file} does not exist"
        assert any(re.search(rf"^def {test}\(", p.read_text(), re.M) for p in paths), f"{file}::{test} does not exist"
    for short in re.findall(r"`::(test_\w+)`", text):
        assert any(re.search(rf"^def {short}\(", p.read_text(), re.M) for p in (ROOT / "tests").rglob("test_*.py"))
