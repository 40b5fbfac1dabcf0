"""`up` lets a signer seal only once its node has joined the others: two nodes that cannot reach each other seal
nothing, and `up` says which nodes had not joined, at which block, with how many peers. (A signer that sealed
alone would fork the chain at once, and Clique forks of equal weight never resolve.)"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from chain_client.network import NodesDidNotJoin, geth
from tests.network.conftest import free_ports

pytestmark = pytest.mark.network


def test_nodes_that_cannot_reach_each_other_seal_nothing_and_up_says_so(geth_binary: Path, tmp_path: Path) -> None:
    http, p2p = free_ports(2)
    network = geth.init_clique(tmp_path / "net", signers=2, http_port=http, p2p_port=p2p)
    for node in network.nodes:  # no static peers, and no discovery: each node stays alone
        config = network.datadir(node) / "config.toml"
        text = config.read_text()
        assert tomllib.loads(text)["Node"]["P2P"]["StaticNodes"]
        config.write_text(re.sub(r"StaticNodes = \[[^\]]*\]", "StaticNodes = []", text))
    try:
        with pytest.raises(NodesDidNotJoin) as refused:
            geth.up(network.directory, timeout=10, geth=geth_binary)
        assert refused.value.nodes == {"node1": (0, 0), "node2": (0, 0)}  # block 0: neither sealed alone
        assert refused.value.target == 0
        assert str(refused.value) == (
            f"after {refused.value.waited:.0f} s the nodes had not all joined (each connected to every other, the "
            "started ones at block 0 or later): node1 at block 0 with 0 peer(s), node2 at block 0 with 0 peer(s)"
        )
        assert {row["block"] for row in geth.status(network.directory)} == {0}
    finally:
        geth.down(network.directory)
