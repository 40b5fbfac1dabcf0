"""The event index on the embedded chain: it equals the chain after random operations, repairs itself, and
answers the trace queries (path to root, tree, tiers, holdings, filters)."""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from chain_client import ContractError, ReceivableState, ScfClient
from chain_client.chain import revert_to, snapshot
from chain_client.chain import tester_of as embedded_tester
from chain_client.contract_errors import NonexistentToken
from chain_client.devchain import advance_time, now
from chain_client.financing import FinancingRequest
from chain_client.ids import sequence_of, slot_of, token_id_of
from chain_client.index import HANDLERS, EventIndex, Indexer, IndexMismatch, handled_events, handles, reconcile
from chain_client.receivables import Fragment
from tests.conftest import DAY, Parties, doc_hash, issue_active

MEMO_A = b"\xaa" * 32
MEMO_C = b"\xcc" * 32


def new_index(scf: ScfClient, path: str | Path = ":memory:", **kwargs: Any) -> tuple[EventIndex, Indexer]:
    index = EventIndex(path)
    return index, Indexer(index, scf.w3, scf.contracts, **kwargs)


def comparable(state: ReceivableState) -> ReceivableState:
    """Matured is derived from the clock: the chain's `now` and the index's can differ by a block."""
    return ReceivableState.ACTIVE if state is ReceivableState.MATURED else state


def chain_view(scf: ScfClient, slots: list[int]) -> dict[int, Any]:
    view: dict[int, Any] = {}
    for slot in slots:
        r = scf.receivables.receivable(slot)
        fragments = {f.token_id: (f.owner, f.value, f.parent_id, f.frozen) for f in scf.receivables.fragments_of(slot)}
        view[slot] = (r.debtor, r.face_value, r.maturity, comparable(r.state), r.repaid, r.redeemed_value, fragments)
    return view


def index_view(index: EventIndex) -> dict[int, Any]:
    view: dict[int, Any] = {}
    for r in index.receivables():
        tree = index.tree(r.slot)
        assert tree is not None
        fragments = {
            f.token_id: (f.owner, f.value, token_id_of(r.slot, f.parent_sequence) if f.parent_sequence else 0, f.frozen)
            for f in tree.live
        }
        view[r.slot] = (r.debtor, r.face_value, r.maturity, comparable(r.state), r.repaid, r.redeemed_value, fragments)
    return view


def raw(index: EventIndex) -> sqlite3.Connection:
    """A second connection to the index's file, as a damaged disk or another program would write to it (the
    index's own connection stays inside the package)."""
    assert index.path != ":memory:", "raw access needs an index file"
    return sqlite3.connect(index.path, isolation_level=None)


def dump(index: EventIndex) -> dict[str, list[Any]]:
    tables = ["events", "blocks", "receivables", "fragments", "members", "credit_lines", "cash_balances"]
    tables += ["settings", "financings", "cancelled_requests"]
    with closing(raw(index)) as conn:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in tables}


# ---------------------------------------------------------------------------------------------- random runs


