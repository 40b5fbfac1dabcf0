"""A Clique (EIP-225 proof of authority) network of real go-ethereum nodes on this machine.

`init_clique` writes the network's directory: `network.json` (chain id, nodes, ports, signers), `genesis.json`,
and per node a data directory with its p2p node key, its signer's encrypted key and password, and a config file
naming the other nodes as static peers (loopback only, no discovery). `up` initialises each data directory with
the genesis on first start, starts every node that is not running (one process each: log `node.log`, pid
`geth.pid`), and waits until blocks sealed by every signer have reached every node. `down` stops them.

geth v1.13.15 is the last release that seals Clique blocks (v1.14 removed it); Clique refuses the Shanghai and
Cancun forks, so the genesis stops at London (the contracts target `paris`, whose only change over London is the
meaning of DIFFICULTY, unused here). With N signers each may seal at most one block in any ⌊N/2⌋+1 in a row: four
signers keep sealing with three, not with two.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from web3 import HTTPProvider, Web3

from chain_client.network import keys
from chain_client.network.errors import (
    BadNetworkSize,
    GethNotFound,
    NetworkDirectoryTaken,
    NodeDidNotStart,
    NodesDidNotJoin,
    NotANetworkDirectory,
    PortTaken,
    SealingStalled,
)

GETH_VERSION = "1.13.15"
ENGINE = "clique"
DEFAULT_CHAIN_ID = 20_2612  # any id not used by a public chain; hardhat's 31337 would let tools move the clock
DEFAULT_PERIOD = 1
DEFAULT_HTTP_PORT = 8545
DEFAULT_P2P_PORT = 30303
AUTHRPC_OFFSET = 100  # geth serves its Engine API on another port even without a beacon client: http port + 100
GAS_LIMIT = 30_000_000
FUND_WEI = 10**27  # a billion ether each: gas on a development network is never the thing that runs out
MANIFEST = "network.json"
PASSWORD_FILE = "password.txt"
LOG_FILE = "node.log"
PID_FILE = "geth.pid"
# Loopback only. `up` unlocks each signer (personal) and restarts its sealing (miner) once its node has joined.
HTTP_APIS = "eth,net,web3,txpool,clique,admin,miner,personal"
MAX_SIGNERS = 16


# ---------------------------------------------------------------------------------------------- the binary


def geth_cache_dir() -> Path:
    """Where `make geth` installs geth v1.13.15: $XDG_CACHE_HOME (or ~/.cache)/scf/geth-1.13.15."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "scf" / f"geth-{GETH_VERSION}"


def find_geth() -> Path:
    """$SCF_GETH, else the cached build, else a geth 1.13.x on PATH; `GethNotFound` otherwise."""
    candidates: list[str] = []
    if env := os.environ.get("SCF_GETH"):
        candidates.append(env)
    candidates.append(str(geth_cache_dir() / "geth"))
    if on_path := shutil.which("geth"):
        candidates.append(on_path)
    for c in candidates:
        if Path(c).is_file() and os.access(c, os.X_OK) and _is_1_13(c):
            return Path(c)
    raise GethNotFound(candidates)


def _is_1_13(binary: str) -> bool:
    try:
        out = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=30, check=False).stdout
    except OSError:
        return False
    return "Version: 1.13." in out


# ---------------------------------------------------------------------------------------------- the directory


@dataclass(frozen=True)
class Node:
    name: str
    signer: str  # the address this node seals with
    http_port: int
    p2p_port: int
    authrpc_port: int
    enode: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


