"""What can go wrong with a network of nodes: each refusal named, with the values that caused it."""

from __future__ import annotations

from pathlib import Path

from chain_client.exceptions import ChainError


class GethNotFound(ChainError, FileNotFoundError):
    """No geth 1.13.x binary where one was looked for (`make geth` builds and caches it)."""

    def __init__(self, searched: list[str]) -> None:
        self.searched = searched
        super().__init__(
            "no geth 1.13.x found (looked at: " + ", ".join(searched) + "); `make geth` builds it into the cache"
        )


class NetworkDirectoryTaken(ChainError, FileExistsError):
    """`network init` refuses to write into a directory that already holds something."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"{path} is not empty: give a new directory to `scf network init`")


class NotANetworkDirectory(ChainError, FileNotFoundError):
    """A directory without the `network.json` that `scf network init` writes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"{path} holds no network.json: run `scf network init --out {path}` first")


class BadNetworkSize(ChainError, ValueError):
    """Too few (or too many) signers or validators for the engine."""

    def __init__(self, engine: str, count: int, least: int, most: int) -> None:
        self.engine, self.count, self.least, self.most = engine, count, least, most
        super().__init__(f"{engine} needs {least} to {most} nodes, not {count}")


class PortTaken(ChainError, OSError):
    """A port a node would listen on is already in use on this machine."""

    def __init__(self, node: str, port: int) -> None:
        self.node, self.port = node, port
        super().__init__(f"port {port} of {node} is already in use: `scf network init` with other --base ports")


class NodeDidNotStart(ChainError, RuntimeError):
    """A node's process exited, or its JSON-RPC did not answer in time; the end of its log says why."""

    def __init__(self, node: str, log: Path, tail: str) -> None:
        self.node, self.log, self.tail = node, log, tail
        super().__init__(f"{node} did not start (log {log}):\n{tail}")


class SealingStalled(ChainError, TimeoutError):
    """`up` waited for blocks sealed by every signer, and some signers sealed none in time."""

    def __init__(self, waited: float, sealed_by: list[str], missing: list[str]) -> None:
        self.waited, self.sealed_by, self.missing = waited, sealed_by, missing
        super().__init__(
            f"after {waited:.0f} s, blocks were sealed by {len(sealed_by)} signer(s) only; none by "
            + ", ".join(missing)
        )


class NodesDidNotJoin(ChainError, TimeoutError):
    """`up` waited for its nodes to connect to every other running node and catch up, and they did not in time."""

    def __init__(self, waited: float, nodes: dict[str, tuple[int, int]], target: int) -> None:
        self.waited, self.nodes, self.target = waited, nodes, target
        state = ", ".join(f"{name} at block {head} with {peers} peer(s)" for name, (head, peers) in nodes.items())
        super().__init__(
            f"after {waited:.0f} s the nodes had not all joined (each connected to every other, the started ones at "
            f"block {target} or later): {state}"
        )


class NodesUnreachable(ChainError, ConnectionError):
    """Every node of a failover list failed to answer a request (a ConnectionError, so senders retry it)."""

    def __init__(self, urls: list[str], method: str, last: BaseException) -> None:
        self.urls, self.method, self.last = urls, method, last
        super().__init__(f"no node answered {method}: tried {', '.join(urls)}; last error: {last}")
