"""`bench.py gas`: gas of every operation, measured on the embedded chain, next to the standard implementations
(OpenZeppelin ERC-20/721/1155, Solv's ERC-3525) measured in the same run, and against the committed snapshot
(docs/gas-snapshot.json; `bench.py gas --write-snapshot` writes it again).

Every figure is the gasUsed of one real transaction (21,000 base cost included), the worst case unless the
name says otherwise: recipients are new holders, so their storage words are written for the first time.

The figures are the same on every run: accounts and document hashes are derived from fixed seeds and the chain's
clock starts at a fixed time, because calldata costs 4 gas per zero byte and 16 per other byte, and random
addresses, hashes or timestamps would move a figure by a few gas from one run to the next.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

from chain_client import Role, ScfClient, accounts_of, connect, deploy_all
from chain_client.chain import chain_of
from chain_client.deploy import deploy_contract
from chain_client.devchain import advance_time, now
from chain_client.financing import FinancingRequest

DAY = 24 * 3600
START_TIME = 2_000_000_000  # 2033-05-18: the chain's clock is moved here first, so every timestamp is the same
_ACCOUNTS = itertools.count(1)
_DOCUMENTS = itertools.count(1)


def new_account(w3: Web3, *, fund_wei: int) -> LocalAccount:
    """A new account, the same on every run (`chain_client.new_account` makes random ones)."""
    account: LocalAccount = Account.from_key(keccak(text=f"scf gas report account {next(_ACCOUNTS)}"))
    chain_of(w3).add_account(account)
    if fund_wei:
        chain_of(w3).sender.send_value(accounts_of(w3)[0], account.address, fund_wei)
    return account


def document() -> bytes:
    """A trade document's hash, the same on every run."""
    return keccak(text=f"scf gas report document {next(_DOCUMENTS)}")


# Design targets from the foundation issue (gas, base cost included).
TARGETS = {
    "split": 100_000,
    "transfer": 65_000,
    "issue": 160_000,
    "repay": 80_000,
    "repay_500_fragments": 80_000,
    "redeem": 60_000,
    "settle_per_fragment": 35_000,
    "finance": 170_000,
}
# Which reference operation each of ours is compared with.
COMPARED = {
    "issue": "ref_solv_erc3525_mint",
    "split": "ref_solv_erc3525_split",
    "merge": "ref_solv_erc3525_value_transfer",
    "transfer": "ref_oz_erc721_transfer",
    "cash_transfer": "ref_oz_erc20_transfer",
    "finance": "ref_solv_erc3525_split",
}


def _fresh(w3: Web3, scf: ScfClient, operator: LocalAccount, role: Role = Role.SUPPLIER) -> LocalAccount:
    account = new_account(w3, fund_wei=10**18)
    scf.membership.admit(operator, account.address, role)
    return account


def measure_ours(w3: Web3) -> dict[str, int]:
    operator, core = accounts_of(w3)[:2]
    scf = ScfClient(w3, deploy_all(w3, operator))
    scf.membership.admit(operator, core.address, Role.CORE_ENTERPRISE)
    rt = scf.receivables
    rt.set_credit_line(operator, core.address, 10**13)
    gas: dict[str, int] = {}
    s1, s2, s3 = (_fresh(w3, scf, operator) for _ in range(3))
    maturity = now(w3) + 90 * DAY

    issued = rt.issue(core, s1.address, 1_000_000_00, maturity, document())
    gas["issue"] = issued.gas_used
    gas["accept"] = rt.accept(s1, issued.token_id).gas_used
    gas["issue_existing_holder"] = rt.issue(core, s1.address, 5_00, maturity, document()).gas_used

    split = rt.transfer_value(s1, issued.token_id, s2.address, 100_000_00)
    gas["split"] = split.gas_used
    gas["split_existing_holder"] = rt.transfer_value(s1, issued.token_id, s2.address, 100_000_00).gas_used
    batch_to = [(_fresh(w3, scf, operator).address, 1_000_00) for _ in range(10)]
    batch = rt.split(s1, issued.token_id, batch_to, document())
    gas["split_batch_10"] = batch.gas_used
    gas["merge"] = rt.merge(s1, issued.token_id, split.new_token_ids[0], 1_00).gas_used
    gas["transfer"] = rt.transfer(s2, s3.address, split.new_token_ids[0]).gas_used
    gas["transfer_existing_holder"] = rt.transfer(s3, s1.address, split.new_token_ids[0]).gas_used
    gas["freeze"] = rt.freeze(operator, issued.token_id, b"\1" * 32).gas_used
    gas["approve_value"] = rt.approve_value(s1, split.new_token_ids[0], s3.address, 1).gas_used

    scf.cash.mint(operator, s1.address, 1_000_000_00)
    gas["cash_transfer"] = scf.cash.transfer(s1, s2.address, 1_00).gas_used
    gas.update(measure_financing(w3, scf, operator, core))
    gas.update(measure_repayment(w3, scf, operator, core))
    gas["admit"] = scf.membership.admit(operator, new_account(w3, fund_wei=0).address, Role.SUPPLIER).gas_used
    return gas