@dataclass
class CliqueNetwork:
    """A network's directory and what `network.json` says about it."""

    directory: Path
    chain_id: int
    period: int
    nodes: list[Node]
    funded: list[str] = field(default_factory=list)
    engine: str = ENGINE
    geth_version: str = GETH_VERSION

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    @property
    def confirmations(self) -> int:
        """Blocks an index should wait for: Clique can reorganise a tail shorter than ⌊N/2⌋+1 blocks, sealed out
        of turn by signers that did not see each other's block in time."""
        return len(self.nodes) // 2 + 1

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(f"no node {name!r} in {self.directory} (nodes: {', '.join(n.name for n in self.nodes)})")

    def datadir(self, node: Node) -> Path:
        return self.directory / node.name

    def save(self) -> None:
        data = {k: v for k, v in asdict(self).items() if k != "directory"}
        (self.directory / MANIFEST).write_text(json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, directory: str | Path) -> CliqueNetwork:
        directory = Path(directory)
        path = directory / MANIFEST
        if not path.is_file():
            raise NotANetworkDirectory(directory)
        data = json.loads(path.read_text())
        if data.get("engine") != ENGINE:
            raise NotANetworkDirectory(directory)
        nodes = [Node(**n) for n in data.pop("nodes")]
        return cls(directory=directory, nodes=nodes, **data)


def clique_extra_data(signers: Sequence[str]) -> str:
    """Clique's genesis extraData: 32 bytes of vanity, the signers' addresses in ascending order, 65 zero bytes
    where a block's seal goes."""
    ordered = sorted(signers, key=lambda a: int(a, 16))
    return "0x" + "00" * 32 + "".join(a[2:].lower() for a in ordered) + "00" * 65


def clique_genesis(chain_id: int, period: int, signers: Sequence[str], funded: Iterable[str]) -> dict[str, Any]:
    """A genesis with every fork up to London at block 0 and none after: no Shanghai or Cancun, which Clique
    refuses, and no terminal total difficulty (no merge: the signers seal for good)."""
    forks = [
        "homestead",
        "eip150",
        "eip155",
        "eip158",
        "byzantium",
        "constantinople",
        "petersburg",
        "istanbul",
        "muirGlacier",
        "berlin",
        "london",
        "arrowGlacier",
        "grayGlacier",
    ]
    config: dict[str, Any] = {"chainId": chain_id, **{f"{f}Block": 0 for f in forks}}
    config["clique"] = {"period": period, "epoch": 30_000}
    alloc = {a[2:].lower(): {"balance": hex(FUND_WEI)} for a in [*signers, *funded]}
    return {
        "config": config,
        "nonce": "0x0",
        "timestamp": hex(int(time.time())),
        "extraData": clique_extra_data(signers),
        "gasLimit": hex(GAS_LIMIT),
        "difficulty": "0x1",
        "mixHash": "0x" + "00" * 32,
        "coinbase": "0x" + "00" * 20,
        "alloc": alloc,
    }


def init_clique(
    out: str | Path,
    *,
    signers: int = 4,
    chain_id: int = DEFAULT_CHAIN_ID,
    period: int = DEFAULT_PERIOD,
    http_port: int = DEFAULT_HTTP_PORT,
    p2p_port: int = DEFAULT_P2P_PORT,
    fund: Sequence[str] = (keys.DEV_DEPLOYER,),
) -> CliqueNetwork:
    """Write a new network of `signers` nodes, every one a signer, into the empty or new directory `out`.

    Node i (from 0) serves JSON-RPC on `http_port + i`, its p2p on `p2p_port + i`, geth's Engine API on
    `http_port + 100 + i`. `fund` are the accounts with ether at genesis besides the signers (by default the
    well-known development deployer, so `scf deploy` works as the docs show)."""
    if not 1 <= signers <= MAX_SIGNERS:
        raise BadNetworkSize(ENGINE, signers, 1, MAX_SIGNERS)
    directory = Path(out)
    if directory.exists() and any(directory.iterdir()):
        raise NetworkDirectoryTaken(directory)
    directory.mkdir(parents=True, exist_ok=True)
    nodes: list[Node] = []
    for i in range(signers):
        name = f"node{i + 1}"
        datadir = directory / name
        signer_key, node_key = keys.new_key(), keys.new_key()
        password = keys.new_key()[2:]
        keys.write_private(datadir / PASSWORD_FILE, password + "\n")
        keys.write_keystore(datadir / "keystore", signer_key, password)
        keys.write_private(datadir / "geth" / "nodekey", node_key[2:])
        nodes.append(
            Node(
                name=name,
                signer=keys.address_of(signer_key),
                http_port=http_port + i,
                p2p_port=p2p_port + i,
                authrpc_port=http_port + AUTHRPC_OFFSET + i,
                enode=keys.enode(node_key, "127.0.0.1", p2p_port + i),
            )
        )
    for node in nodes:
        peers = [n.enode for n in nodes if n is not node]
        (directory / node.name / "config.toml").write_text(
            "# Static peers on loopback (no discovery): every other node of the network.\n"
            "[Node.P2P]\nStaticNodes = [\n" + "".join(f'  "{e}",\n' for e in peers) + "]\n"
        )
    funded = list(dict.fromkeys(fund))
    genesis = clique_genesis(chain_id, period, [n.signer for n in nodes], funded)
    (directory / "genesis.json").write_text(json.dumps(genesis, indent=2) + "\n")
    network = CliqueNetwork(directory, chain_id, period, nodes, funded)
    network.save()
    return network


