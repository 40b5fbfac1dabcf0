"""Networks of real nodes: a Clique network of geth nodes on this machine (`geth`), the Hyperledger Besu QBFT
kit for production (`besu`), Besu's allow-lists from the on-chain Membership (`allowlist`), and a provider that
fails over between several nodes of one network (`failover`)."""

from chain_client.network.errors import (
    BadNetworkSize,
    GethNotFound,
    NetworkDirectoryTaken,
    NodeDidNotStart,
    NodesDidNotJoin,
    NodesUnreachable,
    NotANetworkDirectory,
    PortTaken,
    SealingStalled,
)
from chain_client.network.failover import FailoverProvider, node_urls

__all__ = [
    "BadNetworkSize",
    "FailoverProvider",
    "GethNotFound",
    "NetworkDirectoryTaken",
    "NodeDidNotStart",
    "NodesDidNotJoin",
    "NodesUnreachable",
    "NotANetworkDirectory",
    "PortTaken",
    "SealingStalled",
    "node_urls",
]