def measure_financing(w3: Web3, scf: ScfClient, operator: LocalAccount, core: LocalAccount) -> dict[str, int]:
    """finance: a split to the financier plus the cash leg, with and without recourse."""
    rt, desk = scf.receivables, scf.financing
    holder = _fresh(w3, scf, operator)
    bank = _fresh(w3, scf, operator, Role.FINANCIER)
    issued = rt.issue(core, holder.address, 1_000_000_00, now(w3) + 90 * DAY, document())
    rt.accept(holder, issued.token_id)
    rt.set_approval_for_all(holder, desk.address, True)
    scf.cash.mint(operator, bank.address, 10**11)
    scf.cash.approve(bank, desk.address, 10**11)
    desk.set_exposure_limit(bank, core.address, 10**11)
    gas: dict[str, int] = {}
    for nonce, (name, recourse) in enumerate(
        [("finance_first_request", False), ("finance", False), ("finance_with_recourse", True)]
    ):
        request = FinancingRequest(issued.token_id, 10_000_00, 9_900_00, bank.address, recourse, nonce, now(w3) + DAY)
        gas[name] = desk.finance(bank, request, desk.sign(holder, request)).gas_used
    return gas


def measure_repayment(w3: Web3, scf: ScfClient, operator: LocalAccount, core: LocalAccount) -> dict[str, int]:
    """repay at 1 and at 500 fragments, redeem, and settle amortized over a page of 100 fragments."""
    rt = scf.receivables
    gas: dict[str, int] = {}
    scf.cash.mint(operator, core.address, 10**12)
    scf.cash.approve(core, rt.address, 10**12)
    holder = _fresh(w3, scf, operator)
    others = [_fresh(w3, scf, operator).address for _ in range(100)]
    scf.cash.mint(operator, holder.address, 1)  # holders usually hold some cash already

    def receivable(fragments: int) -> tuple[int, list[int]]:
        issued = rt.issue(core, holder.address, 10_000_000_00, now(w3) + 30 * DAY, document())
        rt.accept(holder, issued.token_id)
        ids = [issued.token_id]
        for start in range(0, fragments - 1, 50):
            batch = [(others[(start + i) % len(others)], 1_00) for i in range(min(50, fragments - 1 - start))]
            ids += rt.split(holder, issued.token_id, batch).new_token_ids
        return issued.slot, ids

    slot_1, ids_1 = receivable(1)
    slot_500, _ = receivable(500)
    slot_100, ids_100 = receivable(101)
    for o in others:  # like `holder`, the settled holders already hold some cash
        scf.cash.mint(operator, o, 1)
    advance_time(w3, 31 * DAY)
    gas["repay_first_payment"] = rt.repay(core, slot_1, 1_00).gas_used  # records maturity too
    gas["repay"] = rt.repay(core, slot_1, 1_00).gas_used
    gas["repay_500_fragments"] = rt.repay(core, slot_500, 1_00).gas_used
    rt.repay(core, slot_500, 1_00)  # warm, like slot_1
    gas["repay_500_fragments"] = rt.repay(core, slot_500, 1_00).gas_used
    outstanding = rt.receivable(slot_1).outstanding
    gas["repay_final"] = rt.repay(core, slot_1, outstanding).gas_used  # restores the credit line
    gas["redeem"] = rt.redeem(holder, ids_1[0]).gas_used
    rt.repay(core, slot_100, rt.receivable(slot_100).outstanding)
    settled = rt.settle(operator, slot_100, ids_100[1:101], gas=8_000_000)
    gas["settle_100"] = settled.gas_used
    gas["settle_per_fragment"] = settled.gas_used // 100
    return gas