# ---------------------------------------------------------------------------------------------- processes

_STARTED: dict[int, subprocess.Popen[bytes]] = {}  # processes this Python process started (reaped on stop)


def node_command(network: CliqueNetwork, node: Node, geth: Path) -> list[str]:
    datadir = network.datadir(node).resolve()
    return [
        str(geth),
        "--datadir", str(datadir),
        "--config", str(datadir / "config.toml"),
        "--networkid", str(network.chain_id),
        "--state.scheme", "hash",
        "--syncmode", "full",
        "--gcmode", "archive",  # state at every block: reconcile reads the state at the index's block
        "--cache", "128",
        "--port", str(node.p2p_port),
        "--nodiscover", "--nat", "none",
        "--ipcdisable",
        "--http", "--http.addr", "127.0.0.1", "--http.port", str(node.http_port), "--http.api", HTTP_APIS,
        "--authrpc.addr", "127.0.0.1", "--authrpc.port", str(node.authrpc_port),
        # Mining from the start, which also lets the node take in the blocks its peers propagate (until it mines or
        # has synced, geth drops them), but with the signer's key locked: it seals nothing until `up` unlocks it.
        "--mine", "--miner.etherbase", node.signer, "--allow-insecure-unlock",
        "--verbosity", "3",
    ]  # fmt: skip


def pid_of(network: CliqueNetwork, node: Node) -> int | None:
    """The pid of `node`'s running geth, or None. A stale pid file (the process ended, or the pid now belongs to
    another program) counts as not running."""
    path = network.datadir(node) / PID_FILE
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _is_our_geth(pid, network.datadir(node)) else None


