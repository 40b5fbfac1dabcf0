"""The production kit: a Hyperledger Besu network with QBFT consensus, generated for `docker compose`.

Besu cannot be installed on the machines this project is built on, so the kit is generated and checked here
(tests/test_network_besu.py), not run. `init_besu` writes into a new directory:

- `genesis.json`: QBFT (`config.qbft`), forks up to London, free gas (`zeroBaseFee`, each node `min-gas-price=0`),
  the validators in `extraData` = RLP([32-byte vanity, [validator addresses], no vote (empty list), round 0,
  no seals (empty list)]). In QBFT a validator's address is its node key's address.
- `nodeN/key` (the node's private key: keep it on that node only), `nodeN/key.pub`, `nodeN/config.toml`;
- `static-nodes.json` (every node's enode URL) and `permissions_config.toml`: Besu's local allow-lists of
  nodes (the validators) and of accounts (rewritten from the on-chain Membership by `scf network allowlist`;
  Besu's contract-based permissioning is deprecated since 24.12.0);
- `docker-compose.yml`: one service per node from the official `hyperledger/besu` image on a bridge network
  with fixed addresses (Besu's allow-lists want IP addresses in enode URLs); JSON-RPC of node i on the host's
  `http_port + i`.
- `network.json`: what the other commands and tests read back (chain id, nodes, ports, enode URLs, addresses).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import rlp  # type: ignore[import-untyped]
from eth_utils.address import to_checksum_address

from chain_client.network import keys
from chain_client.network.errors import BadNetworkSize, NetworkDirectoryTaken, NotANetworkDirectory

ENGINE = "besu-qbft"
BESU_IMAGE = "hyperledger/besu:24.12.2"  # pinned: check https://hub.docker.com/r/hyperledger/besu for the latest
MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"  # "tical byzantine fault tolerance"
SUBNET = "172.16.239.0/24"
FIRST_HOST = 11  # node i gets 172.16.239.(11 + i)
CONTAINER_P2P_PORT = 30303
CONTAINER_HTTP_PORT = 8545
DEFAULT_CHAIN_ID = 20_2613
DEFAULT_HTTP_PORT = 8545
BLOCK_PERIOD = 2
MIN_VALIDATORS = 4  # QBFT tolerates ⌊(n−1)/3⌋ faulty validators: one fault needs four
MAX_VALIDATORS = 32
PERMISSIONS_FILE = "permissions_config.toml"
RPC_APIS = ["ETH", "NET", "WEB3", "QBFT", "ADMIN", "TXPOOL", "PERM"]


@dataclass(frozen=True)
class BesuNode:
    name: str
    address: str  # the validator's address: its node key's
    ip: str
    http_port: int  # on the host
    enode: str


@dataclass
class BesuNetwork:
    directory: Path
    chain_id: int
    nodes: list[BesuNode]
    funded: list[str]
    image: str = BESU_IMAGE
    engine: str = ENGINE

    @property
    def validators(self) -> list[str]:
        return [n.address for n in self.nodes]

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{n.http_port}" for n in self.nodes]

    def save(self) -> None:
        data = {k: v for k, v in asdict(self).items() if k != "directory"}
        (self.directory / "network.json").write_text(json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, directory: str | Path) -> BesuNetwork:
        directory = Path(directory)
        path = directory / "network.json"
        if not path.is_file():
            raise NotANetworkDirectory(directory)
        data = json.loads(path.read_text())
        if data.get("engine") != ENGINE:
            raise NotANetworkDirectory(directory)
        nodes = [BesuNode(**n) for n in data.pop("nodes")]
        return cls(directory=directory, nodes=nodes, **data)


# ---------------------------------------------------------------------------------------------- extraData


def qbft_extra_data(validators: Sequence[str]) -> str:
    """QBFT's genesis extraData: RLP([vanity (32 zero bytes), [validators], vote (none: an empty list),
    round 0 (an RLP integer: empty bytes), seals (none: an empty list)]), as Besu's `rlp encode
    --type=QBFT_EXTRA_DATA` writes it. (IBFT 2.0, QBFT's predecessor, wrote the round as 4 bytes.)"""
    addresses = [bytes.fromhex(a[2:]) for a in validators]
    encoded: bytes = rlp.encode([b"\0" * 32, addresses, [], b"", []])
    return "0x" + encoded.hex()


def decode_qbft_extra_data(extra: str) -> list[str]:
    """The validators in a QBFT extraData; ValueError if it is not shaped as `qbft_extra_data` writes it."""
    fields = rlp.decode(bytes.fromhex(extra.removeprefix("0x")))
    if not isinstance(fields, list) or len(fields) != 5:
        raise ValueError("QBFT extraData is an RLP list of 5 items")
    vanity, validators, vote, round_, seals = fields
    if len(vanity) != 32 or vote != [] or round_ != b"" or seals != []:
        raise ValueError("a genesis QBFT extraData has a 32-byte vanity, no vote, round 0 and no seals")
    return [str(to_checksum_address(v)) for v in validators]


# ---------------------------------------------------------------------------------------------- files


def genesis(chain_id: int, validators: Sequence[str], funded: Iterable[str]) -> dict[str, Any]:
    forks = ["homestead", "eip150", "eip155", "eip158", "byzantium", "constantinople", "petersburg", "istanbul",
             "muirGlacier", "berlin", "london"]  # fmt: skip
    config: dict[str, Any] = {"chainId": chain_id, **{f"{f}Block": 0 for f in forks}}
    config["zeroBaseFee"] = True  # free gas: a consortium pays no fees (with min-gas-price=0 on every node)
    config["qbft"] = {"blockperiodseconds": BLOCK_PERIOD, "epochlength": 30_000, "requesttimeoutseconds": 4}
    return {
        "config": config,
        "nonce": "0x0",
        "timestamp": "0x0",
        "gasLimit": hex(30_000_000),
        "difficulty": "0x1",
        "mixHash": MIX_HASH,
        "coinbase": "0x" + "00" * 20,
        "alloc": {a[2:].lower(): {"balance": hex(10**27)} for a in funded},
        "extraData": qbft_extra_data(sorted(validators, key=lambda a: int(a, 16))),
    }


def _toml_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def node_config(node: BesuNode) -> str:
    """A node's Besu config.toml, as seen inside its container (the kit's directory is mounted at /config)."""
    return "\n".join(
        [
            f"# {node.name}: validator {node.address}",
            'data-path="/opt/besu/data"',
            'genesis-file="/config/genesis.json"',
            f'node-private-key-file="/config/{node.name}/key"',
            f'p2p-host="{node.ip}"',
            f"p2p-port={CONTAINER_P2P_PORT}",
            "discovery-enabled=false",
            'static-nodes-file="/config/static-nodes.json"',
            "rpc-http-enabled=true",
            'rpc-http-host="0.0.0.0"',
            f"rpc-http-port={CONTAINER_HTTP_PORT}",
            f"rpc-http-api={_toml_list(RPC_APIS)}",
            'host-allowlist=["*"]',
            "min-gas-price=0",
            "permissions-nodes-config-file-enabled=true",
            f'permissions-nodes-config-file="/config/{PERMISSIONS_FILE}"',
            "permissions-accounts-config-file-enabled=true",
            f'permissions-accounts-config-file="/config/{PERMISSIONS_FILE}"',
            "",
        ]
    )


def permissions_config(nodes: Iterable[str], accounts: Iterable[str]) -> str:
    """Besu's local permissioning file: which nodes may connect, which accounts may send transactions."""
    return (
        "# Written by `scf network init` / `scf network allowlist`: the validators' nodes, and the accounts of\n"
        "# the consortium's active members (on chain: Membership). Rewritten on each membership change.\n"
        f"nodes-allowlist={_toml_list(nodes)}\n"
        f"accounts-allowlist={_toml_list(sorted(accounts, key=str.lower))}\n"
    )


def docker_compose(network: BesuNetwork) -> str:
    """docker-compose.yml: one service per node, fixed addresses on a bridge network, JSON-RPC on the host."""
    lines = ["# Hyperledger Besu QBFT network written by `scf network init --engine besu-qbft`.", "services:"]
    for node in network.nodes:
        lines += [
            f"  {node.name}:",
            f"    image: {network.image}",
            f"    container_name: scf-{node.name}",
            f'    command: ["--config-file=/config/{node.name}/config.toml"]',
            "    volumes:",
            "      - ./:/config",
            f"      - {node.name}-data:/opt/besu/data",
            "    ports:",
            f'      - "127.0.0.1:{node.http_port}:{CONTAINER_HTTP_PORT}"',
            "    networks:",
            "      scf:",
            f"        ipv4_address: {node.ip}",
            "    restart: unless-stopped",
        ]
    lines += ["volumes:"] + [f"  {n.name}-data: {{}}" for n in network.nodes]
    lines += ["networks:", "  scf:", "    driver: bridge", "    ipam:", "      config:", f"        - subnet: {SUBNET}"]
    return "\n".join(lines) + "\n"


def init_besu(
    out: str | Path,
    *,
    validators: int = 4,
    chain_id: int = DEFAULT_CHAIN_ID,
    http_port: int = DEFAULT_HTTP_PORT,
    fund: Sequence[str] = (keys.DEV_DEPLOYER,),
) -> BesuNetwork:
    """Write a QBFT network of `validators` Besu nodes into the new directory `out`."""
    if not MIN_VALIDATORS <= validators <= MAX_VALIDATORS:
        raise BadNetworkSize(ENGINE, validators, MIN_VALIDATORS, MAX_VALIDATORS)
    directory = Path(out)
    if directory.exists() and any(directory.iterdir()):
        raise NetworkDirectoryTaken(directory)
    directory.mkdir(parents=True, exist_ok=True)
    prefix = SUBNET.rsplit(".", 1)[0]
    nodes: list[BesuNode] = []
    for i in range(validators):
        name = f"node{i + 1}"
        key = keys.new_key()
        ip = f"{prefix}.{FIRST_HOST + i}"
        keys.write_private(directory / name / "key", key + "\n")
        (directory / name / "key.pub").write_text("0x" + keys.node_id(key) + "\n")
        nodes.append(BesuNode(name, keys.address_of(key), ip, http_port + i, keys.enode(key, ip, CONTAINER_P2P_PORT)))
    funded = list(dict.fromkeys(fund))
    network = BesuNetwork(directory, chain_id, nodes, funded)
    (directory / "genesis.json").write_text(json.dumps(genesis(chain_id, network.validators, funded), indent=2) + "\n")
    for node in nodes:
        (directory / node.name / "config.toml").write_text(node_config(node))
    (directory / "static-nodes.json").write_text(json.dumps([n.enode for n in nodes], indent=2) + "\n")
    # Until the contracts are deployed, the accounts that may send are those funded at genesis (the deployer).
    (directory / PERMISSIONS_FILE).write_text(permissions_config([n.enode for n in nodes], funded))
    (directory / "docker-compose.yml").write_text(docker_compose(network))
    network.save()
    return network
