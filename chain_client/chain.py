"""Connections: the embedded eth-tester chain (default) or any Ethereum JSON-RPC node by URL.

Transactions are always signed locally with eth-account keys, on both, so the code path a test exercises is
the one a production node sees.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import HTTPProvider, Web3
from web3.middleware import ExtraDataToPOAMiddleware
from web3.providers.base import BaseProvider

from chain_client.exceptions import NotADevelopmentChain
from chain_client.tx import Transactor


class Chain:
    """A connection and what this process keeps about it: its Web3, the accounts whose keys it holds (never sent
    to the node), the one transaction sender (so every client shares its nonces), and on the embedded chain the
    eth-tester behind it with the lock that serialises its requests.

    Every client takes the Web3 (`ScfClient(w3, contracts)`, a web3 contract's `.w3`, the event index), so the
    Web3 made here knows its Chain (`chain_of(w3)`) rather than a second object going through every signature."""

    def __init__(self, provider: BaseProvider, keys: Iterable[LocalAccount] = (), *, tester: Any = None) -> None:
        self.w3 = ChainWeb3(self, provider)
        self.accounts: dict[str, LocalAccount] = {a.address: a for a in keys}
        self.tester = tester
        self.lock = threading.RLock()
        self._sender: Transactor | None = None
        if tester is not None:
            from chain_client.embedded import serialised

            self.w3.middleware_onion.add(serialised(self.lock), name="scf_serialise")

    @property
    def embedded(self) -> bool:
        return self.tester is not None

    @property
    def sender(self) -> Transactor:
        """The one Transactor of this chain, made on first use (it asks the node for the chain id and fees)."""
        with self.lock:
            if self._sender is None:
                self._sender = Transactor(self.w3)
            return self._sender

    def add_account(self, account: LocalAccount) -> None:
        """Remember `account`'s key for signing (`accounts_of` lists it)."""
        self.accounts[account.address] = account

    def revert_to(self, snapshot_id: int) -> None:
        """Back to a snapshot of the embedded chain; the sender reads its nonces again (the reverted ones are free)."""
        self.development_tester().revert_to_snapshot(snapshot_id)
        if self._sender is not None:
            self._sender.nonces.forget()

    def development_tester(self) -> Any:
        """The eth-tester behind the embedded chain (development helpers only)."""
        if self.tester is None:
            raise NotADevelopmentChain("this helper works only on the embedded chain")
        return self.tester


class ChainWeb3(Web3):
    """The Web3 of a `Chain`: a Web3 in every way, that also knows the Chain it belongs to."""

    def __init__(self, chain: Chain, provider: BaseProvider) -> None:
        super().__init__(provider)
        self.chain = chain


def connect(url: str | None = None, keys: Iterable[str] = (), *, timeout: float = 30.0) -> ChainWeb3:
    """Return a Web3 for the embedded chain (no `url`) or for the JSON-RPC node at `url`; several URLs of one
    network, comma-separated, fail over from one to the next (`chain_client.network.FailoverProvider`).

    `keys` are hex private keys of the accounts this process signs for; its Chain keeps them (`accounts_of(w3)`)
    and never sends them to the node.
    """
    extra = [Account.from_key(k) for k in keys]
    if url is not None:
        provider: BaseProvider
        if "," in url:  # several nodes of one network: fail over to the next when one stops answering
            from chain_client.network.failover import FailoverProvider, node_urls

            provider = FailoverProvider(node_urls(url), timeout=timeout)
        else:
            provider = HTTPProvider(url, request_kwargs={"timeout": timeout})
        w3 = Chain(provider, extra).w3
        # Proof-of-authority chains (Clique, QBFT) carry the seal in a block's extraData, longer than the 32 bytes
        # web3 accepts by default; nothing here reads extraData, so it is only moved aside.
        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
        return w3
    from web3.providers.eth_tester import EthereumTesterProvider

    from chain_client.embedded import new_tester

    tester, funded = new_tester()
    return Chain(EthereumTesterProvider(tester), funded + extra, tester=tester).w3


def chain_of(w3: Web3) -> Chain:
    """The Chain of a Web3 made by `connect()` (or by `Chain(provider)`)."""
    if not isinstance(w3, ChainWeb3):
        raise TypeError("this Web3 was not made by chain_client.connect(): it has no keys and no sender")
    return w3.chain


def accounts_of(w3: Web3) -> list[LocalAccount]:
    """The accounts whose keys this process holds: the embedded chain's funded accounts plus `keys`."""
    return list(chain_of(w3).accounts.values())


def is_embedded(w3: Web3) -> bool:
    return isinstance(w3, ChainWeb3) and w3.chain.embedded


def tester_of(w3: Web3) -> Any:
    """The eth-tester behind an embedded Web3 (development helpers only)."""
    if not isinstance(w3, ChainWeb3):
        raise NotADevelopmentChain("this helper works only on the embedded chain")
    return w3.chain.development_tester()


def snapshot(w3: Web3) -> int:
    """Take a snapshot of the embedded chain (tests revert to it)."""
    return int(tester_of(w3).take_snapshot())


def revert_to(w3: Web3, snapshot_id: int) -> None:
    if not isinstance(w3, ChainWeb3):
        raise NotADevelopmentChain("this helper works only on the embedded chain")
    w3.chain.revert_to(snapshot_id)


def new_account(w3: Web3, *, fund_wei: int = 10**20, funder: LocalAccount | None = None) -> LocalAccount:
    """Create a key pair, remember it for signing and, on a development chain, give it ether for gas."""
    chain = chain_of(w3)
    account: LocalAccount = Account.create()
    chain.add_account(account)
    if fund_wei:
        chain.sender.send_value(funder or accounts_of(w3)[0], account.address, fund_wei)
    return account
