"""`scf scenario FILE --rpc URL` on a real JSON-RPC node (hardhat, started by tests/rpc/conftest.py's fixture):
the operator's key from the environment, the journal next to the run, and a second run that sends nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from web3 import Web3

from chain_client.apps.scenario import cli
from tests.rpc.conftest import HARDHAT_KEY, hardhat_url

__all__ = ["hardhat_url"]  # the node fixture, shared with tests/rpc

ROOT = Path(__file__).resolve().parents[1]
LATE = ROOT / "scripts" / "scenarios" / "late_payment.yaml"

pytestmark = pytest.mark.rpc


def test_a_scenario_runs_on_a_node_and_a_second_run_sends_nothing(
    hardhat_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCF_OPERATOR_KEY", HARDHAT_KEY)
    journal = tmp_path / "late.journal.json"
    args = [str(LATE), "--rpc", hardhat_url, "--journal", str(journal), "--quiet", "--json", str(tmp_path / "s.json")]
    assert cli.main(args) == 0
    assert journal.exists()
    node = Web3(Web3.HTTPProvider(hardhat_url))
    block = node.eth.block_number

    assert cli.main(args) == 0

    assert node.eth.block_number == block
    assert "nothing was sent" in capsys.readouterr().err
