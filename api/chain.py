"""What the API needs to know about the chain it runs on, beyond the client: whether it is a development
chain, and how to share the embedded one between request threads."""

from __future__ import annotations

import threading

from web3 import Web3

from chain_client.chain import chain_of, is_embedded
from chain_client.devchain import HARDHAT_CHAIN_ID


def is_development(w3: Web3) -> bool:
    """True where moving time and minting for a debtor are harmless: the embedded chain and hardhat."""
    return is_embedded(w3) or w3.eth.chain_id == HARDHAT_CHAIN_ID


def chain_lock(w3: Web3) -> threading.RLock:
    """The lock every request to the embedded chain holds (`Chain.lock`): FastAPI runs routes in a thread pool,
    and eth-tester is not made for concurrent callers. Reentrant: development helpers hold it around several
    requests. A real node serialises on its own, so there the lock guards nothing."""
    return chain_of(w3).lock
