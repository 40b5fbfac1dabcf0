"""Real JSON-RPC nodes for the `rpc` tests, each on a free port, started once per session and stopped at the end:
`npx hardhat node` (hardhat 2, cancun) and anvil (Foundry's node, npm `@foundry-rs/anvil-linux-amd64`), which
both fund the same well-known development accounts. `node_url` runs a test on each. The tests here are marked
`rpc` (deselect with `-m 'not rpc'`); `make test` runs them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain_client import Role, ScfClient, accounts_of, connect, deploy_all, new_account

ROOT = Path(__file__).resolve().parents[2]
HARDHAT = ROOT / "node_modules" / ".bin" / "hardhat"
ANVIL = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
# Hardhat's well-known development keys (mnemonic "test test ... junk"): public knowledge, funded only on a
# local hardhat or anvil node. The tests sign with the first one and fund fresh accounts from it.
HARDHAT_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
HARDHAT_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
STARTUP_TIMEOUT = 60.0
ANVIL_GAS_LIMIT = 300_000_000
# How large runs start anvil (tests/test_scenario_stress.py, docs/benchmarks.md): big blocks, mined on demand.
ANVIL_LARGE_RUN_FLAGS = ("--gas-limit", str(ANVIL_GAS_LIMIT), "--no-mining")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rpc(url: str, method: str, params: list[object] | None = None, timeout: float = 2.0) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())["result"]


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the node exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            if rpc(url, "eth_chainId") == hex(31337):
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the node did not answer within {STARTUP_TIMEOUT:g} s:\n{log.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)  # its own process group: npx's launcher and the node process
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _node(command: list[str], log: Path) -> Iterator[str]:
    """Start `command` (which takes the port appended) and yield its URL once it answers; stop it afterwards."""
    port = free_port()
    env = {**os.environ, "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*command, str(port)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc, log)
        yield url
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def hardhat_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a hardhat node started for this session."""
    if not HARDHAT.exists():
        pytest.fail(f"{HARDHAT} is missing: run `npm ci` (make test does) to install hardhat")
    log = tmp_path_factory.mktemp("hardhat") / "node.log"
    yield from _node([str(HARDHAT), "node", "--hostname", "127.0.0.1", "--port"], log)


@pytest.fixture(scope="session")
def anvil_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of an anvil node started for this session (automine, a base fee, the development accounts). Blocks of
    300M gas, as a consortium chain sets its own: anvil's cost per block grows with the state, so a large run
    (tests/test_scenario_stress.py) goes several times faster in fewer, bigger blocks."""
    if not ANVIL.exists():
        pytest.fail(f"{ANVIL} is missing: run `npm ci` (make test does) to install anvil")
    log = tmp_path_factory.mktemp("anvil") / "node.log"
    yield from _node([str(ANVIL), "--host", "127.0.0.1", "--gas-limit", str(ANVIL_GAS_LIMIT), "--port"], log)


@pytest.fixture(scope="session")
def anvil_on_demand_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of an anvil node that mines only when asked (`--no-mining`), as large runs start it: the client
    (`Transactor.mines_on_demand`) mines one block per window of transactions, or per single send. anvil's cost
    per block grows with its state, so fewer blocks keep a large run's rate flat (docs/benchmarks.md)."""
    if not ANVIL.exists():
        pytest.fail(f"{ANVIL} is missing: run `npm ci` (make test does) to install anvil")
    log = tmp_path_factory.mktemp("anvil-on-demand") / "node.log"
    yield from _node([str(ANVIL), *ANVIL_LARGE_RUN_FLAGS, "--host", "127.0.0.1", "--port"], log)


@pytest.fixture(params=["hardhat", "anvil"])
def node_url(request: pytest.FixtureRequest) -> str:
    """The URL of each node in turn: a test that takes it runs on hardhat and on anvil."""
    return str(request.getfixturevalue(f"{request.param}_url"))


def hardhat_w3(url: str) -> Web3:
    w3 = connect(url, keys=[HARDHAT_KEY])
    assert accounts_of(w3)[0].address == HARDHAT_ADDRESS
    return w3


class World:
    """A fresh deployment on the node with a core enterprise and three suppliers, funded for gas."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.w3 = hardhat_w3(url)
        self.operator: LocalAccount = accounts_of(self.w3)[0]
        self.scf = ScfClient(self.w3, deploy_all(self.w3, self.operator))
        self.core, self.s1, self.s2, self.s3, self.financier = (new_account(self.w3, fund_wei=10**19) for _ in range(5))
        admit = self.scf.membership.admit
        admit(self.operator, self.core.address, Role.CORE_ENTERPRISE)
        for s in (self.s1, self.s2, self.s3):
            admit(self.operator, s.address, Role.SUPPLIER)
        admit(self.operator, self.financier.address, Role.FINANCIER)
        self.scf.receivables.set_credit_line(self.operator, self.core.address, 10**13)


@pytest.fixture
def world(hardhat_url: str) -> World:
    return World(hardhat_url)
