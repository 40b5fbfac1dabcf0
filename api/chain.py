"""What the API needs to know about the chain it runs on, beyond the client: whether it is a development
chain, and how to share the embedded one between request threads."""

from __future__ import annotations

import threading
from typing import Any, cast

from web3 import Web3
from web3.middleware import Web3Middleware
from web3.types import RPCEndpoint, RPCResponse

from chain_client.chain import is_embedded
from chain_client.devchain import HARDHAT_CHAIN_ID

_LOCK_ATTR = "_scf_api_chain_lock"


def is_development(w3: Web3) -> bool:
    """True where moving time and minting for a debtor are harmless: the embedded chain and hardhat."""
    return is_embedded(w3) or w3.eth.chain_id == HARDHAT_CHAIN_ID


def chain_lock(w3: Web3) -> threading.RLock:
    """One lock around every request to the embedded chain.

    FastAPI runs routes in a thread pool, and eth-tester (py-evm in this process) is not made for concurrent
    callers: two threads mining at once can corrupt its state. A real node serialises on its own, so there
    the lock guards nothing. Reentrant: development helpers hold it around several requests."""
    existing = getattr(w3, _LOCK_ATTR, None)
    if existing is not None:
        return cast(threading.RLock, existing)
    lock = threading.RLock()
    setattr(w3, _LOCK_ATTR, lock)
    if is_embedded(w3):

        class _Serialised(Web3Middleware):
            def wrap_make_request(self, make_request: Any) -> Any:
                def locked(method: RPCEndpoint, params: Any) -> RPCResponse:
                    with lock:
                        return make_request(method, params)  # type: ignore[no-any-return]

                return locked

        w3.middleware_onion.add(_Serialised, name="scf_api_serialise")
    return lock
