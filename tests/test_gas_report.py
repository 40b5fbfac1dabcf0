"""`make gas` (scripts/gas_report.py): a table whose names and figures are never cut, in a terminal or a pipe."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scripts import gas_report

ROOT = Path(__file__).resolve().parents[1]

# Shaped like a real run (every operation the report measures, with its reference), with made-up figures.
FIGURES = {
    **{name: 100_000 + n for n, name in enumerate(gas_report.TARGETS)},
    "finance_with_recourse_and_a_rather_long_name_indeed": 182_400,
    "settle_100": 2_719_953,
    **{ref: 200_000 for ref in set(gas_report.COMPARED.values())},
}


def test_the_table_is_whole_when_stdout_is_a_pipe(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # what rich assumes for a pipe: the width that used to cut names
    monkeypatch.setattr(gas_report, "connect", lambda: None)
    monkeypatch.setattr(gas_report, "advance_time", lambda w3, seconds: 0)
    monkeypatch.setattr(gas_report, "now", lambda w3: 0)
    monkeypatch.setattr(gas_report, "measure_ours", lambda w3: {k: v for k, v in FIGURES.items() if "ref_" not in k})
    monkeypatch.setattr(gas_report, "measure_references", lambda w3: {k: v for k, v in FIGURES.items() if "ref_" in k})
    assert gas_report.main([]) == 0
    out = capsys.readouterr().out
    assert "…" not in out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.startswith("│")}
    assert set(rows) == set(FIGURES)  # every name whole, one row each
    for name, used in FIGURES.items():
        assert f" {used:,} " in rows[name]
    assert "finance_with_recourse_and_a_rather_long_name_indeed" in rows
    assert "solv_erc3525_split 200,000" in rows["finance"]  # the reference column, whole too


def test_gas_report_help_runs_in_a_pipe() -> None:
    run = subprocess.run(
        [sys.executable, "scripts/gas_report.py", "--help"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0
    assert "--json" in run.stdout