def _send(w3: Web3, sender: LocalAccount, contract: Contract, fn: str, *args: Any) -> int:
    receipt = chain_of(w3).sender.transact(sender, getattr(contract.functions, fn)(*args), 1_000_000)
    return int(receipt["gasUsed"])


def measure_references(w3: Web3) -> dict[str, int]:
    a, b = accounts_of(w3)[2:4]
    gas: dict[str, int] = {}

    def fresh() -> str:
        """A recipient that holds nothing yet."""
        return str(new_account(w3, fund_wei=0).address)

    erc20 = deploy_contract(w3, a, "RefERC20")
    _send(w3, a, erc20, "mint", a.address, 10**9)
    gas["ref_oz_erc20_transfer"] = _send(w3, a, erc20, "transfer", fresh(), 100)

    erc721 = deploy_contract(w3, a, "RefERC721")
    _send(w3, a, erc721, "mint", a.address, 1)
    _send(w3, a, erc721, "mint", a.address, 2)
    gas["ref_oz_erc721_transfer"] = _send(w3, a, erc721, "transferFrom", a.address, fresh(), 1)

    erc1155 = deploy_contract(w3, a, "RefERC1155")
    _send(w3, a, erc1155, "mint", a.address, 1, 10**9)
    gas["ref_oz_erc1155_transfer"] = _send(w3, a, erc1155, "safeTransferFrom", a.address, fresh(), 1, 100, b"")

    solv = deploy_contract(w3, a, "RefSolvERC3525")
    gas["ref_solv_erc3525_mint"] = _send(w3, a, solv, "mint", fresh(), 7, 10**9)
    _send(w3, a, solv, "mint", a.address, 7, 10**9)  # token 2, held by a
    split = solv.functions.transferFrom(2, fresh(), 100)
    gas["ref_solv_erc3525_split"] = int(chain_of(w3).sender.transact(a, split, 1_000_000)["gasUsed"])
    _send(w3, a, solv, "mint", b.address, 7, 10**9)  # token 4, held by b
    gas["ref_solv_erc3525_value_transfer"] = _send(w3, a, solv, "transferFrom", 2, 4, 100)
    gas["ref_solv_erc3525_transfer"] = _send(w3, a, solv, "transferFrom", a.address, fresh(), 2)
    return gas


SNAPSHOT = Path(__file__).resolve().parents[2] / "docs" / "gas-snapshot.json"
TOLERANCE = 0.02  # an operation more than 2 % above its snapshot fails tests/test_bench.py


def measure() -> dict[str, int]:
    """Every operation's gas and every reference's, on a fresh embedded chain at a fixed clock."""
    w3 = connect()
    advance_time(w3, START_TIME - now(w3))
    gas = measure_ours(w3)
    gas.update(measure_references(w3))
    return gas


def read_snapshot(path: Path = SNAPSHOT) -> dict[str, int]:
    return {k: int(v) for k, v in json.loads(path.read_text())["gas"].items()}


def write_snapshot(gas: dict[str, int], path: Path = SNAPSHOT) -> None:
    body = {
        "about": "gasUsed per operation on the embedded chain (scripts/bench.py gas). A test fails when an operation "
        "costs more than 2 % above this; after an intended change run `.venv/bin/python scripts/bench.py gas "
        "--write-snapshot` and commit this file.",
        "gas": gas,
    }
    path.write_text(json.dumps(body, indent=1) + "\n")


def over_snapshot(gas: dict[str, int], snapshot: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Operations that cost more than `TOLERANCE` above their snapshot: name -> (now, snapshot)."""
    return {
        name: (used, snapshot[name])
        for name, used in gas.items()
        if name in snapshot and used > snapshot[name] * (1 + TOLERANCE)
    }
