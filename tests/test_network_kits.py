"""What `scf network init` writes, checked without running a node: the Clique network's genesis, keys and peers,
and the Besu QBFT kit (Besu cannot be installed here): every file parses and the files agree with each other.
Then the Besu account allow-list follows Membership on the embedded chain, and the failover provider moves on
from a node that does not answer. The geth network itself runs in tests/network/ (marked `network`)."""

from __future__ import annotations

import json
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import yaml
from eth_account import Account
from web3 import Web3

from chain_client import Role, ScfClient, new_account
from chain_client.apps import cli
from chain_client.chain import connect
from chain_client.deploy import DeploymentRecord
from chain_client.exceptions import ChainError
from chain_client.network import (
    BadNetworkSize,
    FailoverProvider,
    NetworkDirectoryTaken,
    NodesUnreachable,
    besu,
    geth,
    keys,
    node_urls,
)
from chain_client.network.allowlist import read_allowlist, write_allowlist
from tests.conftest import Parties

# ---------------------------------------------------------------------------------------------- Clique


@pytest.fixture
def clique(tmp_path: Path) -> geth.CliqueNetwork:
    return geth.init_clique(tmp_path / "net", signers=4, http_port=18545, p2p_port=38303)


def test_the_clique_genesis_names_the_four_signers_and_stops_at_london(clique: geth.CliqueNetwork) -> None:
    genesis = json.loads((clique.directory / "genesis.json").read_text())
    extra = bytes.fromhex(genesis["extraData"][2:])
    assert extra[:32] == b"\0" * 32
    assert extra[-65:] == b"\0" * 65
    body = extra[32:-65]
    signers = [Web3.to_checksum_address(body[i : i + 20]) for i in range(0, len(body), 20)]
    assert signers == sorted((n.signer for n in clique.nodes), key=lambda a: int(a, 16))
    config = genesis["config"]
    assert config["clique"]["period"] == 1
    assert config["londonBlock"] == 0
    assert not {"shanghaiTime", "cancunTime", "terminalTotalDifficulty"} & set(config)
    assert int(genesis["alloc"][keys.DEV_DEPLOYER[2:].lower()]["balance"], 16) > 0


def test_each_clique_node_has_its_keys_ports_and_the_others_as_static_peers(clique: geth.CliqueNetwork) -> None:
    ports = [p for n in clique.nodes for p in (n.http_port, n.p2p_port, n.authrpc_port)]
    assert len(set(ports)) == len(ports)
    for n in clique.nodes:
        datadir = clique.datadir(n)
        node_key = (datadir / "geth" / "nodekey").read_text()
        assert n.enode == keys.enode(node_key, "127.0.0.1", n.p2p_port)
        config = tomllib.loads((datadir / "config.toml").read_text())
        assert config["Node"]["P2P"]["StaticNodes"] == [m.enode for m in clique.nodes if m is not n]
        (keystore,) = (datadir / "keystore").iterdir()
        password = (datadir / geth.PASSWORD_FILE).read_text().strip()
        assert Account.from_key(Account.decrypt(keystore.read_text(), password)).address == n.signer
        assert (datadir / geth.PASSWORD_FILE).stat().st_mode & 0o077 == 0  # the owner's only
    assert geth.CliqueNetwork.load(clique.directory) == clique


def test_init_refuses_a_directory_in_use_and_sizes_the_engine_cannot_run(tmp_path: Path) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("x")
    with pytest.raises(NetworkDirectoryTaken) as taken:
        geth.init_clique(tmp_path / "used")
    assert taken.value.path == tmp_path / "used"
    with pytest.raises(BadNetworkSize) as small:
        besu.init_besu(tmp_path / "qbft", validators=3)
    assert (small.value.engine, small.value.count, small.value.least) == ("besu-qbft", 3, 4)


# ---------------------------------------------------------------------------------------------- Besu QBFT


@pytest.fixture
def kit(tmp_path: Path) -> besu.BesuNetwork:
    return besu.init_besu(tmp_path / "qbft", validators=4, http_port=28545)


def test_the_qbft_extra_data_decodes_back_to_the_validators(kit: besu.BesuNetwork) -> None:
    genesis = json.loads((kit.directory / "genesis.json").read_text())
    assert besu.decode_qbft_extra_data(genesis["extraData"]) == sorted(kit.validators, key=lambda a: int(a, 16))
    assert genesis["mixHash"] == besu.MIX_HASH
    assert genesis["config"]["qbft"]["blockperiodseconds"] == besu.BLOCK_PERIOD
    assert genesis["config"]["zeroBaseFee"] is True
    assert not {"shanghaiTime", "cancunTime"} & set(genesis["config"])


def test_a_qbft_extra_data_with_a_vote_or_seals_is_not_a_genesis_one() -> None:
    import rlp  # type: ignore[import-untyped]

    with_seal = "0x" + rlp.encode([b"\0" * 32, [b"\1" * 20], [], b"", [b"\2" * 65]]).hex()
    with pytest.raises(ValueError, match="no seals"):
        besu.decode_qbft_extra_data(with_seal)


