"""`scf` across processes against hardhat and anvil: deploy, index (once and --follow), tree, reconcile, demo."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from chain_client import DeploymentRecord, Role, ScfClient, load_contracts, new_account
from chain_client.chain import chain_of
from chain_client.devchain import now
from tests.rpc.conftest import HARDHAT_KEY, ROOT, hardhat_w3
from tests.test_cli import SCF, fails_in_one_line, scf

pytestmark = pytest.mark.rpc


def env_with_key() -> dict[str, str]:
    return {**os.environ, "SCF_OPERATOR_KEY": HARDHAT_KEY}


def test_deploy_index_tree_and_reconcile_across_processes(node_url: str, tmp_path: Path) -> None:
    deployment, index = tmp_path / "deployment.json", tmp_path / "index.sqlite"
    run = scf("deploy", "--rpc", node_url, "--out", str(deployment), env=env_with_key())
    assert run.returncode == 0, run.stderr
    record = DeploymentRecord.load(deployment)
    assert record.chain_id == 31337

    # Business happens elsewhere, through the client.
    w3 = hardhat_w3(node_url)
    client = ScfClient(w3, load_contracts(w3, record))
    operator = chain_of(w3).accounts[record.operator]
    core, s1, s2 = (new_account(w3, fund_wei=10**19) for _ in range(3))
    client.membership.admit(operator, core.address, Role.CORE_ENTERPRISE)
    for s in (s1, s2):
        client.membership.admit(operator, s.address, Role.SUPPLIER)
    client.receivables.set_credit_line(operator, core.address, 10**12)
    issued = client.receivables.issue(core, s1.address, 800_00, now(w3) + 86400 * 20, os.urandom(32))
    client.receivables.accept(s1, issued.token_id)
    client.receivables.transfer_value(s1, issued.token_id, s2.address, 300_00)

    common = ["--rpc", node_url, "--deployment", str(deployment), "--index", str(index)]
    run = scf("index", *common)
    assert run.returncode == 0, run.stderr
    assert "indexed blocks" in run.stdout

    tree = scf("tree", hex(issued.slot), "--index", str(index))
    assert tree.returncode == 0, tree.stderr
    assert f"#2  tier 2  {s2.address}  ¥300.00" in tree.stdout

    agree = scf("reconcile", *common)
    assert agree.returncode == 0, agree.stdout + agree.stderr
    assert "index and chain agree" in agree.stdout

    with sqlite3.connect(index) as db:
        db.execute("UPDATE fragments SET value = value - 1 WHERE sequence = 2")
    differ = scf("reconcile", *common)
    assert differ.returncode == 1
    assert "fragment" in differ.stdout
    assert "value is 29999 in the index, 30000 on chain" in differ.stdout

    wrong = fails_in_one_line(scf("index", "--rpc", "http://127.0.0.1:9", "--deployment", str(deployment)))
    assert "no JSON-RPC node answers at http://127.0.0.1:9" in wrong


def cursor_of(index: Path) -> str | None:
    try:
        with sqlite3.connect(index) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'cursor'").fetchone()
    except sqlite3.OperationalError:  # not created yet
        return None
    return None if row is None else str(row[0])


def test_index_follow_stops_cleanly_on_ctrl_c(node_url: str, tmp_path: Path) -> None:
    deployment, index = tmp_path / "deployment.json", tmp_path / "index.sqlite"
    assert scf("deploy", "--rpc", node_url, "--out", str(deployment), env=env_with_key()).returncode == 0
    where = ["--rpc", node_url, "--deployment", str(deployment), "--index", str(index)]
    follow = subprocess.Popen(
        [str(SCF), "index", "--follow", "--interval", "0.1", *where],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # wait until it has indexed the deployment
            if index.exists() and cursor_of(index) is not None:
                break
            time.sleep(0.1)
        follow.send_signal(signal.SIGINT)
        out, err = follow.communicate(timeout=30)
    finally:
        if follow.poll() is None:
            follow.kill()
    assert follow.returncode == 0, err
    assert "Traceback" not in err
    assert "stopped at block" in out


def test_the_demo_against_a_node_leaves_a_deployment_and_an_index(node_url: str, tmp_path: Path) -> None:
    deployment, index = tmp_path / "deployment.json", tmp_path / "demo.sqlite"
    run = scf("demo", "--rpc", node_url, "--index", str(index), "--out", str(deployment), env=env_with_key())
    assert run.returncode == 0, run.stderr
    assert "#6  tier 3  Jiangxia Packaging  ¥50,000.00" in run.stdout
    agree = scf("reconcile", "--rpc", node_url, "--deployment", str(deployment), "--index", str(index), "--sync")
    assert agree.returncode == 0, agree.stdout + agree.stderr
    no_key = scf("demo", "--rpc", node_url, env={k: v for k, v in os.environ.items() if k != "SCF_OPERATOR_KEY"})
    assert "SCF_OPERATOR_KEY" in fails_in_one_line(no_key)
