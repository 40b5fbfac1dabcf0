"""The platform on four geth nodes sealing by Clique: deploy through node 1, run hubei_auto.yaml sending to nodes
1 and 2, crash node 1 (a signer, and the node the run sends to) in the middle: the other three keep sealing, the
run fails over to node 2 and completes; node 1 restarts and catches up; the event index read from node 4 equals
the state of every node (`scf reconcile` against each).

hubei_auto.yaml runs up to its first maturity: the clock of a real network is the wall clock, and its receivables
mature in 120 to 180 days. Repayment at maturity runs on the development chains that can move time (the embedded
chain, hardhat, anvil: tests/test_scenario_rpc.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from eth_account import Account
from web3 import HTTPProvider, Web3

from chain_client.apps import cli
from chain_client.apps.scenario.session import Outcome, RunOptions, run_scenario
from chain_client.network import FailoverProvider, geth
from chain_client.network.keys import DEV_DEPLOYER_KEY

pytestmark = pytest.mark.network

ROOT = Path(__file__).resolve().parents[2]
HUBEI = ROOT / "scripts" / "scenarios" / "hubei_auto.yaml"
WAIT = 600.0  # seconds any one wait below may take before the test fails (a stalled network)
MID_RUN_NONCE = 60  # the operator's transactions when node 1 is killed: 4 deployments, then the set-up's


def until_maturity(path: Path, out: Path) -> Path:
    """The scenario's steps before its first maturity, without moving the clock: every tier, every financing."""
    data = yaml.safe_load(path.read_text())
    steps: list[dict[str, Any]] = []
    for step in data["steps"]:
        if "advance" in step:
            if "to_maturity_of" in step["advance"]:
                break
            continue  # days between steps: on a real network they are simply the time the run takes
        steps.append(step)
    data["steps"] = steps
    data["name"] += " (up to the first maturity)"
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return out


def node(url: str) -> Web3:
    return Web3(HTTPProvider(url, request_kwargs={"timeout": 5}, exception_retry_configuration=None))


def head(url: str) -> int:
    """A node's latest block number; -1 while it does not answer (starting up)."""
    try:
        return node(url).eth.block_number
    except OSError:
        return -1


def wait_for(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.3)


def test_hubei_runs_through_a_signer_crash_and_every_node_agrees_with_the_index(
    clique: geth.CliqueNetwork, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCF_OPERATOR_KEY", DEV_DEPLOYER_KEY)
    n1, n2, _, n4 = clique.nodes
    scenario = until_maturity(HUBEI, tmp_path / "hubei_until_maturity.yaml")
    journal = tmp_path / "hubei.journal.json"
    outcomes: list[Outcome] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            outcomes.append(run_scenario(scenario, RunOptions(rpc=f"{n1.url},{n2.url}", journal=journal, quiet=True)))
        except BaseException as exc:  # handed to the test's thread
            errors.append(exc)

    runner = threading.Thread(target=run, name="hubei on clique")
    runner.start()
    try:
        # Mid-run: the deployment and a good part of the set-up (funding and admitting 58 members) are on chain.
        operator = Account.from_key(DEV_DEPLOYER_KEY).address

        def under_way() -> bool:
            return node(n4.url).eth.get_transaction_count(operator) >= MID_RUN_NONCE or not runner.is_alive()

        wait_for("the run to be under way", under_way)
        assert runner.is_alive(), errors
        geth.stop_node(clique, n1, kill=True)  # a crash: SIGKILL, no clean shutdown
        watcher = node(n4.url)
        crashed_at = watcher.eth.block_number

        # Three signers keep sealing: each may seal one block in any three, so they take turns.
        wait_for("six blocks after the crash", lambda: watcher.eth.block_number >= crashed_at + 6)
        sealers = {geth.signer_of(watcher, b) for b in range(crashed_at + 1, crashed_at + 7)}
        assert sealers == {n.signer for n in clique.nodes if n is not n1}
    finally:
        runner.join()
    if errors:
        raise errors[0]
    (outcome,) = outcomes
    assert [c.name for c in outcome.summary.checks if not c.passed] == []
    provider = outcome.w3.provider
    assert isinstance(provider, FailoverProvider)
    assert provider.failovers >= 1  # it went on through node 2
    assert provider.endpoint_uri == n2.url

    # Node 1 comes back and catches up with the others.
    geth.start_node(clique, n1)
    top = watcher.eth.block_number
    wait_for("node 1 to catch up", lambda: head(n1.url) >= top)

    # The index, read from node 4 with the network's confirmations, equals the state of every node.
    deployment = tmp_path / "deployment.json"
    outcome.record.save(deployment)
    index = str(tmp_path / "index.sqlite")
    common = ["--deployment", str(deployment), "--index", index]
    confirmations = str(clique.confirmations)
    assert cli.main(["index", "--rpc", n4.url, *common, "--confirmations", confirmations]) == 0
    for n in clique.nodes:
        wait_for(f"{n.name} to reach the indexed block", lambda url=n.url: head(url) >= top)  # type: ignore[misc]
        assert cli.main(["reconcile", "--rpc", n.url, *common]) == 0, n.name