def test_every_file_of_the_besu_kit_parses_and_they_agree(kit: besu.BesuNetwork) -> None:
    d = kit.directory
    enodes = json.loads((d / "static-nodes.json").read_text())
    assert enodes == [n.enode for n in kit.nodes]
    permissions = tomllib.loads((d / besu.PERMISSIONS_FILE).read_text())
    assert permissions["nodes-allowlist"] == enodes
    compose = yaml.safe_load((d / "docker-compose.yml").read_text())
    assert compose["networks"]["scf"]["ipam"]["config"][0]["subnet"] == besu.SUBNET
    for n in kit.nodes:
        config = tomllib.loads((d / n.name / "config.toml").read_text())
        key = (d / config["node-private-key-file"].removeprefix("/config/")).read_text().strip()
        assert keys.address_of(key) == n.address  # a QBFT validator's address is its node key's
        assert n.enode == keys.enode(key, config["p2p-host"], config["p2p-port"])
        assert (d / n.name / "key.pub").read_text().strip() == "0x" + keys.node_id(key)
        assert (d / config["genesis-file"].removeprefix("/config/")).is_file()
        assert config["permissions-accounts-config-file"] == f"/config/{besu.PERMISSIONS_FILE}"
        assert config["min-gas-price"] == 0
        service = compose["services"][n.name]
        assert service["image"] == besu.BESU_IMAGE
        assert service["networks"]["scf"]["ipv4_address"] == config["p2p-host"]
        assert service["ports"] == [f"127.0.0.1:{n.http_port}:{config['rpc-http-port']}"]
        assert service["command"] == [f"--config-file=/config/{n.name}/config.toml"]
        assert "./:/config" in service["volumes"]
    assert besu.BesuNetwork.load(d) == kit


def test_the_account_allow_list_is_the_active_member_set_after_admit_suspend_and_reinstate(
    w3: Web3, scf: ScfClient, parties: Parties, kit: besu.BesuNetwork
) -> None:
    addresses = {name: str(c.address) for name, c in scf.contracts.items()}
    record = DeploymentRecord(w3.eth.chain_id, 0, parties.operator.address, addresses)
    newcomer = new_account(w3)

    def allowed() -> set[str]:
        write_allowlist(scf, record, kit)
        lists = read_allowlist(kit.directory)
        assert lists["nodes"] == [n.enode for n in kit.nodes]
        return set(lists["accounts"])

    members = allowed()
    assert parties.operator.address in members
    assert parties.s1.address in members
    assert parties.outsider.address not in members

    scf.membership.admit(parties.operator, newcomer.address, Role.SUPPLIER)
    assert allowed() == members | {newcomer.address}
    scf.membership.suspend(parties.operator, parties.s1.address)
    assert allowed() == (members | {newcomer.address}) - {parties.s1.address}
    scf.membership.reinstate(parties.operator, parties.s1.address)
    assert allowed() == members | {newcomer.address}


# ---------------------------------------------------------------------------------------------- failover


class _Node(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        answer = json.dumps({"jsonrpc": "2.0", "id": body["id"], "result": hex(202612)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def live_url() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Node)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _dead_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"  # closed when the block ends: nothing listens there


def test_a_request_moves_on_to_the_next_node_and_stays_there(live_url: str) -> None:
    dead = _dead_url()
    w3 = connect(f"{dead},{live_url}")
    provider = w3.provider
    assert isinstance(provider, FailoverProvider)
    assert w3.eth.chain_id == 202612
    assert provider.failovers == 1
    assert provider.endpoint_uri == live_url
    assert w3.eth.chain_id == 202612
    assert provider.failovers == 1  # no second try of the dead node


def test_no_node_answering_is_one_connection_error_naming_every_node() -> None:
    urls = [_dead_url(), _dead_url()]
    w3 = connect(",".join(urls))
    with pytest.raises(NodesUnreachable) as caught:
        w3.eth.chain_id  # noqa: B018
    assert caught.value.urls == urls
    assert isinstance(caught.value, ConnectionError)  # the sender's resend-after-a-connection-error path
    assert isinstance(caught.value, ChainError)


def test_rpc_takes_several_nodes_comma_separated_or_repeated() -> None:
    assert node_urls(" http://a:1, http://b:2 ,") == ["http://a:1", "http://b:2"]
    assert node_urls(["http://a:1", "http://b:2,http://c:3"]) == ["http://a:1", "http://b:2", "http://c:3"]
    args = cli.build_parser().parse_args(["index", "--rpc", "http://a:1", "--rpc", "http://b:2"])
    assert args.rpc == "http://a:1,http://b:2"


def test_network_commands_say_what_is_wrong_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["network", "up", str(tmp_path)]) == 1
    assert "holds no network.json" in capsys.readouterr().err
    out = str(tmp_path / "qbft")
    assert cli.main(["network", "init", "--engine", "besu-qbft", "--signers", "4", "--out", out]) == 1
    assert "--signers is for clique" in capsys.readouterr().err
    assert cli.main(["network", "init", "--engine", "besu-qbft", "--out", out]) == 0
    assert "4 validators" in capsys.readouterr().out
