"""`scf.cash`: the client of `contracts/SettlementToken.sol`, the on-chain cash in fen (named cash here: "settlement"
is the payout to holders at maturity, `ReceivableToken.settle`)."""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from chain_client._base import ContractClient, result
from chain_client.constants import GAS_CASH_TRANSFER, GAS_MINT
from chain_client.tx import Call, TxResult


class SettlementToken(ContractClient):
    def mint(self, operator: LocalAccount, to: str, amount: int) -> TxResult:
        """Cash in: credit `amount` fen to `to` (operator only)."""
        return result(self.tx.send_call(self.mint_call(operator, to, amount)))

    def mint_call(self, operator: LocalAccount, to: str, amount: int) -> Call:
        """`mint` as a `Call`, for `Transactor.transact_many`."""
        return self._call_of(operator, "mint", (to, amount), GAS_MINT)

    def burn(self, operator: LocalAccount, from_: str, amount: int) -> TxResult:
        """Cash out: debit `amount` fen from `from_` (operator only; needs `from_`'s allowance)."""
        return result(self._send(operator, self.contract.functions.burn(from_, amount), GAS_MINT))

    def transfer(self, sender: LocalAccount, to: str, amount: int) -> TxResult:
        return result(self._send(sender, self.contract.functions.transfer(to, amount), GAS_CASH_TRANSFER))

    def approve(self, owner: LocalAccount, spender: str, amount: int) -> TxResult:
        return result(self.tx.send_call(self.approve_call(owner, spender, amount)))

    def approve_call(self, owner: LocalAccount, spender: str, amount: int) -> Call:
        """`approve` as a `Call`, for `Transactor.transact_many`."""
        return self._call_of(owner, "approve", (spender, amount), GAS_CASH_TRANSFER)

    def balance_of(self, account: str) -> int:
        return int(self._call(self.contract.functions.balanceOf(account)))

    def allowance(self, owner: str, spender: str) -> int:
        return int(self._call(self.contract.functions.allowance(owner, spender)))

    def total_supply(self) -> int:
        return int(self._call(self.contract.functions.totalSupply()))
