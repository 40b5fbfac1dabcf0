"""One object for a deployment: `ScfClient(w3, contracts)` with a typed client per contract."""

from __future__ import annotations

from web3 import Web3
from web3.contract import Contract

from chain_client.cash import SettlementToken
from chain_client.chain import chain_of
from chain_client.financing import FinancingDesk
from chain_client.membership import Membership
from chain_client.receivables import ReceivableToken


class ScfClient:
    """`membership`, `cash`, `receivables` and `financing`, sharing one transaction sender (and its nonces)."""

    def __init__(self, w3: Web3, contracts: dict[str, Contract]) -> None:
        self.w3 = w3
        self.contracts = contracts
        self.tx = chain_of(w3).sender
        self.membership = Membership(contracts["Membership"], self.tx)
        self.cash = SettlementToken(contracts["SettlementToken"], self.tx)
        self.receivables = ReceivableToken(contracts["ReceivableToken"], self.tx)
        self.financing = FinancingDesk(contracts["FinancingDesk"], self.tx)
