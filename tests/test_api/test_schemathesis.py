"""Schemathesis over the served API's own OpenAPI schema, with every check: with a lender's key and with none,
no 5xx, every response conforms to the schema, every schema-valid request is accepted and every invalid
one refused. Bounded (a fixed seed, a few examples per operation, a time budget): unbounded it ran 42,137
cases in 600 s. The totals are printed (`pytest -s` shows them)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_api.served import ROOT, Served

ST = Path(sys.executable).with_name("st")
SEED = 20261201


def run_schemathesis(served: Served, folder: Path, *args: str, budget: int) -> subprocess.CompletedProcess[str]:
    command = [
        str(ST),
        "run",
        f"{served.url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        "10",
        "--seed",
        str(SEED),
        "--max-time",
        str(budget),
        "--request-timeout",
        "20",
        "--max-response-time",
        "5",
        *args,
    ]
    # cwd: Schemathesis keeps its database of examples in ./.schemathesis; not in the repository.
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.test_api.schemathesis_hooks", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        command, cwd=folder, env=env, capture_output=True, text=True, timeout=budget + 120, check=False
    )


def totals(output: str) -> str:
    found = re.search(r"^\s*(\d+ generated.*)$", output, re.MULTILINE)
    summary = re.search(r"^=+ (.* in [\d.]+s) =+$", output, re.MULTILINE)
    return f"{found.group(1) if found else '?'}; {summary.group(1) if summary else '?'}"


@pytest.mark.skipif(shutil.which(str(ST)) is None, reason="schemathesis is not installed (pip install -e .[dev])")
@pytest.mark.parametrize(("who", "budget"), [("financier", 75), (None, 40)], ids=["lender key", "no key"])
def test_schemathesis_finds_no_5xx_and_no_schema_violation(
    served: Served, tmp_path: Path, who: str | None, budget: int
) -> None:
    args = [] if who is None else ["-H", f"Authorization: Bearer {served.key(who)}"]
    run = run_schemathesis(served, tmp_path, *args, budget=budget)
    print(f"\nschemathesis ({who or 'no key'}): {totals(run.stdout)}")
    failures = re.search(r"^Failures:\n(.*?)\n\n", run.stdout, re.MULTILINE | re.DOTALL)
    assert failures is None, run.stdout[-6000:]
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert re.search(r"\d+ generated", run.stdout)
    assert served.alive()
