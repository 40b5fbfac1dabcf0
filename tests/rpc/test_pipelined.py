"""Pipelined sending (`Transactor.transact_many`) on hardhat and anvil: a thousand transactions from two accounts,
with every connection to the node cut in the middle, each executed exactly once and in nonce order; a refused
transaction raises its named error with its values."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from hexbytes import HexBytes
from web3 import HTTPProvider
from web3.types import RPCEndpoint

from chain_client import new_account
from chain_client.chain import Chain
from chain_client.contract_errors import InsufficientValue
from chain_client.tx import Call, Transactor
from tests.rpc.conftest import World, hardhat_w3

pytestmark = pytest.mark.rpc

TRANSACTIONS = 1_000
CUT_AFTER = 300  # raw transactions through the proxy before it cuts every connection


class CuttingProxy:
    """A TCP proxy in front of the node that, once `cut_after` raw transactions have gone through it, closes every
    open connection (a request or its response is lost) and refuses new ones until `reopen()`."""

    def __init__(self, target: tuple[str, int], cut_after: int) -> None:
        self.target = target
        self.cut_after = cut_after
        self.sends_seen = 0
        self.cuts = 0
        self.refusing = False
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if self.refusing:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._open += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, requests: bool) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
                if requests:
                    self._count(data.count(b"eth_sendRawTransaction"))
        except OSError:
            pass
        finally:
            for s in (source, sink):
                s.close()

    def _count(self, sends: int) -> None:
        with self._lock:
            before = self.sends_seen
            self.sends_seen += sends
            if before < self.cut_after <= self.sends_seen and not self.cuts:
                self.cuts += 1
                self.refusing = True
                for s in self._open:  # after the request went through: its response is lost
                    with contextlib.suppress(OSError):
                        s.shutdown(socket.SHUT_RDWR)
                    s.close()
                self._open.clear()
                threading.Timer(0.3, self.reopen).start()

    def reopen(self) -> None:
        self.refusing = False

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def proxy(node_url: str) -> Iterator[CuttingProxy]:
    host, port = node_url.removeprefix("http://").split(":")
    p = CuttingProxy((host, int(port)), CUT_AFTER)
    yield p
    p.close()


def test_a_thousand_transactions_from_two_accounts_survive_a_cut_connection_each_executed_once_in_nonce_order(
    node_url: str, proxy: CuttingProxy
) -> None:
    direct = hardhat_w3(node_url)
    a, b = (new_account(direct, fund_wei=10**18) for _ in range(2))
    payee = Account.create().address
    start = {x.address: direct.eth.get_transaction_count(x.address) for x in (a, b)}
    w3 = Chain(HTTPProvider(f"http://127.0.0.1:{proxy.port}", request_kwargs={"timeout": 30}), [a, b]).w3
    tx = Transactor(w3, retry_backoff=0.1)
    calls = [Call(a if i % 2 == 0 else b, payee, "0x", 21_000, i + 1) for i in range(TRANSACTIONS)]

    receipts = tx.transact_many(calls)

    assert proxy.cuts == 1  # the connection was cut mid-run
    assert [r["status"] for r in receipts] == [1] * TRANSACTIONS
    assert direct.eth.get_balance(payee) == sum(range(1, TRANSACTIONS + 1))  # each paid exactly once
    for sender in (a, b):
        assert direct.eth.get_transaction_count(sender.address) == start[sender.address] + TRANSACTIONS // 2
        mine = [r for c, r in zip(calls, receipts, strict=True) if c.sender is sender]
        sent = [direct.eth.get_transaction(r["transactionHash"]) for r in mine]
        assert [t["nonce"] for t in sent] == list(range(start[sender.address], start[sender.address] + len(mine)))
        where = [(r["blockNumber"], r["transactionIndex"]) for r in mine]
        assert where == sorted(where)  # mined in nonce order
        assert [t["value"] for t in sent] == [c.value for c in calls if c.sender is sender]


def test_a_refused_transaction_in_a_pipeline_raises_its_named_error_with_its_values(
    node_url: str,
) -> None:
    world = World(node_url)
    rt = world.scf.receivables
    maturity = int(world.w3.eth.get_block("latest")["timestamp"]) + 86_400 * 30
    issued = rt.issue(world.core, world.s1.address, 1_000_00, maturity, os.urandom(32))
    rt.accept(world.s1, issued.token_id)
    tx = world.scf.tx
    fns = rt.contract.functions
    ok = tx.call_of(world.s1, fns.transferFrom(issued.token_id, world.s2.address, 100_00), 200_000)
    too_much = tx.call_of(world.s1, fns.transferFrom(issued.token_id, world.s2.address, 10_000_00), 200_000)
    never = tx.call_of(world.s1, fns.transferFrom(issued.token_id, world.s3.address, 1_00), 200_000)
    nonce = world.w3.eth.get_transaction_count(world.s1.address)

    with pytest.raises(InsufficientValue) as refused:
        tx.transact_many([ok, too_much, never])

    assert (refused.value.token_id, refused.value.balance, refused.value.needed) == (
        issued.token_id,
        900_00,
        10_000_00,
    )
    sent = world.w3.eth.get_transaction_count(world.s1.address) - nonce
    # the third went in the same batch as the refused one (the node executes it after): the raise names the first
    # refused call, and a resuming caller asks the chain what happened to the ones after it
    assert sent in (2, 3)
    assert rt.balance_of(issued.token_id) == 900_00 - (1_00 if sent == 3 else 0)


def test_on_an_anvil_that_mines_on_demand_each_window_is_one_block_and_a_refusal_still_names_its_error(
    anvil_on_demand_url: str,
) -> None:
    world = World(anvil_on_demand_url)  # funding and admissions: single sends, each mined by the client
    tx = world.scf.tx
    assert tx.mines_on_demand
    payee = Account.create().address
    calls = [Call(world.s1 if i % 2 == 0 else world.s2, payee, "0x", 21_000, i + 1) for i in range(600)]
    first = world.w3.eth.block_number

    receipts = tx.transact_many(calls, window=256)

    assert [r["status"] for r in receipts] == [1] * 600
    assert world.w3.eth.get_balance(payee) == sum(range(1, 601))
    assert sorted({r["blockNumber"] for r in receipts}) == [first + 1, first + 2, first + 3]  # 256 + 256 + 88
    rt = world.scf.receivables
    maturity = int(world.w3.eth.get_block("latest")["timestamp"]) + 86_400 * 30
    issued = rt.issue(world.core, world.s1.address, 1_000_00, maturity, os.urandom(32))
    rt.accept(world.s1, issued.token_id)
    fns = rt.contract.functions
    ok = tx.call_of(world.s1, fns.transferFrom(issued.token_id, world.s2.address, 100_00), 200_000)
    too_much = tx.call_of(world.s1, fns.transferFrom(issued.token_id, world.s2.address, 10_000_00), 200_000)
    with pytest.raises(InsufficientValue):
        tx.transact_many([ok, too_much])
    assert rt.balance_of(issued.token_id) == 900_00


def test_where_the_client_mines_a_window_is_mined_in_the_lists_order_whatever_order_the_node_took_it_in(
    anvil_on_demand_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cash passed around three accounts, each transfer spending what the one before it (by another sender)
    brought: only the list's order works. The node is handed each batch in reverse, as a node that takes a batch's
    requests in parallel may see them; the tips still put the block in the list's order."""
    world = World(anvil_on_demand_url)
    tx, cash = world.scf.tx, world.scf.cash
    assert tx.keeps_order
    ring = (world.s1, world.s2, world.s3)
    cash.mint(world.operator, world.s1.address, 100)
    calls = [
        tx.call_of(ring[i % 3], cash.contract.functions.transfer(ring[(i + 1) % 3].address, 100), 100_000)
        for i in range(300)
    ]
    original = Transactor._batch

    def reversed_batch(self: Transactor, requests: list[tuple[RPCEndpoint, list[Any]]]) -> Any:
        answers = original(self, list(reversed(requests)))
        return list(reversed(answers)) if isinstance(answers, list) else answers

    monkeypatch.setattr(Transactor, "_batch", reversed_batch)
    first = world.w3.eth.block_number

    receipts = tx.transact_many(calls, window=300)

    assert [r["status"] for r in receipts] == [1] * 300
    block = world.w3.eth.get_block(first + 1)
    assert list(block["transactions"]) == [HexBytes(r["transactionHash"]) for r in receipts]
    assert [cash.balance_of(a.address) for a in ring] == [100, 0, 0]
