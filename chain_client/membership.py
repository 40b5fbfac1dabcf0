"""Client for `contracts/Membership.sol`: the consortium's permission list."""

from __future__ import annotations

from enum import IntEnum

from eth_account.signers.local import LocalAccount

from chain_client._base import ContractClient, result
from chain_client.constants import GAS_ADMIT, GAS_REMOVE_SUBSCRIBER, GAS_RESYNC_PER_ACCOUNT, GAS_SUSPEND, ZERO_HASH
from chain_client.tx import Call, TxResult


class Role(IntEnum):
    """Mirrors `IMembership.Role`."""

    NONE = 0
    OPERATOR = 1
    CORE_ENTERPRISE = 2
    SUPPLIER = 3
    FINANCIER = 4
    AUDITOR = 5


class Membership(ContractClient):
    def admit(self, operator: LocalAccount, account: str, role: Role, kyc_hash: bytes = ZERO_HASH) -> TxResult:
        """Admit `account` with `role` (operator only)."""
        return result(self.tx.send_call(self.admit_call(operator, account, role, kyc_hash)))

    def admit_call(self, operator: LocalAccount, account: str, role: Role, kyc_hash: bytes = ZERO_HASH) -> Call:
        """`admit` as a `Call`, for `Transactor.transact_many`."""
        return self._call_of(operator, "admit", (account, int(role), kyc_hash), GAS_ADMIT)

    def suspend(self, operator: LocalAccount, account: str) -> TxResult:
        return result(self._send(operator, self.contract.functions.suspend(account), GAS_SUSPEND))

    def reinstate(self, operator: LocalAccount, account: str) -> TxResult:
        return result(self._send(operator, self.contract.functions.reinstate(account), GAS_SUSPEND))

    def add_subscriber(self, operator: LocalAccount, subscriber: str, existing_members: list[str]) -> TxResult:
        """Subscribe a token contract to membership changes, pushing the status of `existing_members`."""
        fn = self.contract.functions.addSubscriber(subscriber, existing_members)
        return result(self._send(operator, fn, 100_000 + GAS_RESYNC_PER_ACCOUNT * len(existing_members)))

    def remove_subscriber(self, operator: LocalAccount, subscriber: str) -> TxResult:
        """Stops pushing membership changes to `subscriber` (the way out when one reverts)."""
        return result(self._send(operator, self.contract.functions.removeSubscriber(subscriber), GAS_REMOVE_SUBSCRIBER))

    def resync(self, operator: LocalAccount, subscriber: str, accounts: list[str]) -> TxResult:
        """Push the current status of `accounts` to `subscriber` again."""
        fn = self.contract.functions.resync(subscriber, accounts)
        return result(self._send(operator, fn, 50_000 + GAS_RESYNC_PER_ACCOUNT * len(accounts)))

    def subscribers(self) -> list[str]:
        return [str(a) for a in self._call(self.contract.functions.subscribers())]

    def role_of(self, account: str) -> Role:
        return Role(self._call(self.contract.functions.roleOf(account)))

    def is_active(self, account: str) -> bool:
        return bool(self._call(self.contract.functions.isActive(account)))

    def kyc_hash_of(self, account: str) -> bytes:
        return bytes(self._call(self.contract.functions.kycHashOf(account)))
