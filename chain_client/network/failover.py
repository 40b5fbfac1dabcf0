"""A web3 provider over several nodes of one network: requests go to one node; when it stops answering (refused,
reset, timed out, an HTTP error), the same request goes to the next, which stays the one in use.

Safe for sending: a transaction is signed once, so sending the same bytes to a second node cannot execute it twice
(the node says it knows it, or takes it with the same hash); `chain_client.tx` already re-asks for its hash after
a connection error. Filters (`eth_newFilter`) live in one node and are lost with it; the client uses
`eth_getLogs`, which any node answers.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from web3 import HTTPProvider
from web3.providers.base import JSONBaseProvider
from web3.types import RPCEndpoint, RPCResponse

from chain_client.network.errors import NodesUnreachable


def node_urls(text: str | Sequence[str]) -> list[str]:
    """The node URLs in `--rpc`: comma-separated, or several values (repeated flags); blanks dropped."""
    parts = [text] if isinstance(text, str) else list(text)
    return [u.strip() for part in parts for u in part.split(",") if u.strip()]


class FailoverProvider(JSONBaseProvider):
    """Several JSON-RPC nodes as one provider: the first that answers, in order, and then the same one."""

    def __init__(self, urls: Sequence[str], *, timeout: float = 30.0) -> None:
        super().__init__()
        if not urls:
            raise ValueError("a failover provider needs at least one node URL")
        self.urls = list(urls)
        # No retries inside a node: a node that does not answer is left for the next one at once.
        self.providers = [
            HTTPProvider(u, request_kwargs={"timeout": timeout}, exception_retry_configuration=None) for u in self.urls
        ]
        self._current = 0
        self._lock = threading.Lock()
        self.failovers = 0  # how many times a request moved on to another node (for logs and tests)

    @property
    def endpoint_uri(self) -> str:
        """The URL of the node in use."""
        return self.urls[self._current]

    def __str__(self) -> str:
        return f"RPC failover over {', '.join(self.urls)} (using {self.endpoint_uri})"

    def _moved_on(self, failed: int) -> None:
        with self._lock:
            if self._current == failed:  # another thread may have moved on already
                self._current = (failed + 1) % len(self.providers)
                self.failovers += 1

    def _each(self) -> list[int]:
        start = self._current
        return [(start + k) % len(self.providers) for k in range(len(self.providers))]

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        last: BaseException | None = None
        for i in self._each():
            try:
                return self.providers[i].make_request(method, params)
            except OSError as exc:  # requests' errors are OSErrors: refused, reset, timed out, HTTP 5xx
                last = exc
                self._moved_on(i)
        raise NodesUnreachable(self.urls, str(method), last or OSError("no node"))

    def make_batch_request(self, requests: list[tuple[RPCEndpoint, Any]]) -> list[RPCResponse] | RPCResponse:
        last: BaseException | None = None
        for i in self._each():
            try:
                return self.providers[i].make_batch_request(requests)
            except OSError as exc:
                last = exc
                self._moved_on(i)
        raise NodesUnreachable(self.urls, "batch", last or OSError("no node"))
