"""`scf scenario FILE --rpc URL` on real JSON-RPC nodes (hardhat and anvil, started by tests/rpc/conftest.py's
fixtures): the operator's key from the environment, the journal next to the run, and a second run that sends
nothing; on anvil, which charges a base fee, members are funded for gas at the fees it reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from chain_client import connect
from chain_client.apps.scenario import cli, ops
from chain_client.apps.scenario.runner import StepFailed
from chain_client.apps.scenario.session import RunOptions, run_scenario
from chain_client.tx import Transactor
from tests.rpc.conftest import HARDHAT_KEY, anvil_on_demand_url, anvil_url, hardhat_url, node_url

__all__ = ["anvil_on_demand_url", "anvil_url", "hardhat_url", "node_url"]  # the node fixtures, shared with tests/rpc

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


class Crash(Exception):
    """The process dies here (in the test: an exception the runner does not expect)."""


@pytest.mark.parametrize("window", [1, 3])
def test_a_pipelined_run_on_anvil_that_stopped_after_a_window_was_sent_resumes_without_repeating_anything(
    anvil_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    """The window's transactions are mined, then the process dies before recording them: the journal's
    `in_flight_to` makes the next run ask the chain about each of those steps' operations."""
    w3 = connect(anvil_url, keys=[HARDHAT_KEY])
    journal = tmp_path / "hubei.journal.json"
    original = Transactor.transact_many
    calls = 0

    def transact_many(self: Transactor, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        receipts = original(self, *args, **kwargs)
        if calls == window:
            raise Crash("crashed after a window's receipts came, before the journal recorded them")
        return receipts

    monkeypatch.setattr(Transactor, "transact_many", transact_many)
    with pytest.raises(StepFailed) as failed:
        run_scenario(HUBEI, RunOptions(journal=journal, quiet=True), w3=w3)
    assert isinstance(failed.value.cause, Crash)
    in_flight = json.loads(journal.read_text())["in_flight_to"]
    assert in_flight is not None
    assert in_flight >= failed.value.step.number
    monkeypatch.undo()

    outcome = run_scenario(HUBEI, RunOptions(journal=journal, quiet=True), w3=w3)

    assert outcome.summary.passed, [c.failures for c in outcome.summary.checks]  # cash = the dry run, to the fen
    assert json.loads(journal.read_text())["in_flight_to"] is None


def test_on_an_anvil_the_client_mines_financings_and_splits_by_several_holders_share_blocks(
    anvil_on_demand_url: str, tmp_path: Path
) -> None:
    """Where the node keeps a window's order (`Transactor.keeps_order`), a window holds operations that depend on
    another sender's just before (a bank funds value the seller was paid a moment earlier): the demo's financings
    and splits go out in a few blocks rather than one block each, and every check still holds."""
    w3 = connect(anvil_on_demand_url, keys=[HARDHAT_KEY])
    start = w3.eth.block_number

    outcome = run_scenario(HUBEI, RunOptions(journal=tmp_path / "hubei.journal.json", quiet=True), w3=w3)

    assert outcome.summary.passed, [c.failures for c in outcome.summary.checks]
    financed = outcome.scf.financing.contract.events.Financed.get_logs(from_block=start + 1)
    assert len(financed) == outcome.plan.count(ops.Finance) == 9
    assert len({log["blockNumber"] for log in financed}) == 2  # one block each when windows kept to one sender's order
    blocks = w3.eth.block_number - start - outcome.stats.deploy_transactions  # the deployment: a block a contract
    assert blocks == 16  # 58 when windows kept to one sender's order, repayments, settlements and settings apart
    assert outcome.stats.transactions == 136
