"""`python -m api` as a process: what it refuses to start with, and what it leaves behind when stopped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_api.served import ROOT, Served


def test_the_embedded_chain_with_a_store_file_is_refused_in_one_line(tmp_path: Path) -> None:
    # The embedded chain is new on every start: a store kept from an earlier run would list its lost requests.
    run = subprocess.run(
        [sys.executable, "-m", "api", "--store", str(tmp_path / "api.sqlite")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "--store goes with --rpc" in lines[0]
    assert not (tmp_path / "api.sqlite").exists()


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--rpc", "http://127.0.0.1:9", "--seed-fragments", "10"], "--seed-fragments is for the embedded chain"),
        (["--seed-fragments", "1"], "--seed-fragments takes 2 to 1,000,000 fragments, not 1"),
        (["--seed-fragments", "10" + "0" * 30], "--seed-fragments takes 2 to 1,000,000 fragments, not 10,"),
    ],
)
def test_seeding_fragments_is_refused_on_a_real_chain_and_out_of_range_in_one_line(argv: list[str], said: str) -> None:
    # A development seed (bench.py api --fragments N): never sent to a real chain.
    run = subprocess.run(
        [sys.executable, "-m", "api", *argv], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert said in lines[0]


def test_sigterm_removes_the_temporary_store(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    served = Served.start(tmp_path, env={"TMPDIR": str(tmp)})
    assert [p.name for p in tmp.iterdir() if p.name.startswith("scf-api-")]  # the store lives there meanwhile
    served.stop()  # SIGTERM
    assert served.process.returncode in (0, 143), served.log.read_text()[-2000:]
    assert not [p.name for p in tmp.iterdir() if p.name.startswith("scf-api-")]
