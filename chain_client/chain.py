"""Connections: the embedded eth-tester chain (default) or any Ethereum JSON-RPC node by URL.

Transactions are always signed locally with eth-account keys, on both, so the code path a test exercises is
the one a production node sees.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import HTTPProvider, Web3
from web3.providers.eth_tester import EthereumTesterProvider

from chain_client.exceptions import NotADevelopmentChain

# Attribute set on an embedded Web3 so helpers can find its tester without guessing.
_TESTER_ATTR = "_scf_tester"
# Keys of the embedded chain's genesis accounts, each funded with 1,000,000 ETH for gas.
_EMBEDDED_ACCOUNTS = 10
# The embedded chain's block gas limit: a permissioned chain typically sets its own; 30M is Ethereum's.
EMBEDDED_BLOCK_GAS_LIMIT = 30_000_000


def connect(url: str | None = None, keys: Iterable[str] = (), *, timeout: float = 30.0) -> Web3:
    """Return a Web3 for the embedded chain (no `url`) or for the JSON-RPC node at `url`.

    `keys` are hex private keys of the accounts this process signs for; they are kept on the Web3 object
    (`accounts_of(w3)`) and never sent to the node.
    """
    if url is None:
        from eth_tester import EthereumTester, PyEVMBackend

        backend = PyEVMBackend(
            genesis_parameters=PyEVMBackend.generate_genesis_params(overrides={"gas_limit": EMBEDDED_BLOCK_GAS_LIMIT})
        )
        tester = EthereumTester(backend)
        w3 = Web3(EthereumTesterProvider(tester))
        setattr(w3, _TESTER_ATTR, tester)
        local = [Account.from_key(k) for k in backend.account_keys[:_EMBEDDED_ACCOUNTS]]
    else:
        w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": timeout}))
        local = []
    local += [Account.from_key(k) for k in keys]
    w3.scf_accounts = {a.address: a for a in local}  # type: ignore[attr-defined]
    return w3


def accounts_of(w3: Web3) -> list[LocalAccount]:
    """The accounts whose keys this process holds: the embedded chain's funded accounts plus `keys`."""
    return list(cast(dict[str, LocalAccount], getattr(w3, "scf_accounts", {})).values())


def is_embedded(w3: Web3) -> bool:
    return hasattr(w3, _TESTER_ATTR)


def tester_of(w3: Web3) -> Any:
    """The eth-tester behind an embedded Web3 (development helpers only)."""
    if not is_embedded(w3):
        raise NotADevelopmentChain("this helper works only on the embedded chain")
    return getattr(w3, _TESTER_ATTR)


def snapshot(w3: Web3) -> int:
    """Take a snapshot of the embedded chain (tests revert to it)."""
    return int(tester_of(w3).take_snapshot())


def revert_to(w3: Web3, snapshot_id: int) -> None:
    tester_of(w3).revert_to_snapshot(snapshot_id)


def new_account(w3: Web3, *, fund_wei: int = 10**20, funder: LocalAccount | None = None) -> LocalAccount:
    """Create a key pair, remember it for signing and, on a development chain, give it ether for gas."""
    account: LocalAccount = Account.create()
    cast(dict[str, LocalAccount], w3.scf_accounts)[account.address] = account  # type: ignore[attr-defined]
    if fund_wei:
        from chain_client.tx import Transactor

        source = funder or accounts_of(w3)[0]
        Transactor.for_web3(w3).send_value(source, account.address, fund_wei)
    return account
