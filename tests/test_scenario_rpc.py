"""`scf scenario FILE --rpc URL` on real JSON-RPC nodes (hardhat and anvil, started by tests/rpc/conftest.py's
fixtures): the operator's key from the environment, the journal next to the run, and a second run that sends
nothing; on anvil, which charges a base fee, members are funded for gas at the fees it reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from web3 import Web3

from chain_client.apps.scenario import cli
from tests.rpc.conftest import HARDHAT_KEY, anvil_url, hardhat_url, node_url

__all__ = ["anvil_url", "hardhat_url", "node_url"]  # the node fixtures, shared with tests/rpc

ROOT = Path(__file__).resolve().parents[1]
LATE = ROOT / "scripts" / "scenarios" / "late_payment.yaml"
HUBEI = ROOT / "scripts" / "scenarios" / "hubei_auto.yaml"

pytestmark = pytest.mark.rpc


def test_a_scenario_runs_on_a_node_and_a_second_run_sends_nothing(
    node_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCF_OPERATOR_KEY", HARDHAT_KEY)
    journal = tmp_path / "late.journal.json"
    args = [str(LATE), "--rpc", node_url, "--journal", str(journal), "--quiet", "--json", str(tmp_path / "s.json")]
    assert cli.main(args) == 0
    assert journal.exists()
    node = Web3(Web3.HTTPProvider(node_url))
    block = node.eth.block_number

    assert cli.main(args) == 0

    assert node.eth.block_number == block
    assert "nothing was sent" in capsys.readouterr().err


def test_the_demo_scenario_runs_on_anvil_with_members_funded_at_the_fees_it_reports(
    anvil_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCF_OPERATOR_KEY", HARDHAT_KEY)
    node = Web3(Web3.HTTPProvider(anvil_url))
    assert node.eth.get_block("latest")["baseFeePerGas"] > 0  # anvil charges for gas
    journal = tmp_path / "hubei.journal.json"
    summary = tmp_path / "s.json"
    args = [str(HUBEI), "--rpc", anvil_url, "--journal", str(journal), "--quiet", "--json", str(summary)]
    assert cli.main(args) == 0
    checks = json.loads(summary.read_text())["checks"]
    assert [c["name"] for c in checks if c["passed"]] == [c["name"] for c in checks]
    assert len(checks) == 4
