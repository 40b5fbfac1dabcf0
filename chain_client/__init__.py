"""Python client for the supply-chain-finance contracts.

w3 = connect()                       # the embedded chain; connect(url, keys) for a node
contracts = deploy_all(w3, operator) # Membership, SettlementToken, ReceivableToken, FinancingDesk
scf = ScfClient(w3, contracts)
scf.receivables.issue(core, supplier.address, 1_000_000_00, maturity, doc_hash)
index = EventIndex("scf-index.sqlite"); Indexer(index, w3, contracts).sync(); index.tree(slot)
"""

from chain_client.chain import Chain, accounts_of, chain_of, connect, new_account
from chain_client.client import ScfClient
from chain_client.deploy import DeploymentRecord, deploy_all, load_contracts, record_of
from chain_client.exceptions import ChainError, ContractError, TransactionFailed
from chain_client.index import EventIndex, Indexer, reconcile
from chain_client.membership import Role
from chain_client.receivables import ReceivableState
from chain_client.tx import ReceiptTimeout, TxResult

__all__ = [
    "Chain",
    "ChainError",
    "ContractError",
    "DeploymentRecord",
    "EventIndex",
    "Indexer",
    "ReceiptTimeout",
    "ReceivableState",
    "Role",
    "ScfClient",
    "TransactionFailed",
    "TxResult",
    "accounts_of",
    "chain_of",
    "connect",
    "deploy_all",
    "load_contracts",
    "new_account",
    "reconcile",
    "record_of",
]
