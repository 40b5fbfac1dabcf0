"""`bench.py throughput`: operations per second through the Python client beside the backend's own ceiling,
measured in the same run on the same chain.

The ceiling: OpenZeppelin ERC-20 transfers signed beforehand and pushed as raw transactions one after another (in
JSON-RPC batches of 256 on a node), nothing in the way (no encoding, no signing, no waiting for a receipt before
the next); the clock stops at the last receipt.
The client rows: a single split (ERC-3525 value transfer to a new fragment) one at a time, the same pipelined
(`Transactor.transact_many`: signed with known nonces, sent without waiting, receipts in batches), a 10-way split
(fragments per second) and a financing (a signed request funded by the bank), each one at a time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain_client import Role, ScfClient, accounts_of, deploy_all, new_account
from chain_client.chain import chain_of
from chain_client.constants import DAY, GAS_SPLIT
from chain_client.deploy import deploy_contract
from chain_client.devchain import now
from chain_client.financing import FinancingRequest

HOLDERS = 20


@dataclass(frozen=True)
class Rate:
    name: str
    unit: str  # what is counted: "tx" or "fragments"
    count: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def _timed(name: str, unit: str, count: int, run: Callable[[], Any]) -> Rate:
    start = time.perf_counter()
    run()
    return Rate(name, unit, count, time.perf_counter() - start)


def raw_ceiling(w3: Web3, sender: LocalAccount, holders: Sequence[str], count: int) -> Rate:
    """Pre-signed raw ERC-20 transfers pushed back to back; the clock stops at the last receipt."""
    tx = chain_of(w3).sender
    erc20 = deploy_contract(w3, sender, "RefERC20")
    tx.transact(sender, erc20.functions.mint(sender.address, 10**12), 200_000)
    tx.refresh_fees()
    nonce = w3.eth.get_transaction_count(sender.address)
    raws = []
    for i in range(count):
        data = erc20.functions.transfer(holders[i % len(holders)], 1)._encode_transaction_data()
        signed = sender.sign_transaction(
            {
                "to": erc20.address,
                "data": data,
                "value": 0,
                "gas": 100_000,
                "nonce": nonce + i,
                "chainId": tx.chain_id,
                "maxFeePerGas": tx.max_fee,
                "maxPriorityFeePerGas": tx.tip,
            }
        )
        raws.append(signed.raw_transaction)

    batches = hasattr(w3.provider, "endpoint_uri")  # over HTTP: JSON-RPC batches, the fastest way in

    def push() -> None:
        last: Any = None
        if batches:
            for start in range(0, len(raws), 256):
                chunk = [("eth_sendRawTransaction", [Web3.to_hex(raw)]) for raw in raws[start : start + 256]]
                answers = cast(Any, w3.provider).make_batch_request(chunk)
                assert all("result" in a for a in answers), answers
                last = answers[-1]["result"]
        else:
            for raw in raws:
                last = w3.eth.send_raw_transaction(raw)
        receipt = w3.eth.wait_for_transaction_receipt(last, timeout=600, poll_latency=0.01)
        assert receipt["status"] == 1

    return _timed("raw ERC-20 transfers, pre-signed (ceiling)", "tx", count, push)


def measure(w3: Web3, count: int) -> list[Rate]:
    """The ceiling first, then the client's operations, `count` of each (10-way splits: `count // 10 * 10`
    fragments)."""
    operator = accounts_of(w3)[0]
    tx = chain_of(w3).sender
    scf = ScfClient(w3, deploy_all(w3, operator))
    fund = tx.funding_for(4 * count + 100)
    core, s1, bank, pusher = (new_account(w3, fund_wei=fund, funder=operator) for _ in range(4))
    holders = [new_account(w3, fund_wei=0).address for _ in range(HOLDERS)]
    admit = scf.membership.admit
    admit(operator, core.address, Role.CORE_ENTERPRISE)
    admit(operator, s1.address, Role.SUPPLIER)
    admit(operator, bank.address, Role.FINANCIER)
    for h in holders:
        admit(operator, h, Role.SUPPLIER)
    rt, desk = scf.receivables, scf.financing
    rt.set_credit_line(operator, core.address, 10**14)
    issued = rt.issue(core, s1.address, 10**12, now(w3) + 90 * DAY, os.urandom(32))
    rt.accept(s1, issued.token_id)
    rt.set_approval_for_all(s1, desk.address, True)
    scf.cash.mint(operator, bank.address, 10**13)
    scf.cash.approve(bank, desk.address, 10**13)
    desk.set_exposure_limit(bank, core.address, 10**13)
    token = issued.token_id

    rates = [raw_ceiling(w3, pusher, holders, count)]

    def singles() -> None:
        for i in range(count):
            rt.transfer_value(s1, token, holders[i % HOLDERS], 1)

    rates.append(_timed("split, one at a time", "tx", count, singles))

    split = rt.contract.functions.transferFrom
    calls = [tx.call_of(s1, split(token, holders[i % HOLDERS], 1), GAS_SPLIT) for i in range(count)]
    rates.append(_timed("split, pipelined (transact_many)", "tx", count, lambda: tx.transact_many(calls)))

    batches = max(1, count // 10)

    def batch_splits() -> None:
        for _ in range(batches):
            rt.split(s1, token, [(h, 1) for h in holders[:10]])

    rates.append(_timed("split to 10 holders, one tx at a time", "fragments", batches * 10, batch_splits))

    deadline = now(w3) + DAY
    requests = [FinancingRequest(token, 100, 99, bank.address, False, n, deadline) for n in range(count)]
    signed = [(r, desk.sign(s1, r)) for r in requests]  # the holder signs off chain, before the clock starts

    def financings() -> None:
        for request, signature in signed:
            desk.finance(bank, request, signature)

    rates.append(_timed("finance (signed request), one at a time", "tx", count, financings))
    return rates
