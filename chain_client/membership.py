"""Client for `contracts/Membership.sol`: the consortium's permission list."""

from __future__ import annotations

from enum import IntEnum

from eth_account.signers.local import LocalAccount

from chain_client._base import ZERO_HASH, ContractClient, result
from chain_client.tx import TxResult

# Gas limits sent with each write: measured use plus headroom (see scripts/gas_report.py).
GAS_ADMIT = 120_000
GAS_SUSPEND = 60_000


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
        return result(self._send(operator, self.contract.functions.admit(account, int(role), kyc_hash), GAS_ADMIT))

    def suspend(self, operator: LocalAccount, account: str) -> TxResult:
        return result(self._send(operator, self.contract.functions.suspend(account), GAS_SUSPEND))

    def reinstate(self, operator: LocalAccount, account: str) -> TxResult:
        return result(self._send(operator, self.contract.functions.reinstate(account), GAS_SUSPEND))

    def role_of(self, account: str) -> Role:
        return Role(self._call(self.contract.functions.roleOf(account)))

    def is_active(self, account: str) -> bool:
        return bool(self._call(self.contract.functions.isActive(account)))

    def kyc_hash_of(self, account: str) -> bytes:
        return bytes(self._call(self.contract.functions.kycHashOf(account)))
