"""The README's demo runs as a user runs it: `scf demo`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_demo_prints_a_three_tier_split_tree() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "chain_client.cli", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "tier 3" in run.stdout
    assert "sum to ¥1,000,000.00 = face value: True" in run.stdout