class RandomRun:
    """Random operations by the session's parties; refusals are expected now and then and change nothing."""

    def __init__(self, scf: ScfClient, p: Parties, rng: random.Random) -> None:
        self.scf, self.p, self.rng = scf, p, rng
        self.holders = [p.s1, p.s2, p.s3, p.s4, p.financier]
        self.accounts: dict[str, LocalAccount] = {a.address: a for a in [*self.holders, p.core, p.core2, p.operator]}
        self.slots: list[int] = []
        self.tokens: list[int] = []
        self.pending: list[tuple[int, LocalAccount]] = []  # (token id, its debtor)
        self.s4_suspended = False
        self.repaid: set[int] = set()  # slots with cash in escrow for their holders
        self.refused = 0
        rt = scf.receivables
        for core in (p.core, p.core2):
            scf.cash.mint(p.operator, core.address, 10**12)
            scf.cash.approve(core, rt.address, 10**12)
        # Before maturity: mostly issuing and moving value; then mostly repayment.
        self.trading: list[tuple[int, Callable[[], None]]] = [
            (10, self.issue),
            (8, self.decide_pending),
            (14, self.split),
            (6, self.split_batch),
            (6, self.merge),
            (8, self.transfer),
            (5, self.freeze),
            (3, self.suspend),
            (2, self.approve_value),
            (2, self.pass_time),
            (3, self.repay),
        ]
        self.repaying: list[tuple[int, Callable[[], None]]] = [
            (8, self.repay),
            (6, self.redeem),
            (4, self.settle),
            (2, self.mark_overdue),
            (2, self.pass_time),
            (2, self.transfer),
        ]

    def step(self, ops: list[tuple[int, Callable[[], None]]]) -> None:
        weights = [w for w, _ in ops]
        (op,) = self.rng.choices([o for _, o in ops], weights)
        try:
            op()
        except ContractError:
            self.refused += 1

    def fragment(self, token_id: int) -> Fragment | None:
        try:
            return self.scf.receivables.fragment(token_id)
        except NonexistentToken:
            return None

    def pick(self, min_value: int = 0, among: list[int] | None = None) -> Fragment | None:
        """A random live fragment holding at least `min_value` (a few tries: burned ones are skipped)."""
        candidates = list(self.tokens if among is None else among)
        self.rng.shuffle(candidates)
        for token_id in candidates[:8]:
            f = self.fragment(token_id)
            if f is not None and f.value >= min_value:
                return f
        return None

    def issue(self) -> None:
        debtor = self.rng.choice([self.p.core, self.p.core2])
        holder = self.rng.choice(self.holders[:4])
        maturity = now(self.scf.w3) + self.rng.randint(2, 40) * DAY
        r = self.scf.receivables.issue(debtor, holder.address, self.rng.randint(100, 10**7), maturity, doc_hash())
        self.slots.append(r.slot)
        self.tokens.append(r.token_id)
        self.pending.append((r.token_id, debtor))

    def decide_pending(self) -> None:
        if not self.pending:
            return
        token_id, debtor = self.pending.pop(self.rng.randrange(len(self.pending)))
        holder = self.accounts[self.scf.receivables.owner_of(token_id)]
        roll = self.rng.random()
        if roll < 0.7:
            self.scf.receivables.accept(holder, token_id)
        elif roll < 0.85:
            self.scf.receivables.reject(holder, token_id)
        else:
            self.scf.receivables.cancel(debtor, slot_of(token_id))

    def split(self) -> None:
        f = self.pick(1)
        if f:
            to = self.rng.choice(self.holders)
            r = self.scf.receivables.transfer_value(
                self.accounts[f.owner], f.token_id, to.address, self.rng.randint(1, f.value)
            )
            self.tokens += r.new_token_ids

    def split_batch(self) -> None:
        f = self.pick(3)
        if f:
            n = self.rng.randint(2, 3)
            values = [self.rng.randint(1, f.value // n) for _ in range(n)]
            payments = [(self.rng.choice(self.holders).address, v) for v in values]
            r = self.scf.receivables.split(self.accounts[f.owner], f.token_id, payments, memo=doc_hash())
            self.tokens += r.new_token_ids

    def merge(self) -> None:
        a = self.pick(1)
        if a:
            b = self.pick(among=[t for t in self.tokens if slot_of(t) == a.slot and t != a.token_id])
            if b:
                self.scf.receivables.merge(self.accounts[a.owner], a.token_id, b.token_id, self.rng.randint(1, a.value))

    def transfer(self) -> None:
        f = self.pick()
        if f:
            self.scf.receivables.transfer(self.accounts[f.owner], self.rng.choice(self.holders).address, f.token_id)

    def freeze(self) -> None:
        f = self.pick()
        if f and f.frozen:
            self.scf.receivables.unfreeze(self.p.operator, f.token_id)
        elif f:
            self.scf.receivables.freeze(self.p.operator, f.token_id, doc_hash())

    def suspend(self) -> None:
        if self.s4_suspended:
            self.scf.membership.reinstate(self.p.operator, self.p.s4.address)
        else:
            self.scf.membership.suspend(self.p.operator, self.p.s4.address)
        self.s4_suspended = not self.s4_suspended

    def approve_value(self) -> None:  # ApprovalValue has no projection: stored, then ignored
        f = self.pick(1)
        if f:
            self.scf.receivables.approve_value(self.accounts[f.owner], f.token_id, self.p.auditor.address, 1)

    def pass_time(self) -> None:
        advance_time(self.scf.w3, self.rng.randint(1, 15) * DAY)

    def repay(self) -> None:
        if self.slots:
            slot = self.rng.choice(self.slots)
            r = self.scf.receivables.receivable(slot)
            outstanding = max(r.face_value - r.repaid, 1)
            amount = outstanding if self.rng.random() < 0.4 else self.rng.randint(1, outstanding)  # often in full
            self.scf.receivables.repay(self.accounts[r.debtor], slot, amount)
            self.repaid.add(slot)

    def redeem(self) -> None:
        f = self.pick(among=[t for t in self.tokens if slot_of(t) in self.repaid])
        if f:
            self.scf.receivables.redeem(self.accounts[f.owner], f.token_id)

    def settle(self) -> None:
        if self.repaid:
            slot = self.rng.choice(sorted(self.repaid))
            ids = [t for t in self.tokens if slot_of(t) == slot]
            self.scf.receivables.settle(self.p.operator, slot, ids)

    def mark_overdue(self) -> None:
        if self.slots:
            self.scf.receivables.mark_overdue(self.p.operator, self.rng.choice(self.slots))


@pytest.mark.parametrize("seed", [7, 2026])
def test_the_index_equals_the_chain_after_random_operations_and_repairs_lost_rows(
    scf: ScfClient, parties: Parties, seed: int, tmp_path: Path
) -> None:
    run = RandomRun(scf, parties, random.Random(seed))
    incremental, indexer = new_index(scf, tmp_path / "incremental.sqlite")
    for step in range(100):
        if step == 70:
            advance_time(scf.w3, 45 * DAY)  # every receivable matures
        run.step(run.trading if step < 70 else run.repaying)
        if step % 15 == 0:
            indexer.sync()  # the index is read while the chain moves on
    indexer.sync()
    assert len(run.slots) >= 5
    assert run.refused < 75  # refusals (moves after maturity, nothing to redeem...) change nothing
    conn = raw(incremental)
    seen = {name for (name,) in conn.execute("SELECT DISTINCT event FROM events")}
    assert {"FragmentsSplit", "Frozen", "ReceivableAccepted", "RepaymentReceived", "FragmentRedeemed"} <= seen

    # Equal to the chain, read independently fragment by fragment...
    assert index_view(incremental) == chain_view(scf, run.slots)
    # ...to reconcile's thorough comparison (owners, values, parents, states, counts, credit lines, cash)...
    assert reconcile(incremental, scf) == []
    # ...and to an index built in one pass: syncing in steps changes nothing.
    one_pass, second = new_index(scf, tmp_path / "one-pass.sqlite")
    second.sync()
    expected = dump(one_pass)
    assert dump(incremental) == expected
    assert incremental.event_count() > 100

    # Rows lost from the end of the event table: the next sync notices, rewinds and reads them again.
    conn.execute(
        """DELETE FROM events WHERE (block_number, tx_index, log_index) IN
           (SELECT block_number, tx_index, log_index FROM events
            ORDER BY block_number DESC, tx_index DESC, log_index DESC LIMIT 9)"""
    )
    report = indexer.sync()
    assert report.rewound_to is not None
    assert dump(incremental) == expected  # (the one-pass index equals the chain, shown above)

    # Rows lost from a projected table: rebuilt from the stored events.
    conn.execute(
        """DELETE FROM fragments WHERE (slot, sequence) IN
           (SELECT slot, sequence FROM fragments ORDER BY slot DESC, sequence DESC LIMIT 3)"""
    )
    conn.close()
    assert dump(incremental) != expected
    indexer.sync()
    assert dump(incremental) == expected


def test_reconcile_reports_each_tampered_field(scf: ScfClient, parties: Parties, tmp_path: Path) -> None:
    p = parties
    r = issue_active(scf, p, 1_000_00)
    (child,) = scf.receivables.transfer_value(p.s1, r.token_id, p.s2.address, 300_00).new_token_ids
    index, indexer = new_index(scf, tmp_path / "index.sqlite")
    indexer.sync()
    assert reconcile(index, scf) == []
    seq = sequence_of(child)
    with closing(raw(index)) as conn:
        conn.execute("UPDATE fragments SET value = value + 1, owner = ? WHERE sequence = ?", (p.s3.address, seq))
        conn.execute("UPDATE receivables SET state = ?", (int(ReceivableState.REPAID),))
    found = {(d.what, d.field) for d in reconcile(index, scf)}
    assert {
        ("fragment", "value"),
        ("fragment", "owner"),
        ("receivable", "state"),
        ("receivable", "live value"),
    } <= found
    assert ("owner count", "fragments held") in found
    text = [str(d) for d in reconcile(index, scf)]
    assert any("in the index" in t and "on chain" in t for t in text)


# ---------------------------------------------------------------------------------------------- trace queries


def test_four_tiers_path_tree_and_tier_totals(scf: ScfClient, parties: Parties) -> None:
    p = parties
    r = issue_active(scf, p, 1_000_000_00)
    rt = scf.receivables
    (t2,) = rt.split(p.s1, r.token_id, [(p.s2.address, 400_000_00)], memo=MEMO_A).new_token_ids
    (t3,) = rt.transfer_value(p.s2, t2, p.s3.address, 150_000_00).new_token_ids
    t4a, t4b = rt.split(p.s3, t3, [(p.s4.address, 60_000_00), (p.s4.address, 10_000_00)], memo=MEMO_C).new_token_ids
    index, indexer = new_index(scf)
    indexer.sync()

    hops = index.path_to_root(t4a)
    assert [h.token_id for h in hops] == [t4a, t3, t2, r.token_id]
    assert [h.tier for h in hops] == [4, 3, 2, 1]
    assert [h.holder for h in hops] == [p.s4.address, p.s3.address, p.s2.address, p.s1.address]
    assert [h.from_holder for h in hops] == [p.s3.address, p.s2.address, p.s1.address, p.core.address]
    assert [h.created_value for h in hops] == [60_000_00, 150_000_00, 400_000_00, 1_000_000_00]
    assert [h.value for h in hops] == [60_000_00, 80_000_00, 250_000_00, 600_000_00]
    document = "0x" + rt.receivable(r.slot).document_hash.hex()
    assert [h.memo for h in hops] == ["0x" + MEMO_C.hex(), None, "0x" + MEMO_A.hex(), document]
    times = [h.block_time for h in hops]
    assert times == sorted(times, reverse=True)
    assert times[0] == scf.w3.eth.get_block(hops[0].block_number)["timestamp"]

    tree = index.tree(r.slot)
    assert tree is not None
    assert tree.receivable.face_value == 1_000_000_00
    assert tree.receivable.state is ReceivableState.ACTIVE
    assert [f.token_id for f in tree.children[0]] == [r.token_id]
    assert [f.token_id for f in tree.children[1]] == [t2]
    assert [f.token_id for f in tree.children[sequence_of(t3)]] == [t4a, t4b]
    assert {f.token_id: f.tier for f in tree.fragments} == {r.token_id: 1, t2: 2, t3: 3, t4a: 4, t4b: 4}
    assert sum(f.value for f in tree.live) == 1_000_000_00

    totals = {t.tier: (t.fragments, t.holders, t.value) for t in index.tier_totals(r.slot)}
    assert totals == {1: (1, 1, 600_000_00), 2: (1, 1, 250_000_00), 3: (1, 1, 80_000_00), 4: (2, 1, 70_000_00)}


def test_tier_follows_moves_financiers_keep_the_tier_they_bought_at(scf: ScfClient, parties: Parties) -> None:
    p = parties
    rt = scf.receivables
    r = issue_active(scf, p, 1_000_00)
    (t2,) = rt.transfer_value(p.s1, r.token_id, p.s2.address, 500_00).new_token_ids
    (t3,) = rt.transfer_value(p.s2, t2, p.s3.address, 100_00).new_token_ids
    rt.transfer(p.s3, p.s1.address, t3)  # back to the tier-1 supplier: one deeper than its sender, tier 4
    (own,) = rt.transfer_value(p.s1, r.token_id, p.s1.address, 50_00).new_token_ids  # to oneself: same tier
    rt.transfer(p.s2, p.financier.address, t2)  # financed: keeps tier 2
    (onward,) = rt.transfer_value(p.financier, t2, p.s4.address, 10_00).new_token_ids  # and onward from tier 2: tier 3
    rt.freeze(p.operator, own)
    index, indexer = new_index(scf)
    indexer.sync()
    tree = index.tree(r.slot)
    assert tree is not None
    flags = {f.token_id: (f.tier, f.frozen, f.financed, f.burned) for f in tree.fragments}
    assert flags == {
        r.token_id: (1, False, False, False),
        t2: (2, False, True, False),
        t3: (4, False, False, False),
        own: (1, True, False, False),
        onward: (3, False, False, False),
    }

    def tier(token_id: int) -> tuple[int, bool]:
        f = index.fragment(token_id)
        assert f is not None
        return f.tier, f.financed

    assert tier(t3) == (4, False)
    assert tier(own) == (1, False)
    assert tier(t2) == (2, True)
    assert tier(onward) == (3, False)
    held = {h.token_id: h.tier for h in index.holdings(p.s1.address)}
    assert held == {r.token_id: 1, t3: 4, own: 1}
    totals = {t.tier: t.financed_value for t in index.tier_totals(r.slot)}
    assert totals[2] == 390_00


def test_financing_through_the_desk_keeps_the_tier_and_is_recorded(scf: ScfClient, parties: Parties) -> None:
    p, rt = parties, scf.receivables
    r = issue_active(scf, p, 200_000_00)
    (t2,) = rt.transfer_value(p.s1, r.token_id, p.s2.address, 80_000_00).new_token_ids
    scf.cash.mint(p.operator, p.financier.address, 10_000_000_00)
    scf.cash.approve(p.financier, scf.financing.address, 10_000_000_00)
    scf.financing.set_exposure_limit(p.financier, p.core.address, 1_000_000_00)
    rt.set_approval_for_all(p.s2, scf.financing.address, True)
    deadline = now(scf.w3) + DAY
    part = FinancingRequest(token_id=t2, value=30_000_00, price=29_500_00, nonce=1, deadline=deadline)
    first = scf.financing.finance(p.financier, part, scf.financing.sign(p.s2, part))
    bought = first.financed_token_id
    rest = FinancingRequest(token_id=t2, value=50_000_00, price=49_000_00, recourse=True, nonce=2, deadline=deadline)
    whole = scf.financing.finance(p.financier, rest, scf.financing.sign(p.s2, rest)).financed_token_id
    assert whole == t2  # the whole remaining fragment changed hands
    scf.financing.cancel(p.s2, 9)  # a request signed with nonce 9 is withdrawn
    index, indexer = new_index(scf)
    indexer.sync()

    for token_id in (bought, t2):
        f = index.fragment(token_id)
        assert f is not None
        assert (f.owner, f.tier, f.financed) == (p.financier.address, 2, True)
    deals = index.financings(financier=p.financier.address)
    assert [(d.token_id, d.source_id, d.seller, d.value, d.price, d.recourse) for d in deals] == [
        (bought, t2, p.s2.address, 30_000_00, 29_500_00, False),
        (t2, t2, p.s2.address, 50_000_00, 49_000_00, True),
    ]
    (found,) = index.financings(request_hashes=[first.request_hash, "0x" + "00" * 32])
    assert (found.token_id, found.tx_hash, found.block_time) == (bought, first.tx_hash, deals[0].block_time)
    assert index.cancelled_nonces([p.s2.address, p.s3.address]) == {(p.s2.address, 9)}
    assert [h.tier for h in index.path_to_root(bought)] == [2, 2, 1]
    totals = {t.tier: (t.value, t.financed_value) for t in index.tier_totals(r.slot)}
    assert totals == {1: (120_000_00, 0), 2: (80_000_00, 80_000_00)}
    assert reconcile(index, scf) == []


def test_holdings_show_debtor_maturity_state_and_flags(scf: ScfClient, parties: Parties) -> None:
    p = parties
    a = issue_active(scf, p, 300_00, tenor=10 * DAY)
    b = issue_active(scf, p, 700_00, tenor=50 * DAY, supplier=p.s2)
    (piece,) = scf.receivables.transfer_value(p.s2, b.token_id, p.s1.address, 200_00).new_token_ids
    scf.receivables.freeze(p.operator, piece)
    index, indexer = new_index(scf)
    indexer.sync()
    held = index.holdings(p.s1.address)
    assert sorted((h.token_id, h.value, h.tier, h.frozen) for h in held) == sorted(
        [(a.token_id, 300_00, 1, False), (piece, 200_00, 2, True)]
    )
    by_id = {h.token_id: h for h in held}
    assert by_id[a.token_id].debtor == p.core.address
    assert by_id[a.token_id].maturity == a.maturity
    assert by_id[piece].parent_id == b.token_id
    assert all(h.state is ReceivableState.ACTIVE for h in held)
    assert index.holdings(p.outsider.address) == []

    advance_time(scf.w3, 11 * DAY)  # the first one matures; the index learns the time from the next block
    indexer.sync()
    states = {h.token_id: h.state for h in index.holdings(p.s1.address)}
    assert states == {a.token_id: ReceivableState.MATURED, piece: ReceivableState.ACTIVE}


def test_receivables_filter_by_debtor_state_maturity_and_value(scf: ScfClient, parties: Parties) -> None:
    p = parties
    small = issue_active(scf, p, 100_00, tenor=10 * DAY)
    large = issue_active(scf, p, 1_000_00, tenor=50 * DAY)
    other = scf.receivables.issue(p.core2, p.s3.address, 500_00, now(scf.w3) + 30 * DAY, doc_hash())  # pending
    index, indexer = new_index(scf)
    indexer.sync()

    def slots(**filters: Any) -> set[int]:
        return {r.slot for r in index.receivables(**filters)}

    assert slots() == {small.slot, large.slot, other.slot}
    assert slots(debtor=p.core.address) == {small.slot, large.slot}
    assert slots(state=ReceivableState.PENDING) == {other.slot}
    assert slots(state=ReceivableState.ACTIVE, min_value=500_00) == {large.slot}
    assert slots(matures_from=now(scf.w3) + 20 * DAY) == {large.slot, other.slot}
    assert slots(matures_to=now(scf.w3) + 40 * DAY, debtor=p.core.address) == {small.slot}
    row = index.receivable(large.slot)
    assert row is not None
    assert (row.live_fragments, row.live_value, row.supplier) == (1, 1_000_00, p.s1.address)
    assert index.resolve_slot(large.token_id) == large.slot
    assert index.resolve_slot(int.from_bytes(scf.receivables.receivable(large.slot).document_hash, "big")) == large.slot
    assert index.resolve_slot(12345) is None


# ---------------------------------------------------------------------------------------------- syncing


def test_the_index_survives_a_restart_without_reading_anything_twice(
    scf: ScfClient, parties: Parties, tmp_path: Path
) -> None:
    path = tmp_path / "index.sqlite"
    first = issue_active(scf, parties)
    index, indexer = new_index(scf, path)
    indexer.sync()
    cursor, events = index.synced_block, index.event_count()
    index.close()

    reopened, again = new_index(scf, path)
    report = again.sync()
    assert (report.from_block, report.logs) == (cursor + 1, 0)  # type: ignore[operator]
    second = issue_active(scf, parties, supplier=parties.s2)
    report = again.sync()
    assert report.logs > 0
    assert reopened.event_count() > events
    assert {r.slot for r in reopened.receivables()} == {first.slot, second.slot}
    assert reconcile(reopened, scf) == []


def test_confirmations_hold_back_the_newest_blocks(scf: ScfClient, parties: Parties) -> None:
    index, indexer = new_index(scf, confirmations=2)
    r = issue_active(scf, parties)  # two transactions, two blocks
    indexer.sync()
    assert index.synced_block == scf.w3.eth.block_number - 2
    assert index.receivable(r.slot) is None
    embedded_tester(scf.w3).mine_blocks(1)
    indexer.sync()
    row = index.receivable(r.slot)
    assert row is not None
    assert row.state is ReceivableState.PENDING  # the acceptance is one block short of two confirmations
    embedded_tester(scf.w3).mine_blocks(1)
    indexer.sync()
    row = index.receivable(r.slot)
    assert row is not None
    assert row.state is ReceivableState.ACTIVE


def test_a_reorganisation_is_rewound(scf: ScfClient, parties: Parties) -> None:
    index, indexer = new_index(scf)
    fork = snapshot(scf.w3)
    lost = issue_active(scf, parties)
    indexer.sync()
    assert index.receivable(lost.slot) is not None
    revert_to(scf.w3, fork)  # the chain forgets those blocks...
    kept = issue_active(scf, parties, supplier=parties.s2)  # ...and other blocks take their numbers
    embedded_tester(scf.w3).mine_blocks(3)
    report = indexer.sync()
    assert report.rewound_to is not None
    assert index.receivable(lost.slot) is None
    assert index.receivable(kept.slot) is not None
    assert reconcile(index, scf) == []


def test_events_without_a_handler_or_an_abi_are_stored_and_ignored(
    scf: ScfClient, parties: Parties, tmp_path: Path
) -> None:
    r = issue_active(scf, parties)
    scf.receivables.approve_value(parties.s1, r.token_id, parties.s2.address, 5)  # ApprovalValue: no handler
    scf.cash.mint(parties.operator, parties.s1.address, 7)
    contracts = {"ReceivableToken": scf.receivables.address, "NotInArtifacts": scf.cash.address}
    index = EventIndex(tmp_path / "index.sqlite")
    Indexer(index, scf.w3, contracts).sync()
    with closing(raw(index)) as conn:
        names = {row[0] for row in conn.execute("SELECT event FROM events")}
    assert {"ApprovalValue", "?"} <= names
    assert index.receivable(r.slot) is not None
    assert ("ReceivableToken", "TransferValue") in handled_events()
    assert ("ReceivableToken", "ApprovalValue") not in handled_events()

    # A later program that handles the event: the next sync rebuilds the projection from the stored events.
    @handles("ReceivableToken", "ApprovalValue")
    def on_approval_value(p: Any, e: Any) -> None:
        p.db.execute("INSERT OR REPLACE INTO settings VALUES ('last approval value', ?)", (e.args["_value"],))

    try:
        assert index.setting("last approval value") is None
        indexer = Indexer(index, scf.w3, contracts)
        indexer.sync()
        assert index.setting("last approval value") == 5
    finally:
        HANDLERS.pop(("ReceivableToken", "ApprovalValue"))


def test_a_projection_another_program_made_is_rebuilt_when_the_index_is_opened(
    scf: ScfClient, parties: Parties, tmp_path: Path
) -> None:
    issue_active(scf, parties)
    index, indexer = new_index(scf, tmp_path / "index.sqlite")
    indexer.sync()
    expected = dump(index)
    index.close()
    with closing(raw(index)) as conn:  # as an earlier program left it: other tables, another signature
        conn.execute("DROP TABLE financings")
        conn.execute("CREATE TABLE financings (slot TEXT NOT NULL, sequence INTEGER NOT NULL)")
        conn.execute("DELETE FROM fragments")
        conn.execute("UPDATE meta SET value = 'an earlier projection' WHERE key = 'projection'")
    reopened = EventIndex(index.path, create=False)
    assert dump(reopened) == expected
    assert reopened.financings() == []


def test_an_index_refuses_another_deployment(scf: ScfClient, tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    index, indexer = new_index(scf, path)
    indexer.sync()
    index.close()
    other = {**scf.contracts}
    other.pop("SettlementToken")
    with pytest.raises(IndexMismatch, match="another deployment"):
        Indexer(EventIndex(path), scf.w3, other)
    path2 = tmp_path / "not-an-index"
    path2.write_text("hello")
    with pytest.raises(ValueError, match="not an index database"):
        EventIndex(path2)
    with pytest.raises(FileNotFoundError):
        EventIndex(tmp_path / "missing.sqlite", create=False)


def test_unfinished_batches_leave_the_index_unchanged(scf: ScfClient, parties: Parties, tmp_path: Path) -> None:
    """A failure while writing a batch (here: the node disappears mid-batch) rolls the whole batch back."""
    index, indexer = new_index(scf, tmp_path / "index.sqlite")
    indexer.sync()
    before = dump(index), index.synced_block
    issue_active(scf, parties)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("node went away")

    real = scf.w3.eth.get_block
    scf.w3.eth.get_block = broken  # type: ignore[method-assign]
    try:
        with pytest.raises(ConnectionError):
            indexer.sync()
    finally:
        scf.w3.eth.get_block = real  # type: ignore[method-assign]
    assert (dump(index), index.synced_block) == before
    indexer.sync()
    assert reconcile(index, scf) == []


def test_sqlite_is_used_through_its_indexes(tmp_path: Path) -> None:
    index = EventIndex(tmp_path / "index.sqlite")

    def plan(sql: str) -> str:
        with closing(raw(index)) as conn:
            return " ".join(str(row) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", ("x",)))

    assert "fragments_by_owner" in plan("SELECT * FROM fragments WHERE owner = ? AND burned = 0")
    assert "PRIMARY KEY" in plan("SELECT * FROM fragments WHERE slot = ?")
    assert "financings_by_financier" in plan("SELECT * FROM financings WHERE financier = ?")
    assert "financings_by_request" in plan("SELECT * FROM financings WHERE request_hash = ?")


def test_following_rides_out_an_unreachable_node(scf: ScfClient, parties: Parties) -> None:
    index, indexer = new_index(scf)
    issue_active(scf, parties)
    real_sync = indexer.sync
    calls: list[str] = []

    def flaky_sync(**kwargs: Any) -> Any:
        calls.append("sync")
        if len(calls) == 1:
            raise ConnectionRefusedError("connection refused")
        return real_sync(**kwargs)

    indexer.sync = flaky_sync  # type: ignore[method-assign]
    stop = threading.Event()
    outages: list[BaseException] = []
    reports: list[Any] = []

    def on_sync(report: Any) -> None:
        reports.append(report)
        stop.set()

    indexer.follow(0.01, stop=stop, on_sync=on_sync, on_unreachable=outages.append)
    assert [type(e) for e in outages] == [ConnectionRefusedError]
    assert len(reports) == 1
    assert reports[0].logs > 0
    assert len(index.receivables()) == 1