def _is_our_geth(pid: int, datadir: Path) -> bool:
    if (popen := _STARTED.get(pid)) is not None:  # started here: it may not have exec'd geth yet
        return popen.poll() is None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z" and str(datadir.resolve()).encode() in cmdline


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start_node(network: CliqueNetwork, node: Node, geth: Path | None = None) -> int:
    """Start `node` (initialising its data directory with the genesis the first time); returns its pid."""
    if (pid := pid_of(network, node)) is not None:
        return pid
    geth = geth or find_geth()
    datadir = network.datadir(node)
    for port in (node.http_port, node.p2p_port, node.authrpc_port):
        if not _port_free(port):
            raise PortTaken(node.name, port)
    log = datadir / LOG_FILE
    if not (datadir / "geth" / "chaindata").exists():
        init = subprocess.run(
            [str(geth), "--datadir", str(datadir.resolve()), "--state.scheme", "hash", "init",
             str((network.directory / "genesis.json").resolve())],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        with log.open("a") as f:
            f.write(init.stdout + init.stderr)
        if init.returncode != 0:
            raise NodeDidNotStart(node.name, log, _tail(log))
    with log.open("ab") as out:
        popen = subprocess.Popen(
            node_command(network, node, geth),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: Ctrl-C in the terminal that ran `up` leaves it running
        )
    _STARTED[popen.pid] = popen
    (datadir / PID_FILE).write_text(f"{popen.pid}\n")
    return popen.pid


def stop_node(network: CliqueNetwork, node: Node, *, kill: bool = False, timeout: float = 30.0) -> bool:
    """Stop `node`: SIGTERM and wait (geth closes its database), or SIGKILL at once with `kill=True` (a crash).
    Returns False if it was not running."""
    pid = pid_of(network, node)
    if pid is None:
        return False
    os.kill(pid, signal.SIGKILL if kill else signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _is_our_geth(pid, network.datadir(node)):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + timeout
        _reap(pid)
        time.sleep(0.1)
    _reap(pid)
    (network.datadir(node) / PID_FILE).unlink(missing_ok=True)
    return True


def _reap(pid: int) -> None:
    popen = _STARTED.get(pid)
    if popen is not None and popen.poll() is not None:
        del _STARTED[pid]


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# ---------------------------------------------------------------------------------------------- up and down


def up(
    directory: str | Path, *, names: Sequence[str] | None = None, timeout: float = 180.0, geth: Path | None = None
) -> CliqueNetwork:
    """Start the network's nodes that are not running (or only `names`), wait until each has joined the running
    others, start sealing on each, and wait until every signer has sealed a block that every running node has.

    A node seals only once it has joined: a signer sealing alone before it has peered (a fresh network whose nodes
    start a few seconds apart, or a restart behind the others) forks the chain at once, and forks of equal total
    difficulty stall Clique for good (a node does not sync to a peer that is not strictly heavier, and each signer
    may not seal twice within three blocks on its own fork). So each node starts mining with its signer's key
    locked, which fails every seal but makes the node take in the blocks its peers propagate (a node that neither
    mines nor has synced drops them, and may then never learn that a peer is heavier); once all have joined, each
    signer is unlocked and its sealing restarted."""
    network = CliqueNetwork.load(directory)
    geth = geth or find_geth()
    chosen = [network.node(n) for n in names] if names else network.nodes
    started = time.monotonic()
    for node in chosen:
        start_node(network, node, geth)
    _wait_until_joined(network, chosen, timeout=timeout, started=started)
    for node in chosen:
        _start_sealing(network, node)
    wait_until_sealing(network, timeout=max(1.0, timeout - (time.monotonic() - started)))
    return network


def _start_sealing(network: CliqueNetwork, node: Node) -> None:
    """Unlock `node`'s signer for good and restart its sealing. geth retries a seal that failed on the locked key
    only for new work that differs from the failed one, and the block's time alone may not differ (it is the
    parent's plus the period while that is ahead of the clock): a vanity of our own in the header's extraData
    makes it differ; stopping and starting the miner makes the new work."""
    password = (network.datadir(node) / PASSWORD_FILE).read_text().strip()
    provider = _w3(node).provider
    for method, params in (
        ("personal_unlockAccount", [node.signer, password, 0]),  # 0: until the node stops
        ("miner_setExtra", [f"scf {node.name}"]),
        ("miner_stop", []),
        ("miner_start", []),
    ):
        answer = provider.make_request(method, params)  # type: ignore[arg-type]
        if "error" in answer:
            log = network.datadir(node) / LOG_FILE
            raise NodeDidNotStart(node.name, log, f"{method}: {answer['error']}\n{_tail(log)}")


def _wait_until_joined(network: CliqueNetwork, chosen: Sequence[Node], *, timeout: float, started: float) -> None:
    """Wait until every running node answers and is connected to every other running node, and each of `chosen`
    has the block the others had when it first answered (it has caught up)."""
    running = _answering(network, timeout=timeout, started=started)
    others = [n for n in running if n not in chosen]
    target = max((_w3(n).eth.block_number for n in others), default=0)
    while True:
        heads = {n.name: _w3(n).eth.block_number for n in running}
        peers = {n.name: _w3(n).net.peer_count for n in running}
        if all(peers[n.name] >= len(running) - 1 for n in running) and all(heads[n.name] >= target for n in chosen):
            return
        waited = time.monotonic() - started
        if waited > timeout:
            raise NodesDidNotJoin(waited, {n.name: (heads[n.name], peers[n.name]) for n in running}, target)
        time.sleep(0.3)


def _answering(network: CliqueNetwork, *, timeout: float, started: float) -> list[Node]:
    """Wait until every node with a running process answers JSON-RPC; returns them."""
    running = [n for n in network.nodes if pid_of(network, n) is not None]
    for node in running:
        while True:
            if pid_of(network, node) is None:
                raise NodeDidNotStart(
                    node.name, network.datadir(node) / LOG_FILE, _tail(network.datadir(node) / LOG_FILE)
                )
            try:
                if _w3(node).is_connected():
                    break
            except OSError:
                pass
            if time.monotonic() - started > timeout:
                log = network.datadir(node) / LOG_FILE
                raise NodeDidNotStart(node.name, log, _tail(log))
            time.sleep(0.2)
    return running


def down(directory: str | Path, *, names: Sequence[str] | None = None, kill: bool = False) -> list[str]:
    """Stop the network's running nodes (or only `names`); returns the names stopped."""
    network = CliqueNetwork.load(directory)
    chosen = [network.node(n) for n in names] if names else network.nodes
    return [node.name for node in chosen if stop_node(network, node, kill=kill)]


def _w3(node: Node) -> Web3:
    return Web3(HTTPProvider(node.url, request_kwargs={"timeout": 5}, exception_retry_configuration=None))


def signer_of(w3: Web3, number: int) -> str:
    """The address that sealed block `number` (geth's clique_getSigner recovers it from the header's seal)."""
    return Web3.to_checksum_address(w3.provider.make_request("clique_getSigner", [hex(number)])["result"])  # type: ignore[arg-type]


def block_hash(node: Node, number: int) -> str | None:
    """The hash of `node`'s block `number` (raw JSON-RPC: a Clique header's extraData is longer than web3 takes)."""
    try:
        block = _w3(node).provider.make_request("eth_getBlockByNumber", [hex(number), False])  # type: ignore[arg-type]
    except OSError:
        return None
    result = block.get("result")
    return str(result["hash"]) if result else None


def wait_until_sealing(network: CliqueNetwork, *, timeout: float = 180.0) -> int:
    """Wait until each running node answers, blocks sealed by every signer whose node runs have been seen, every
    running node has the block where that became true, and each is connected to all the others; returns that
    block's number."""
    started = time.monotonic()
    running = _answering(network, timeout=timeout, started=started)
    expected = {n.signer.lower() for n in running}
    seen: set[str] = set()
    # Watch the node furthest ahead, from its head on: a node that has just restarted is still importing blocks
    # the others sealed long ago, and only blocks sealed from now on show who seals now.
    heads = {n.name: _w3(n).eth.block_number for n in running}
    running_ahead = max(running, key=lambda n: heads[n.name])
    watcher = _w3(running_ahead)
    checked = max(heads.values())
    while True:
        head = watcher.eth.block_number
        for number in range(checked + 1, head + 1):
            seen.add(signer_of(watcher, number).lower())
        checked = head
        if (
            expected <= seen
            and all(block_hash(n, head) == block_hash(running_ahead, head) for n in running)
            and all(_w3(n).net.peer_count >= len(running) - 1 for n in running)
        ):
            # Every node has the same block there (a restarted node has caught up, not forked off) and is connected
            # to every other (so it receives the next blocks as they are sealed, not at its next sync round).
            return head
        waited = time.monotonic() - started
        if waited > timeout:
            names = {n.signer.lower(): n.name for n in network.nodes}
            raise SealingStalled(waited, sorted(names[s] for s in seen if s in names),
                                 sorted(names[s] for s in expected - seen))  # fmt: skip
        time.sleep(0.3)


def status(directory: str | Path) -> list[dict[str, Any]]:
    """Each node: name, URL, signer, pid (None when stopped), head block and peers (when it answers)."""
    network = CliqueNetwork.load(directory)
    rows: list[dict[str, Any]] = []
    for node in network.nodes:
        row: dict[str, Any] = {"name": node.name, "url": node.url, "signer": node.signer,
                               "pid": pid_of(network, node), "block": None, "peers": None}  # fmt: skip
        if row["pid"] is not None:
            try:
                w3 = _w3(node)
                row["block"], row["peers"] = w3.eth.block_number, w3.net.peer_count
            except OSError:
                pass
        rows.append(row)
    return rows
