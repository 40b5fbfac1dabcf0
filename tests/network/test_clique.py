"""The platform on four geth nodes sealing by Clique: deploy through node 1, run hubei_auto.yaml sending to nodes
1 and 2, crash node 1 (a signer, and the node the run sends to) in the middle: the other three keep sealing, the
run fails over to node 2 and completes; node 1 restarts and catches up; the event index read from node 4 equals
the state of every node (`scf reconcile` against each). Then a real reorganisation: node 1, cut off, seals a block
of its own that an index reading it takes in, and drops it when it rejoins; the index rewinds (`reorganise`).

hubei_auto.yaml runs up to its first maturity: the clock of a real network is the wall clock, and its receivables
mature in 120 to 180 days. Repayment at maturity runs on the development chains that can move time (the embedded
chain, hardhat, anvil: tests/test_scenario_rpc.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from eth_account import Account
from web3 import HTTPProvider, Web3

from chain_client import ScfClient, accounts_of, connect, load_contracts
from chain_client.apps import cli
from chain_client.apps.scenario.session import Outcome, RunOptions, run_scenario
from chain_client.index import EventIndex, Indexer, reconcile
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


def admin(url: str, method: str, enode: str) -> None:
    assert node(url).provider.make_request(method, [enode])["result"] is True  # type: ignore[arg-type]


def wait_for(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.3)


def test_hubei_runs_through_a_signer_crash_and_every_node_agrees_with_the_index(
    clique: geth.CliqueNetwork, geth_binary: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
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

    # Node 1 comes back: `up` returns once it has caught up with the others and sealed again.
    geth.up(clique.directory, names=[n1.name], timeout=WAIT, geth=geth_binary)
    top = watcher.eth.block_number

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

    reorganise(clique, outcome, tmp_path)


def reorganise(clique: geth.CliqueNetwork, outcome: Outcome, tmp_path: Path) -> None:
    """A reorganisation, for real: node 1, cut off from its peers, seals a block of its own, which an index reading
    node 1 with no confirmations takes in; a transaction sent to node 1 meanwhile waits in its pool (alone, node 1
    may seal no second block: four signers may each seal one block in any three). The other three seal on, past
    node 1's fork in total difficulty. Reconnected, node 1 adopts their heavier chain (its block is dropped), the
    transaction reaches that chain, and the index's next sync finds its last block gone, rewinds and reads the
    transaction's event where it now is."""
    n1, *others = clique.nodes
    n4 = others[-1]

    def connected(yes: bool) -> None:
        for n in others:
            admin(n1.url, "admin_addPeer" if yes else "admin_removePeer", n.enode)
            admin(n.url, "admin_addPeer" if yes else "admin_removePeer", n1.enode)

    def cut_off() -> bool:
        connected(False)  # again on each look: a connection being dialled when it was cut may complete after
        return bool(node(n1.url).net.peer_count == 0)

    def forked() -> int | None:
        """Cut node 1 off; the number of a block node 1 then seals alone, once the others have sealed three blocks
        from where node 1 was cut off (strictly heavier than anything node 1 can seal alone) and none of them has
        node 1's block; None if node 1 did not seal within a few seconds (it sealed one of the two blocks before)."""
        wait_for("node 1 to be alone", cut_off)
        cut_at = head(n1.url)  # read after the cut: a block above it can only be node 1's own
        deadline = time.monotonic() + 6  # a block period and Clique's out-of-turn delay, with room
        while head(n1.url) <= cut_at:
            if time.monotonic() > deadline:
                return None
            time.sleep(0.3)
        orphan_number = cut_at + 1
        orphan = geth.block_hash(n1, orphan_number)
        assert geth.signer_of(node(n1.url), orphan_number) == n1.signer
        wait_for("the others to seal three blocks", lambda: head(n4.url) >= cut_at + 3)
        theirs = geth.block_hash(n4, orphan_number)
        if node(n1.url).net.peer_count == 0 and theirs not in (None, orphan):
            return orphan_number
        return None  # a connection slipped through and node 1's block went out: not an orphan, try again

    for _ in range(10):
        orphan_number = forked()
        if orphan_number is not None:
            break
        connected(True)  # let the others seal on with node 1 among them, and try again
        now = head(n4.url)
        wait_for("node 1 back among the others", lambda: node(n1.url).net.peer_count == len(others))
        wait_for("three more blocks", lambda now=now: min(head(n4.url), head(n1.url)) >= now + 3)  # type: ignore[misc]
    else:
        pytest.fail("node 1 never sealed a block alone")
    orphan = geth.block_hash(n1, orphan_number)
    assert head(n1.url) == orphan_number  # and it can seal no other

    alone = connect(n1.url, keys=[DEV_DEPLOYER_KEY])
    scf = ScfClient(alone, load_contracts(alone, outcome.record))
    operator = accounts_of(alone)[0]
    mint = scf.cash.contract.functions.mint(operator.address, 1).build_transaction(
        {  # type: ignore[arg-type]
         "from": operator.address, "nonce": alone.eth.get_transaction_count(operator.address, "pending"),
         "gas": 200_000, "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9, "chainId": clique.chain_id}
    )  # fmt: skip
    tx_hash = alone.eth.send_raw_transaction(operator.sign_transaction(cast(Any, mint)).raw_transaction)  # node 1 only

    reorg_index = EventIndex(str(tmp_path / "reorg-index.sqlite"))
    indexer = Indexer(reorg_index, alone, outcome.record, confirmations=0)
    assert indexer.sync().to_block == orphan_number

    connected(True)
    wait_for("node 1 to drop its own block", lambda: geth.block_hash(n1, orphan_number) not in (None, orphan))
    receipt = connect(n4.url).eth.wait_for_transaction_receipt(tx_hash, timeout=WAIT)
    wait_for("node 1 to have the mint", lambda: head(n1.url) >= receipt["blockNumber"])
    report = indexer.sync()
    assert report.rewound_to is not None
    assert report.rewound_to < orphan_number
    synced = reorg_index.synced_block
    assert synced is not None
    assert synced >= receipt["blockNumber"]
    for n in clique.nodes:
        wait_for(f"{n.name} to reach block {synced}", lambda url=n.url: head(url) >= synced)  # type: ignore[misc]
        checked = ScfClient(w3 := connect(n.url), load_contracts(w3, outcome.record))
        assert reconcile(reorg_index, checked) == [], n.name
