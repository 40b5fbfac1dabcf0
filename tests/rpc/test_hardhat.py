"""The client against a real JSON-RPC node (hardhat): signing, nonces across threads, lost connections,
receipt timeouts, revert decoding, the clock, and the event index with confirmations."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import pytest
from eth_typing import HexStr
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint, RPCResponse

from chain_client import ReceivableState, TransactionFailed, accounts_of, new_account
from chain_client.chain import Chain
from chain_client.contract_errors import InsufficientValue, NonexistentToken, NotMember, WrongRole
from chain_client.devchain import HARDHAT_CHAIN_ID, advance_time, now
from chain_client.index import EventIndex, Indexer, reconcile
from chain_client.tx import ReceiptTimeout, Transactor
from tests.rpc.conftest import World, hardhat_w3, rpc

pytestmark = pytest.mark.rpc
DAY = 24 * 3600


def test_deploy_issue_split_and_named_errors_on_hardhat(world: World) -> None:
    w, rt = world, world.scf.receivables
    assert w.w3.eth.chain_id == HARDHAT_CHAIN_ID
    issued = rt.issue(w.core, w.s1.address, 1_000_00, now(w.w3) + 30 * DAY, os.urandom(32))
    rt.accept(w.s1, issued.token_id)
    (t2,) = rt.transfer_value(w.s1, issued.token_id, w.s2.address, 300_00).new_token_ids
    t3a, t3b = rt.split(w.s2, t2, [(w.s3.address, 100_00), (w.s1.address, 50_00)], memo=b"\x01" * 32).new_token_ids
    assert [rt.balance_of(t) for t in (issued.token_id, t2, t3a, t3b)] == [700_00, 150_00, 100_00, 50_00]

    with pytest.raises(InsufficientValue) as err:  # refused when mined: hardhat reports it at submission
        rt.transfer_value(w.s1, issued.token_id, w.s2.address, 10**9)
    assert (err.value.token_id, err.value.balance, err.value.needed) == (issued.token_id, 700_00, 10**9)
    outsider = new_account(w.w3, fund_wei=10**18)
    with pytest.raises(NotMember):
        rt.transfer_value(w.s1, issued.token_id, outsider.address, 1)
    with pytest.raises(WrongRole):
        rt.issue(w.s1, w.s2.address, 1, now(w.w3) + DAY, os.urandom(32))
    with pytest.raises(NonexistentToken):  # a read (eth_call) decodes too
        rt.fragment(issued.token_id + 99)
    # The refusals did not upset the nonce cache.
    rt.merge(w.s1, t3b, issued.token_id, 50_00)
    assert rt.balance_of(issued.token_id) == 750_00


def test_two_threads_send_fifty_transactions_each_for_the_same_account(world: World) -> None:
    w = world
    operator = w.operator
    start = w.w3.eth.get_transaction_count(operator.address)
    errors: list[BaseException] = []

    def mint(to: str) -> None:
        try:
            for _ in range(50):
                w.scf.cash.mint(operator, to, 1)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=mint, args=(a.address,)) for a in (w.s1, w.s2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert (w.scf.cash.balance_of(w.s1.address), w.scf.cash.balance_of(w.s2.address)) == (50, 50)
    assert w.w3.eth.get_transaction_count(operator.address) == start + 100


class FlakyProvider(HTTPProvider):
    """Loses the connection around the first `eth_sendRawTransaction`: before the request reaches the node
    (`lose="request"`) or after the node took it, so the answer never arrives (`lose="response"`)."""

    def __init__(self, url: str, lose: str) -> None:
        super().__init__(url)
        self.lose = lose
        self.sends = 0

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        if method == "eth_sendRawTransaction":
            self.sends += 1
            if self.sends == 1 and self.lose == "request":
                raise ConnectionResetError("connection reset by peer")
            if self.sends == 1 and self.lose == "response":
                super().make_request(method, params)
                raise ConnectionResetError("connection reset by peer")
        return super().make_request(method, params)


@pytest.mark.parametrize(("lose", "sends"), [("request", 2), ("response", 1)])
def test_a_send_that_loses_its_connection_is_retried_but_never_sent_twice(
    hardhat_url: str, lose: str, sends: int
) -> None:
    provider = FlakyProvider(hardhat_url, lose)
    sender = accounts_of(hardhat_w3(hardhat_url))[0]
    w3 = Chain(provider, [sender]).w3
    tx = Transactor(w3, retry_backoff=0.01)
    payee = new_account(hardhat_w3(hardhat_url), fund_wei=0).address
    nonce = w3.eth.get_transaction_count(sender.address)

    receipt = tx.send_value(sender, payee, 12345)
    assert receipt["status"] == 1
    assert provider.sends == sends  # asked the node by hash before sending again
    assert w3.eth.get_balance(payee) == 12345  # paid once
    assert w3.eth.get_transaction_count(sender.address) == nonce + 1
    tx.send_value(sender, payee, 1)  # and the nonce cache is still right
    assert w3.eth.get_balance(payee) == 12346


def test_a_node_that_stays_unreachable_fails_with_one_clear_error(hardhat_url: str) -> None:
    class Down(HTTPProvider):
        def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
            if method in ("eth_sendRawTransaction", "eth_getTransactionByHash"):
                raise ConnectionRefusedError("connection refused")
            return super().make_request(method, params)

    w3 = Web3(Down(hardhat_url))
    sender = accounts_of(hardhat_w3(hardhat_url))[0]
    tx = Transactor(w3, send_retries=2, retry_backoff=0.01)
    with pytest.raises(TransactionFailed, match="could not reach the node"):
        tx.send_value(sender, sender.address, 1)


def test_a_receipt_that_does_not_come_times_out_with_the_transaction_hash(hardhat_url: str) -> None:
    w3 = hardhat_w3(hardhat_url)
    sender = accounts_of(w3)[0]
    tx = Transactor(w3, receipt_timeout=0.5)
    rpc(hardhat_url, "evm_setAutomine", [False])
    try:
        with pytest.raises(ReceiptTimeout) as err:
            tx.send_value(sender, sender.address, 1)
        assert err.value.tx_hash.startswith("0x")
        assert "may still be mined" in str(err.value)
        rpc(hardhat_url, "evm_mine")
        assert w3.eth.get_transaction_receipt(HexStr(err.value.tx_hash))["status"] == 1
    finally:
        rpc(hardhat_url, "evm_setAutomine", [True])
    assert tx.send_value(sender, sender.address, 1)["status"] == 1


def test_advance_time_moves_hardhats_clock(world: World) -> None:
    w3, rt = world.w3, world.scf.receivables
    issued = rt.issue(world.core, world.s1.address, 500_00, now(w3) + 2 * DAY, os.urandom(32))
    rt.accept(world.s1, issued.token_id)
    before = now(w3)
    assert advance_time(w3, 3 * DAY) >= before + 3 * DAY
    assert rt.receivable(issued.slot).state is ReceivableState.MATURED


def test_the_indexer_on_hardhat_with_confirmations_and_following(world: World) -> None:
    w, rt = world, world.scf.receivables
    issued = rt.issue(w.core, w.s1.address, 1_000_00, now(w.w3) + 30 * DAY, os.urandom(32))
    rt.accept(w.s1, issued.token_id)
    (t2,) = rt.transfer_value(w.s1, issued.token_id, w.s2.address, 400_00).new_token_ids
    rt.transfer(w.s2, w.financier.address, t2)

    index = EventIndex()
    indexer = Indexer(index, w.w3, w.scf.contracts, confirmations=2)  # a block counts once two more are on it
    indexer.sync()
    assert index.synced_block == w.w3.eth.block_number - 2
    row = index.receivable(issued.slot)
    assert row is not None
    assert row.state is ReceivableState.ACTIVE  # accepted three blocks ago
    assert index.fragment(t2) is None  # split two blocks ago: one block on top, not yet
    rpc(w.url, "evm_mine")
    indexer.sync()
    f = index.fragment(t2)
    assert f is not None
    assert f.owner == w.s2.address  # the transfer still waits
    rpc(w.url, "evm_mine")
    indexer.sync()
    f = index.fragment(t2)
    assert f is not None
    assert (f.owner, f.tier, f.financed) == (w.financier.address, 2, True)
    assert reconcile(index, w.scf) == []

    # Following: a background loop picks up new blocks as they come (confirmations 0 here).
    live = EventIndex()
    follower = Indexer(live, w.w3, w.scf.contracts)
    stop = threading.Event()
    loop = threading.Thread(target=follower.follow, args=(0.05,), kwargs={"stop": stop})
    loop.start()
    try:
        (t3,) = rt.transfer_value(w.s1, issued.token_id, w.s3.address, 100_00).new_token_ids
        deadline = time.monotonic() + 10
        while live.fragment(t3) is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        loop.join(timeout=10)
    assert live.fragment(t3) is not None
    tree = live.tree(issued.slot)
    assert tree is not None
    assert sum(x.value for x in tree.live) == 1_000_00
