"""`bench.py scaling`: what repayment, a settlement page and the event index's queries cost as one receivable grows
from 10 to 20,000 fragments, each size beside the smallest measured in the same run (flat is 1.00x).

One receivable per size, all issued to the same supplier and split over two tiers by real 100-way splits on the
embedded chain (or a node; `chain_client.fanout`), indexed into a SQLite file; then the queries are timed (median
of repeated calls, with `gc.freeze()` as a long-running service does after start-up), time is moved to maturity,
each receivable is repaid in full in one transaction, and one page of 100 fragments is settled.
"""

from __future__ import annotations

import gc
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain_client import Role, ScfClient, accounts_of, deploy_all, fanout, new_account
from chain_client.chain import chain_of
from chain_client.constants import DAY
from chain_client.devchain import advance_time, now
from chain_client.ids import token_id_of
from chain_client.index import EventIndex, Indexer

HOLDERS = 50
PAGE = 100  # fragments settled in the measured page
SIZES = (10, 100, 1_000, 5_000, 20_000)
QUICK_SIZES = (10, 120)


@dataclass
class Size:
    fragments: int
    slot: int = 0
    deepest: int = 0
    repay_gas: int = 0
    repay_ms: float = 0.0
    settle_page: int = 0  # fragments in the settled page
    settle_page_gas: int = 0
    settle_page_ms: float = 0.0
    queries_ms: dict[str, float] | None = None


def timed_ms(fn: Callable[[], Any], repeat: int) -> float:
    """Median milliseconds of `repeat` calls after one warm-up, with the objects alive now frozen out of the
    collector's sight (`gc.freeze()`)."""
    fn()
    gc.collect()
    gc.freeze()
    try:
        samples = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t0) * 1000)
    finally:
        gc.unfreeze()
    return statistics.median(samples)


def build(w3: Web3, sizes: tuple[int, ...]) -> tuple[ScfClient, LocalAccount, LocalAccount, list[Size], str]:
    operator = accounts_of(w3)[0]
    scf = ScfClient(w3, deploy_all(w3, operator))
    fund = chain_of(w3).sender.funding_for(sum(sizes) // fanout.BATCH + 20 * len(sizes) + 100)
    core = new_account(w3, fund_wei=fund, funder=operator)
    members = [new_account(w3, fund_wei=fund, funder=operator) for _ in range(HOLDERS)]
    scf.membership.admit(operator, core.address, Role.CORE_ENTERPRISE)
    for m in members:
        scf.membership.admit(operator, m.address, Role.SUPPLIER)
    rt = scf.receivables
    rt.set_credit_line(operator, core.address, 2**48 - 1)
    scf.cash.mint(operator, core.address, 10**14)
    scf.cash.approve(core, rt.address, 10**14)
    first = members[0]
    out = []
    maturity = now(w3) + 30 * DAY
    for n in sizes:
        r = rt.issue(core, first.address, 10**11, maturity, os.urandom(32))
        rt.accept(first, r.token_id)
        size = Size(n, r.slot)
        size.deepest = fanout.grow(scf, first, r.token_id, members, n).deepest
        out.append(size)
    return scf, operator, core, out, members[1].address


def measure(w3: Web3, sizes: tuple[int, ...], repeat: int) -> tuple[list[Size], dict[str, float]]:
    """Each size's repay and settle-a-page gas and time and its query medians; and the indexing rate."""
    scf, operator, core, built, busy = build(w3, sizes)
    rt = scf.receivables
    with tempfile.TemporaryDirectory(prefix="scf-scaling-") as folder:
        index = EventIndex(Path(folder) / "index.sqlite")
        t0 = time.perf_counter()
        Indexer(index, w3, scf.contracts).sync()
        synced = time.perf_counter() - t0
        events = index.event_count()
        for size in built:
            size.queries_ms = _queries(index, size, busy, repeat)
        index.close()
    advance_time(w3, 31 * DAY)
    for size in built:
        face = rt.receivable(size.slot).outstanding
        t0 = time.perf_counter()
        size.repay_gas = rt.repay(core, size.slot, face).gas_used
        size.repay_ms = (time.perf_counter() - t0) * 1000
        page = _page(size)
        size.settle_page = len(page)
        t0 = time.perf_counter()
        size.settle_page_gas = rt.settle(operator, size.slot, page, gas=60_000 + 60_000 * len(page)).gas_used
        size.settle_page_ms = (time.perf_counter() - t0) * 1000
    return built, {"events": float(events), "index_seconds": synced, "events_per_second": events / synced}


def _queries(index: EventIndex, size: Size, busy: str, repeat: int) -> dict[str, float]:
    return {
        "tree(slot)": timed_ms(lambda: index.tree(size.slot), repeat),
        "tier_totals(slot)": timed_ms(lambda: index.tier_totals(size.slot), repeat),
        "path_to_root(deepest)": timed_ms(lambda: index.path_to_root(size.deepest), repeat),
        "holdings(busiest holder)": timed_ms(lambda: index.holdings(busy), repeat),
    }


def _page(size: Size) -> list[int]:
    """The first `PAGE` fragments of the receivable (all live: nothing is redeemed before)."""
    return [token_id_of(size.slot, seq) for seq in range(1, min(size.fragments, PAGE) + 1)]
