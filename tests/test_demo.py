"""The README's demo commands run as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_make_demo_runs_the_scenario_then_a_bank_over_http(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    run = _run("-m", "scripts.demo", "--report", str(report))
    assert run.returncode == 0, run.stderr[-2000:]
    assert "all invariants hold" in report.read_text()
    assert "✓ value conservation" in run.stdout
    assert run.stdout.count("realised yield") >= 3
    assert str(report) in run.stdout.replace("\n", "")
    assert report.read_text().count("<svg") >= 3


def test_scf_demo_prints_a_three_tier_split_tree() -> None:
    run = _run("-m", "chain_client.cli", "demo")
    assert run.returncode == 0, run.stderr
    assert "tier 3" in run.stdout
    assert "sum to ¥1,000,000.00 = face value: True" in run.stdout
