"""A four-signer Clique network of geth v1.13.15 nodes for the `network` tests, on free loopback ports, started
once per module and stopped at the end. geth comes from `make geth` (built from the Go module proxy and cached);
without it the tests are skipped and say how to get it."""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from chain_client.network import GethNotFound, geth


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(nodes: int) -> tuple[int, int]:
    """An HTTP base port and a p2p base port with every port a network of `nodes` uses free."""
    for _ in range(200):
        http, p2p = random.randrange(20_000, 40_000), random.randrange(40_000, 60_000)
        wanted = [http + i for i in range(nodes)] + [http + geth.AUTHRPC_OFFSET + i for i in range(nodes)]
        wanted += [p2p + i for i in range(nodes)]
        if all(_free(p) for p in wanted):
            return http, p2p
    raise RuntimeError("no free ports")


@pytest.fixture(scope="module")
def geth_binary() -> Path:
    try:
        return geth.find_geth()
    except GethNotFound as exc:
        pytest.skip(f"{exc} (needs Go: `make geth`)")


@pytest.fixture(scope="module")
def clique(geth_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[geth.CliqueNetwork]:
    """Four signers, one block a second, running; stopped (and their logs kept in the temp dir) afterwards."""
    http, p2p = free_ports(4)
    directory = tmp_path_factory.mktemp("clique") / "net"
    geth.init_clique(directory, signers=4, http_port=http, p2p_port=p2p)
    try:
        yield geth.up(directory, geth=geth_binary)
    finally:
        geth.down(directory)
