"""Development-chain helpers: moving the clock. Refused on any real network."""

from __future__ import annotations

from typing import Any

from web3 import Web3

from chain_client.chain import is_embedded, tester_of
from chain_client.exceptions import NotADevelopmentChain

HARDHAT_CHAIN_ID = 31337


def now(w3: Web3) -> int:
    """The latest block's timestamp: the chain's idea of now."""
    return int(w3.eth.get_block("latest")["timestamp"])


def advance_time(w3: Web3, seconds: int) -> int:
    """Move the chain's clock forward by `seconds` and mine a block; returns the new time."""
    if seconds < 0:
        raise ValueError("time only moves forward")
    if is_embedded(w3):
        tester: Any = tester_of(w3)
        target = now(w3) + seconds
        tester.time_travel(target)  # mines a block stamped just before `target`...
        tester.mine_blocks(1)  # ...and the next one is stamped `target`
        return now(w3)
    if w3.eth.chain_id == HARDHAT_CHAIN_ID:
        w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        return now(w3)
    raise NotADevelopmentChain(f"refusing to move time on chain {w3.eth.chain_id}: not a development chain")
