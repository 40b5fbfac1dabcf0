"""The keys a scenario signs with: the operator's (given), and one per member, derived from it.

A member's key is keccak256("scf-scenario" | operator key | run id | member name): nobody without the operator's
key can compute it, the same run (resumed from its journal) gets the same keys again, and another run of the
same file gets fresh ones. Keys stay in this process; only signatures go to the node.
"""

from __future__ import annotations

from collections.abc import Iterable

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak


class Accounts:
    def __init__(self, operator: LocalAccount, run_id: str, names: Iterable[str]) -> None:
        self.operator = operator
        secret = bytes(operator.key)
        self.by_name: dict[str, LocalAccount] = {
            name: Account.from_key(keccak(b"scf-scenario|" + secret + b"|" + run_id.encode() + b"|" + name.encode()))
            for name in names
        }
        self.names: dict[str, str] = {a.address: name for name, a in self.by_name.items()}
        self.names[operator.address] = "Platform operator"
        self.contracts: dict[str, str] = {}  # name -> address: contracts that hold value or cash (no key)

    def add_contract(self, name: str, address: str) -> None:
        """Name a contract that holds fragments or cash (the financing desk's custody), for `address` and
        `name_of`; it signs nothing."""
        self.contracts[name] = address
        self.names[address] = name

    def __getitem__(self, name: str) -> LocalAccount:
        return self.by_name[name]

    def address(self, name: str) -> str:
        if name in self.contracts:
            return self.contracts[name]
        return str(self.by_name[name].address)

    def name_of(self, address: str) -> str:
        return self.names.get(address, address)
