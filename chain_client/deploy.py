"""Deploying the contracts and saving / loading where they are."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from chain_client.artifacts import load_artifact
from chain_client.chain import chain_of
from chain_client.constants import GAS_DEPLOY

DEFAULT_MAX_TENOR = 365 * 24 * 3600
CONTRACT_NAMES = ("Membership", "SettlementToken", "ReceivableToken", "FinancingDesk")


@dataclass(frozen=True)
class DeploymentRecord:
    """Where a deployment lives: enough to reconnect to it from another process."""

    chain_id: int
    block_number: int
    operator: str
    addresses: dict[str, str]

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> DeploymentRecord:
        data = json.loads(Path(path).read_text())
        return cls(int(data["chain_id"]), int(data["block_number"]), str(data["operator"]), dict(data["addresses"]))


def deploy_contract(w3: Web3, sender: LocalAccount, name: str, *args: Any, gas: int = GAS_DEPLOY) -> Contract:
    """Deploy artifact `name` with constructor `args`; returns the web3 contract."""
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    receipt = chain_of(w3).sender.transact(sender, factory.constructor(*args), gas)
    return cast(Contract, w3.eth.contract(address=receipt["contractAddress"], abi=artifact["abi"]))


def deploy_all(
    w3: Web3,
    operator: LocalAccount,
    *,
    max_tenor: int = DEFAULT_MAX_TENOR,
    operator_kyc_hash: bytes = b"\0" * 32,
    cash_name: str = "Settlement CNY",
    cash_symbol: str = "sCNY",
) -> dict[str, Contract]:
    """Deploy Membership (with `operator` as first operator), SettlementToken, ReceivableToken and
    FinancingDesk, and wire them together (subscriptions, escrow accounts)."""
    membership = deploy_contract(w3, operator, "Membership", operator.address, operator_kyc_hash)
    cash = deploy_contract(w3, operator, "SettlementToken", membership.address, cash_name, cash_symbol)
    receivables = deploy_contract(w3, operator, "ReceivableToken", membership.address, cash.address, max_tenor)
    desk = deploy_contract(w3, operator, "FinancingDesk", membership.address, receivables.address, cash.address)
    tx = chain_of(w3).sender
    # Every value-moving contract keeps a copy of members' status, pushed by Membership; the operator is the
    # only member yet.
    for subscriber in (cash, receivables, desk):
        add = membership.functions.addSubscriber(subscriber.address, [operator.address])
        tx.transact(operator, add, 300_000)
    # System accounts: the receivable token holds repayments in escrow; the desk moves cash and value for
    # the parties of a financing.
    tx.transact(operator, cash.functions.setEscrow(receivables.address, True), 100_000)
    tx.transact(operator, cash.functions.setEscrow(desk.address, True), 100_000)
    tx.transact(operator, receivables.functions.setEscrow(desk.address, True), 100_000)
    return {"Membership": membership, "SettlementToken": cash, "ReceivableToken": receivables, "FinancingDesk": desk}


def record_of(w3: Web3, contracts: dict[str, Contract], operator: str) -> DeploymentRecord:
    return DeploymentRecord(
        chain_id=w3.eth.chain_id,
        block_number=w3.eth.block_number,
        operator=operator,
        addresses={name: str(c.address) for name, c in contracts.items()},
    )


def load_contracts(w3: Web3, record: DeploymentRecord) -> dict[str, Contract]:
    """Web3 contracts for a saved deployment; refuses a record made on another chain."""
    chain_id = w3.eth.chain_id
    if chain_id != record.chain_id:
        raise ValueError(f"deployment record is for chain {record.chain_id}, connected to chain {chain_id}")
    return {
        name: w3.eth.contract(address=Web3.to_checksum_address(addr), abi=load_artifact(name)["abi"])
        for name, addr in record.addresses.items()
    }
